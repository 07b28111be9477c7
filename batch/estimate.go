package batch

import (
	"math"
	"time"
)

// Workload is what a run sends, as known once the lists of the prefetch
// are done and before the first row is validated: an operator knows the
// cost of a run before it starts. Counts of rows to validate and apply
// are upper bounds: every row is assumed to pass validation and to be
// sent once (a row that fails validation costs less; a retry, a throttle
// or a read that finds the row unchanged after all changes the count).
type Workload struct {
	Sent      int64 // requests the engine sent already: the lists
	Lists     int   // customers listed (whole or not)
	Unchanged int   // rows the lists found unchanged: never sent
	Validate  int   // rows to validate (validation=1)
	Reads     int   // reads by get, each just before an update (a plan's: instead of one)
	Updates   int   // updates
}

// Requests is how many requests the run sends in all, those sent
// included.
func (w Workload) Requests() int64 {
	return w.Sent + w.Left()
}

// Left is how many requests the run has still to send.
func (w Workload) Left() int64 {
	return int64(w.Validate) + int64(w.Reads) + int64(w.Updates)
}

// Duration is how long the requests left take at rate requests per
// second, the pace every request waits on; 0 when rate is not positive
// (no limit: the server's speed decides).
func (w Workload) Duration(rate float64) time.Duration {
	if rate <= 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
		return 0
	}
	secs := float64(w.Left()) / rate
	if secs > float64(math.MaxInt64)/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(secs * float64(time.Second))
}

// workload is what this run still sends, counted after the prefetch.
func (e *engine) workload() Workload {
	w := Workload{Sent: e.requests.Load()}
	if e.pre != nil {
		w.Lists = e.pre.listed
		w.Unchanged = e.pre.ndecided
	}
	w.Validate = e.todoCount - e.validCount - w.Unchanged - e.localCount
	if e.opts.ValidateOnly {
		return w
	}
	apply := w.Validate + e.validCount
	if e.opts.Getter != nil {
		w.Reads = apply
		if e.pre != nil {
			e.pre.mu.Lock()
			w.Reads -= len(e.pre.kept)
			e.pre.mu.Unlock()
		}
	}
	if !e.opts.PlanOnly {
		w.Updates = apply
	}
	return w
}

// estimate hands the workload to Options.OnWorkload.
func (e *engine) estimate() {
	if e.opts.OnWorkload != nil {
		e.opts.OnWorkload(e.workload())
	}
}
