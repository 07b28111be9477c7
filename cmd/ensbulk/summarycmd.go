package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/htmlpage"
)

// newSummaryCmd reads a report back: counts by status, the most frequent
// problems, and the command that reruns the rows that are not ok.
func newSummaryCmd(env *Env) *cobra.Command {
	var top int
	var page string
	c := &cobra.Command{
		Use:   "summary REPORT",
		Short: "Print a report's counts by status and by code and message",
		Example: `  ensbulk summary changes.report.csv
  ensbulk summary changes.report.jsonl --top 20
  ensbulk summary changes.plan.report.csv --html plan.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if page != "" {
				return writePage(env, path, page)
			}
			c, err := report.Count(path)
			if err != nil {
				return fileErr(err)
			}
			w := env.Stdout
			fmt.Fprintf(w, "%s: %s\n", path, plural(c.Rows, "row", "rows"))
			report.WriteStatusTable(w, c.ByStatus)
			if len(c.Errors) > 0 {
				fmt.Fprintln(w, "by status, code and message:")
				report.WriteErrorTable(w, c.Errors, top)
			}
			notOK := c.Rows - c.Successes()
			if notOK > 0 {
				m, err := report.ReadMeta(path)
				fmt.Fprint(w, summaryAdvice(path, m, err == nil, c, notOK))
			}
			return nil
		},
	}
	c.Flags().IntVar(&top, "top", 10, "how many distinct problems to list")
	c.Flags().StringVar(&page, "html", "", "write one self-contained HTML page of the report to `PAGE` (no network when opened; prints)")
	return c
}

// summaryAdvice is what the summary of a report with notOK rows that are
// not ok says to run next: the step the run's own summary printed. A run
// that did not go through its input (interrupted, aborted, stopped) is
// continued with --resume; a plan or validation is done again (it
// replaces its report); a finished run's rows not ok are retried.
func summaryAdvice(path string, m report.Meta, haveMeta bool, c *report.Counts, notOK int) string {
	switch {
	case haveMeta && m.Mode != "" && m.Finished.IsZero() && c.ByStatus[batch.StatusSkipped] > 0:
		n := c.ByStatus[batch.StatusSkipped]
		return fmt.Sprintf("the %s did not finish (%s never attempted): to continue it:\n  %s\n", m.Mode, plural(n, "row", "rows"), job.ResumeCommand(m.Mode, path, m))
	case haveMeta && (m.Mode == "plan" || m.Mode == "validate"):
		return fmt.Sprintf("to %s again after fixing the %s not ok (it replaces this report):\n  %s\n", m.Mode, plural(notOK, "row", "rows"), job.AgainCommand(m.Mode, path, m))
	}
	return job.RetryAdvice(path, m, haveMeta, notOK)
}

// writePage writes the report's HTML page. The page picks which command
// to offer from the rows; only cmd spells command lines, so both are
// given.
func writePage(env *Env, path, page string) error {
	m, err := report.ReadMeta(path)
	o := htmlpage.Options{Report: path, Page: page}
	if err == nil {
		verb := m.Mode
		if verb == "" {
			verb = "run"
		}
		o.Resume = job.ResumeCommand(verb, path, m)
		if verb != "plan" {
			o.Retry = job.RetryCommand(path, m)
		}
	} else {
		o.Retry = job.RetryCommand(path, report.Meta{})
	}
	res, err := htmlpage.Write(o)
	if err != nil {
		return fileErr(err)
	}
	fmt.Fprintf(env.Stdout, "wrote %s: the page of %s (%s, %s)\n", page, path, plural(res.Rows, "row", "rows"), plural(res.Bytes, "byte", "bytes"))
	return nil
}
