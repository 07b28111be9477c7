package job

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/summaryfile"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// plural is n with the word in the form n takes: "1 row", "2 rows".
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// printSummary is the end of every run, on stderr: a few lines, or with
// -q the final line alone.
func (j *job) printSummary(w io.Writer, sum *batch.Summary, c *report.Counts, code int, result error) {
	o, reportPath, in := j.o, j.reportPath, j.in
	verb := o.commandName()
	outcome := outcomeWords(sum)
	next := nextStep(o, sum, KindOf(result), reportPath, in)
	if o.Quiet {
		var counts []string
		for _, st := range batch.Statuses {
			if n := c.ByStatus[st]; n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n, st))
			}
		}
		line := fmt.Sprintf("ensbulk %s %s: %s in %s: %s (%s); report %s", verb, in.name, outcome,
			sum.Duration.Round(time.Millisecond), plural(c.Rows, "row", "rows"), strings.Join(counts, ", "), reportPath)
		if next != "" {
			line += "; next: " + strings.TrimPrefix(next, "fix the rows above, then: ")
		}
		fmt.Fprintf(w, "%s; exit %d\n", line, code)
		return
	}
	fmt.Fprintf(w, "\nensbulk %s %s: %s in %s\n", verb, in.name, outcome, sum.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "%s in the input", plural(c.Rows, "row", "rows"))
	if sum.Todo != sum.Rows {
		fmt.Fprintf(w, ", %d handled by this run, %d done before", sum.Todo, sum.Rows-sum.Todo)
	}
	fmt.Fprintln(w, ":")
	var never []batch.Status // statuses this command cannot produce
	if o.Plan {
		never = []batch.Status{batch.StatusOK, batch.StatusValid, batch.StatusAppliedUnvalidated}
	}
	report.WriteStatusTable(w, c.ByStatus, never...)
	target := "no limit"
	if sum.TargetRate > 0 {
		target = fmt.Sprintf("%.4g/s", sum.TargetRate)
	}
	fmt.Fprintf(w, "%s (%s, %d throttled by the server), achieved %.1f/s, target %s, throttled for %s\n",
		plural(sum.Requests, "request", "requests"), plural(sum.Retries, "retry", "retries"), sum.Throttles,
		sum.AchievedRate, target, sum.Throttled.Round(time.Millisecond))
	if line := costLine(sum, j.estimate, o.Rate); line != "" {
		fmt.Fprintln(w, line)
	}
	if len(c.Errors) > 0 {
		fmt.Fprintln(w, "top problems:")
		report.WriteErrorTable(w, c.Errors, 10)
	}
	fmt.Fprintf(w, "report: %s\n", reportPath)
	if next != "" {
		fmt.Fprintf(w, "next: %s\n", next)
	}
	fmt.Fprintf(w, "exit %d\n", code)
}

// commandName is the command that ran: run, validate or plan.
func (o *Options) commandName() string {
	switch {
	case o.Plan:
		return "plan"
	case o.Validate:
		return "validate"
	}
	return "run"
}

// outcomeWords say how the engine's run ended.
func outcomeWords(sum *batch.Summary) string {
	if sum.Stopped == nil {
		return "finished"
	}
	switch sum.Stopped.Kind {
	case batch.StopAborted:
		return "ABORTED: " + sum.Stopped.Reason
	case batch.StopInterrupted:
		return "interrupted"
	case batch.StopBudget:
		return "stopped (" + sum.Stopped.Reason + "), resumable"
	}
	return "finished"
}

// nextStep is the summary's next: line, the command that goes on from a
// run that ended with an error of kind; "" when there is nothing to do.
func nextStep(o *Options, sum *batch.Summary, kind Kind, reportPath string, in *input) string {
	verb := o.commandName()
	rf, _ := report.ParseFormat(o.ReportFormat)
	meta := report.Meta{Input: in.path, InputFormat: string(in.opts.Format), EmptyToken: o.EmptyToken, Delimiter: o.Delimiter, Mode: verb, Format: rf}
	switch kind {
	case Rows:
		if o.Plan || o.Validate {
			// A plan or validation of the same input replaces its own
			// report; a retry of it would carry its "valid" rows over
			// into a run's report, never applied.
			return "fix the rows above, then: " + AgainCommand(verb, reportPath, meta)
		}
		if o.FromPlan != "" {
			// A retry would send the rows without the plan's checks.
			return "fix the rows above, then: " + planAgain(reportPath, meta)
		}
		if in.undo != nil && !o.Force && sum.ByStatus[batch.StatusConflict] > 0 {
			// Retried as they are, the conflicts would be found again:
			// what is left is the operator's choice to overwrite them.
			return "the conflicts above were left as they are; if they should go back too: " + RetryCommand(reportPath, meta) + " --force"
		}
		return "fix the rows above, then: " + RetryCommand(reportPath, meta)
	case Aborted, Interrupted, Stopped:
		if sum.Stopped != nil && sum.Stopped.Kind != batch.StopAborted || kind == Stopped {
			return ResumeCommand(verb, reportPath, meta)
		}
		return "fix the cause, then: " + ResumeCommand(verb, reportPath, meta)
	}
	return ""
}

// summaryOf is the --summary-json of a run that ends with code (-1: a
// run still going). Before the engine ran, reason says why it ended.
func summaryOf(o *Options, sum *batch.Summary, c *report.Counts, reportPath, input string, code int, started, finished time.Time, runErr error) summaryfile.Summary {
	s := summaryfile.Of(o.commandName(), input, reportPath, sum, c, started, finished)
	s.ExitCode, s.Outcome = code, outcomeOf(code, sum, runErr)
	if code < 0 {
		s.DurationSec = 0
	}
	switch {
	case sum != nil && sum.Stopped != nil:
		s.Reason = sum.Stopped.Reason
	case runErr != nil && KindOf(runErr) != Rows:
		s.Reason = runErr.Error()
	}
	return s
}

