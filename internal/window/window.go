// Package window is a daily time window in which a run may send requests,
// such as 01:00-05:00 (local time) or "22:00-04:00 Europe/Oslo" (crossing
// midnight).
package window

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

// Window is a parsed window, and whether the run has been inside it.
type Window struct {
	start, end time.Duration // offsets from midnight
	loc        *time.Location
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	spec       string
	opened     atomic.Bool // the run has been inside the window
}

// SyntaxError is a window that cannot be parsed: Reason says what is
// wrong with Spec.
type SyntaxError struct {
	Spec   string
	Reason string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("window %q: %s", e.Spec, e.Reason) }

// ClosedError is a gate that found the window closed and does not wait:
// the run stops, resumably.
type ClosedError struct {
	Spec string
	// Ended: the run has been inside the window (or started there) and
	// has reached its end. Otherwise the window has not opened yet, and
	// opens in OpensIn.
	Ended   bool
	OpensIn time.Duration
}

func (e *ClosedError) Error() string {
	if e.Ended {
		return fmt.Sprintf("window %s closed", e.Spec)
	}
	return fmt.Sprintf("outside window %s (opens in %s)", e.Spec, e.OpensIn)
}

// Parse reads a window "HH:MM-HH:MM [ZONE]" (local time without a zone);
// nil for "". now is the clock the gate reads. A spec that cannot be
// parsed is a *SyntaxError.
func Parse(s string, now func() time.Time) (*Window, error) {
	if s == "" {
		return nil, nil
	}
	w := &Window{loc: time.Local, now: now, sleep: batch.Sleep, spec: s}
	bad := func(format string, args ...any) error {
		return &SyntaxError{Spec: s, Reason: fmt.Sprintf(format, args...)}
	}
	parts := strings.Fields(s)
	if len(parts) == 2 {
		loc, err := time.LoadLocation(parts[1])
		if err != nil {
			return nil, bad("time zone %q: %v", parts[1], err)
		}
		w.loc = loc
	} else if len(parts) != 1 {
		return nil, bad("want HH:MM-HH:MM with an optional time zone, e.g. '01:00-05:00 Europe/London'")
	}
	se := strings.Split(parts[0], "-")
	if len(se) != 2 {
		return nil, bad("want HH:MM-HH:MM")
	}
	var err error
	if w.start, err = clock(se[0]); err != nil {
		return nil, bad("%v", err)
	}
	if w.end, err = clock(se[1]); err != nil {
		return nil, bad("%v", err)
	}
	if w.start == w.end {
		return nil, bad("start and end are equal")
	}
	return w, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// State says whether t is inside the window, and how long until that
// changes (until the window closes when inside, until it opens otherwise).
func (w *Window) State(t time.Time) (inside bool, change time.Duration) {
	t = t.In(w.loc)
	mid := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, w.loc)
	at := func(day int, off time.Duration) time.Time {
		d := mid.AddDate(0, 0, day)
		return time.Date(d.Year(), d.Month(), d.Day(), int(off/time.Hour), int(off%time.Hour/time.Minute), 0, 0, w.loc)
	}
	// Windows that cross midnight start the day before.
	for _, day := range []int{-1, 0} {
		s := at(day, w.start)
		endDay := day
		if w.end <= w.start {
			endDay++
		}
		e := at(endDay, w.end)
		if !t.Before(s) && t.Before(e) {
			return true, e.Sub(t)
		}
	}
	next := at(0, w.start)
	if !next.After(t) {
		next = at(1, w.start)
	}
	return false, next.Sub(t)
}

// Gate holds a request until the window is open. A run that started
// inside the window and sees it closed has reached its end: Gate returns
// a *ClosedError with Ended set. With exit, a window not open yet is a
// *ClosedError too, instead of a wait.
func (w *Window) Gate(ctx context.Context, started time.Time, exit bool) error {
	inside, wait := w.State(w.now())
	if inside {
		w.opened.Store(true)
		return nil
	}
	if startedInside, _ := w.State(started); startedInside || w.opened.Load() {
		return &ClosedError{Spec: w.spec, Ended: true}
	}
	if exit {
		return &ClosedError{Spec: w.spec, OpensIn: wait}
	}
	return w.sleep(ctx, wait)
}
