package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
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
func printSummary(w io.Writer, o *runOptions, sum *batch.Summary, c *report.Counts, reportPath string, in *input, code int, runErr error) {
	verb := "run"
	if o.validate {
		verb = "validate"
	}
	if o.plan {
		verb = "plan"
	}
	outcome := "finished"
	if sum.Stopped != nil {
		switch sum.Stopped.Kind {
		case batch.StopAborted:
			outcome = "ABORTED: " + sum.Stopped.Reason
		case batch.StopInterrupted:
			outcome = "interrupted"
		case batch.StopBudget:
			outcome = "stopped (" + sum.Stopped.Reason + "), resumable"
		}
	}
	rf, _ := report.ParseFormat(o.reportFormat.String())
	meta := report.Meta{Input: in.path, InputFormat: string(in.opts.Format), EmptyToken: o.emptyToken, Delimiter: o.delimiter, Mode: verb, Format: rf}
	next := ""
	switch code {
	case exitRows:
		next = "fix the rows above, then: " + retryCommand(reportPath, meta)
		if o.plan {
			next = "fix the rows above, then plan again"
		}
	case exitAborted, exitStopped:
		if sum.Stopped != nil && sum.Stopped.Kind != batch.StopAborted || code == exitStopped {
			next = resumeCommand(verb, reportPath, meta)
		} else {
			next = "fix the cause, then: " + resumeCommand(verb, reportPath, meta)
		}
	}
	if o.quiet {
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
	report.WriteStatusTable(w, c.ByStatus)
	target := "no limit"
	if sum.TargetRate > 0 {
		target = fmt.Sprintf("%.4g/s", sum.TargetRate)
	}
	fmt.Fprintf(w, "%s (%s, %d throttled by the server), achieved %.1f/s, target %s, throttled for %s\n",
		plural(sum.Requests, "request", "requests"), plural(sum.Retries, "retry", "retries"), sum.Throttles,
		sum.AchievedRate, target, sum.Throttled.Round(time.Millisecond))
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

// summaryJSON is the machine-readable result of a run (--summary-json),
// for monitoring. Its fields are a contract: add, never rename.
type summaryJSON struct {
	Version      int            `json:"version"`
	Command      string         `json:"command"`
	Input        string         `json:"input"`
	Report       string         `json:"report"`
	ExitCode     int            `json:"exit_code"`
	Outcome      string         `json:"outcome"` // ok, rows_not_ok, aborted, interrupted, stopped
	Reason       string         `json:"reason,omitempty"`
	Rows         int            `json:"rows"`
	RowsThisRun  int            `json:"rows_this_run"`
	Counts       map[string]int `json:"counts"`
	Requests     int64          `json:"requests"`
	Retries      int64          `json:"retries"`
	Throttles    int64          `json:"throttles"`
	TargetRate   float64        `json:"target_rate"`
	AchievedRate float64        `json:"achieved_rate"`
	Started      time.Time      `json:"started"`
	Finished     time.Time      `json:"finished"`
	DurationSec  float64        `json:"duration_seconds"`
}

// summaryOf is the --summary-json of a run that ends with code. sum and c
// are nil when it ended before the engine ran (a refusal, the lock): the
// counts are then zero and reason says why. Code -1 is a run still going.
func summaryOf(o *runOptions, sum *batch.Summary, c *report.Counts, reportPath, input string, code int, started, finished time.Time, runErr error) summaryJSON {
	s := summaryJSON{
		Version: 1, Command: "run", Input: input, Report: reportPath, ExitCode: code,
		Counts: map[string]int{}, Started: started.UTC(), Finished: finished.UTC(),
	}
	if o.validate {
		s.Command = "validate"
	}
	if o.plan {
		s.Command = "plan"
	}
	if sum != nil {
		s.RowsThisRun, s.Requests, s.Retries, s.Throttles = sum.Todo, sum.Requests, sum.Retries, sum.Throttles
		s.TargetRate, s.AchievedRate, s.DurationSec = sum.TargetRate, round1(sum.AchievedRate), sum.Duration.Seconds()
	} else if code >= 0 {
		s.DurationSec = finished.Sub(started).Seconds()
	}
	for _, st := range batch.Statuses {
		s.Counts[string(st)] = 0
		if c != nil {
			s.Counts[string(st)] = c.ByStatus[st]
		}
	}
	if c != nil {
		s.Rows = c.Rows
	}
	switch code {
	case -1:
		s.Outcome = "running"
	case exitOK:
		s.Outcome = "ok"
	case exitRows:
		s.Outcome = "rows_not_ok"
	case exitUsage:
		s.Outcome = "usage_error"
	case exitLocked:
		s.Outcome = "locked"
	case exitStopped:
		s.Outcome = "stopped"
	case exitInternal:
		s.Outcome = "internal_error"
	default:
		s.Outcome = "aborted"
		if errors.Is(runErr, errInterrupted) || sum != nil && sum.Stopped != nil && sum.Stopped.Kind == batch.StopInterrupted {
			s.Outcome = "interrupted"
		}
	}
	switch {
	case sum != nil && sum.Stopped != nil:
		s.Reason = sum.Stopped.Reason
	case code > exitRows && runErr != nil:
		s.Reason = runErr.Error()
	}
	return s
}

// encodeSummary is the bytes of a summary.
func encodeSummary(s summaryJSON) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	return append(b, '\n'), err
}

// round1 rounds f to one decimal, for a rate.
func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
