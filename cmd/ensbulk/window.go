package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

// window is a daily time window in which requests may be sent, e.g.
// 01:00-05:00 (local time) or "22:00-04:00 Europe/Oslo" (crossing
// midnight).
type window struct {
	start, end time.Duration // offsets from midnight
	loc        *time.Location
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	spec       string
	opened     atomic.Bool // the run has been inside the window
}

func parseWindow(s string, now func() time.Time) (*window, error) {
	if s == "" {
		return nil, nil
	}
	w := &window{loc: time.Local, now: now, sleep: batch.Sleep, spec: s}
	parts := strings.Fields(s)
	if len(parts) == 2 {
		loc, err := time.LoadLocation(parts[1])
		if err != nil {
			return nil, usageErr("--window %q: time zone %q: %v", s, parts[1], err)
		}
		w.loc = loc
	} else if len(parts) != 1 {
		return nil, usageErr("--window %q: want HH:MM-HH:MM with an optional time zone, e.g. '01:00-05:00 Europe/London'", s)
	}
	se := strings.Split(parts[0], "-")
	if len(se) != 2 {
		return nil, usageErr("--window %q: want HH:MM-HH:MM", s)
	}
	var err error
	if w.start, err = clock(se[0]); err != nil {
		return nil, usageErr("--window %q: %v", s, err)
	}
	if w.end, err = clock(se[1]); err != nil {
		return nil, usageErr("--window %q: %v", s, err)
	}
	if w.start == w.end {
		return nil, usageErr("--window %q: start and end are equal", s)
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

// state says whether t is inside the window, and how long until that
// changes (until the window closes when inside, until it opens otherwise).
func (w *window) state(t time.Time) (inside bool, change time.Duration) {
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

// gate holds a request until the window is open. A run that started
// inside the window and sees it closed has reached its end: it stops,
// resumably. windowExit makes a closed window stop the run at once.
func (w *window) gate(ctx context.Context, started time.Time, windowExit bool) error {
	inside, wait := w.state(w.now())
	if inside {
		w.opened.Store(true)
		return nil
	}
	if startedInside, _ := w.state(started); startedInside || w.opened.Load() {
		return &batch.StopError{Kind: batch.StopBudget, Reason: fmt.Sprintf("--window %s closed", w.spec)}
	}
	if windowExit {
		return &batch.StopError{Kind: batch.StopBudget, Reason: fmt.Sprintf("outside --window %s (opens in %s)", w.spec, wait.Round(time.Second))}
	}
	if err := w.sleep(ctx, wait); err != nil {
		return err
	}
	return nil
}
