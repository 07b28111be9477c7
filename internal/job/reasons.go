package job

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/lock"
	"github.com/ensbulk/ensbulk/internal/window"
	"github.com/ensbulk/ensbulk/reader"
)

// The packages under internal/ return typed reasons; the functions here
// turn them into the words, flag names and kinds (exit codes) an operator
// reads.

// acquireLock takes the lock of report (REPORT.lock), or says who holds it
// (Locked).
func acquireLock(report string) (*lock.Lock, error) {
	l, err := lock.Acquire(report + ".lock")
	var held *lock.HeldError
	switch {
	case err == nil:
		return l, nil
	case errors.As(err, &held):
		pid := "unknown"
		if held.PID > 0 {
			pid = fmt.Sprint(held.PID)
		}
		return nil, Mark(Locked, fmt.Errorf("another ensbulk run (PID %s) holds the lock on report %s; wait for it to end", pid, report))
	case errors.Is(err, lock.ErrSymlink):
		return nil, fileErr(fmt.Errorf("%w (remove it if no run is going)", err))
	}
	return nil, fileErr(err)
}

// parseWindow is --window; nil when it is not given.
func parseWindow(s string, now func() time.Time) (*window.Window, error) {
	w, err := window.Parse(s, now)
	var se *window.SyntaxError
	if errors.As(err, &se) {
		return nil, usageErr("--window %q: %s", se.Spec, se.Reason)
	}
	return w, err
}

// gateWindow holds a request until --window is open; a closed window
// (its end, or --window-exit before it opens) stops the run resumably,
// like a budget.
func gateWindow(ctx context.Context, w *window.Window, started time.Time, exit bool) error {
	err := w.Gate(ctx, started, exit)
	var ce *window.ClosedError
	if !errors.As(err, &ce) {
		return err
	}
	reason := fmt.Sprintf("--window %s closed", ce.Spec)
	if !ce.Ended {
		reason = fmt.Sprintf("outside --window %s (opens in %s)", ce.Spec, ce.OpensIn.Round(time.Second))
	}
	return &batch.StopError{Kind: batch.StopBudget, Reason: reason}
}

// checkRate is batch.CheckRate in the words of --rate.
func checkRate(r float64) error {
	var re *batch.RateError
	if err := batch.CheckRate(r); !errors.As(err, &re) {
		return err
	}
	return usageErr("--rate %g: %s", re.Rate, re.Problem)
}

// engineWords are the phrases of the engine's row messages and stop
// reasons that name a flag.
func engineWords() batch.Words {
	return batch.Words{
		RowLimit: func(n int) string { return fmt.Sprintf("--max-rows %d reached", n) },
		AllOrNothing: func(n int) string {
			return fmt.Sprintf("not applied: --all-or-nothing and %d row(s) did not pass validation", n)
		},
		Forced:    "overwritten (--force)",
		ForceHint: "a run with --force would overwrite them",
	}
}

// readerHints word the reader's advice with the flags that set it.
var readerHints = reader.Hints{
	Delimiter: func(d rune) string {
		switch d {
		case '\t':
			return "--delimiter '\\t' (a tab)"
		case '\'':
			return `--delimiter "'"`
		}
		return fmt.Sprintf("--delimiter '%c'", d)
	},
	Format: func(f reader.Format) string { return "--format " + string(f) },
}