// outcomeOf is the word monitoring reads for a run that ends with runErr
// (code -1: a run still going).
func outcomeOf(code int, sum *batch.Summary, runErr error) summaryfile.Outcome {
	if code == -1 {
		return summaryfile.Running
	}
	switch KindOf(runErr) {
	case "":
		return summaryfile.OK
	case Rows:
		return summaryfile.RowsNotOK
	case Usage, File, ReportExists:
		return summaryfile.UsageError
	case Locked:
		return summaryfile.Locked
	case Stopped:
		return summaryfile.Stopped
	case Internal:
		return summaryfile.InternalError
	}
	if errors.Is(runErr, Interrupted) || sum != nil && sum.Stopped != nil && sum.Stopped.Kind == batch.StopInterrupted {
		return summaryfile.Interrupted
	}
	return summaryfile.Aborted
}

// checkSummaryDest refuses a --summary-json that cannot or must not be
// written; nil for none. It is never the input, the report or the
// report's sidecar (--summary-json changes.csv once destroyed the input
// before it was read).
func checkSummaryDest(o *Options, input string, stdout io.Writer) (*summaryfile.Dest, error) {
	path := o.SummaryJSON
	if path != "" && path != "-" {
		rf, _ := report.ParseFormat(o.ReportFormat)
		mine := []struct{ what, path string }{{"the input", input}}
		if rp, err := reportPathFor(o, input, rf); err == nil && rp != "" {
			mine = append(mine, struct{ what, path string }{"the report", rp}, struct{ what, path string }{"the report's sidecar", report.MetaPath(rp)})
		}
		for _, m := range mine {
			if m.path != "" && m.path != "-" && resume.SameFile(path, m.path) {
				return nil, fileErr(fmt.Errorf("--summary-json %s is %s: name a file of its own, e.g. %s", path, m.what, "/var/lib/ensbulk/last.json"))
			}
		}
	}
	d, err := summaryfile.CheckDest(path, stdout)
	var de *summaryfile.DestError
	if errors.As(err, &de) {
		return nil, fileErr(fmt.Errorf("--summary-json %s: %s", de.Path, de.Reason))
	}
	return d, err
}

// Refused is what a run, validate or plan refused before
// Run (its config or profile) returns: err, with --summary-json
// written first, so that monitoring does not read the last night's
// outcome.
func Refused(env *Env, o *Options, input string, err error) error {
	dest, derr := checkSummaryDest(o, input, env.Stdout)
	if derr != nil || dest == nil {
		return err
	}
	rec := &runRecord{o: o, exit: env.ExitCode, dest: dest, input: input, started: o.now()}
	return rec.final(env.Stderr, err)
}

// runRecord is what the summary of a run says, filled in as the run
// goes. A second signal writes it from the signal handler while the run's
// goroutine may be filling it in, hence the mutex.
type runRecord struct {
	mu         sync.Mutex
	o          *Options
	exit       func(error) int // the command's exit code
	dest       *summaryfile.Dest
	input      string
	started    time.Time
	reportPath string
	sum        *batch.Summary
	counts     *report.Counts
	estimate   *summaryfile.Estimate
}

// setEstimate records what the run said it would send, and writes it to a
// summary file of its own at once: a night's watcher knows the cost
// before the run spends it.
func (r *runRecord) setEstimate(wl batch.Workload, rate float64) {
	r.mu.Lock()
	r.estimate = &summaryfile.Estimate{Requests: wl.Requests(), DurationSec: wl.Duration(rate).Seconds()}
	r.mu.Unlock()
}

func (r *runRecord) setReport(path string) {
	r.mu.Lock()
	r.reportPath = path
	r.mu.Unlock()
}

func (r *runRecord) setOutcome(sum *batch.Summary, c *report.Counts) {
	r.mu.Lock()
	r.sum, r.counts = sum, c
	r.mu.Unlock()
}

// write writes the summary of a run that ends with code (-1: going).
func (r *runRecord) write(code int, runErr error) error {
	if r.dest == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := summaryOf(r.o, r.sum, r.counts, r.reportPath, r.input, code, r.started, r.o.now(), runErr)
	s.Estimate = r.estimate
	return r.dest.Write(s)
}

// writeOutcome writes the summary of a run still going, with outcome
// (running, waiting), where the destination is a file of its own: a
// device or pipe gets the final summary alone.
func (r *runRecord) writeOutcome(outcome summaryfile.Outcome) error {
	if !r.dest.Replaced() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := summaryOf(r.o, r.sum, r.counts, r.reportPath, r.input, -1, r.started, r.o.now(), nil)
	s.Estimate = r.estimate
	s.Outcome = outcome
	return r.dest.Write(s)
}

// final writes the summary of a run that returns err, and returns what
// the run then returns: a summary that cannot be written turns success
// (or rows not ok) into an internal error, since monitoring would read an
// older one; a run that failed otherwise says so first.
func (r *runRecord) final(stderr io.Writer, err error) error {
	werr := r.write(r.exit(err), err)
	switch {
	case werr == nil:
		return err
	case err == nil || errors.Is(err, Rows):
		return internalErr(fmt.Errorf("--summary-json %s not written: %w", r.dest.Path(), werr))
	}
	fmt.Fprintf(stderr, "ensbulk: --summary-json %s not written: %v\n", r.dest.Path(), werr)
	return err
}
