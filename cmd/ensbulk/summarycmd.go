package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ensbulk/ensbulk/report"
)

// newSummaryCmd reads a report back: counts by status, the most frequent
// problems, and the command that reruns the rows that are not ok.
func newSummaryCmd(env *Env) *cobra.Command {
	var top int
	c := &cobra.Command{
		Use:   "summary REPORT",
		Short: "Print a report's counts by status and by code and message",
		Example: `  ensbulk summary changes.report.csv
  ensbulk summary changes.report.jsonl --top 20`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
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
				fmt.Fprint(w, retryAdvice(path, m, err == nil, notOK))
			}
			return nil
		},
	}
	c.Flags().IntVar(&top, "top", 10, "how many distinct problems to list")
	return c
}
