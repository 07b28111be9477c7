package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Progress is a snapshot of a running batch.
type Progress struct {
	Phase    Phase
	Done     int // rows finished in this phase
	Total    int // rows this phase will send
	Failures int // rows not ok/valid so far, all phases
	Requests int64
	Elapsed  time.Duration
}

// Sink receives final results, one goroutine at a time, in the order rows
// finish. Flush makes everything written so far durable; the engine calls
// it before it lets a later row of the same mailbox go, and after every
// group of answers even when none was final, so that a sink that can no
// longer write says so (an error) before more requests are sent.
type Sink interface {
	Write(Result) error
	Flush() error
}

// StopKind says why a run stopped before its end.
type StopKind int

// Stop kinds.
const (
	StopAborted     StopKind = iota + 1 // 401, repeated 402, 403 from every customer, circuit open, fatal fault, validation not honoured
	StopInterrupted                     // signal
	StopBudget                          // --max-rows, --max-duration, window: resumable
)

// StopError is returned by Run when the run stopped early. Every row that
// was not finished is reported skipped with Reason.
type StopError struct {
	Kind   StopKind
	Reason string
	Err    error
}

// Error returns the reason, as written into the skipped rows.
func (e *StopError) Error() string { return e.Reason }

// Unwrap returns the error that stopped the run, if any.
func (e *StopError) Unwrap() error { return e.Err }

// SinkError is returned by Run when the sink could not write or flush a
// result: the run stopped sending as soon as the failure was known
// (requests already in flight finished; their answers, and every result
// after the failure, are not in the sink).
type SinkError struct {
	Err error
}

// Error returns the sink's error.
func (e *SinkError) Error() string { return e.Err.Error() }

// Unwrap returns the sink's error.
func (e *SinkError) Unwrap() error { return e.Err }

// Opener opens the input from its start; Run reads it several times (a
// check of the whole file before anything is sent, one pass per phase), so
// memory does not grow with the number of rows.
type Opener func() (Source, io.Closer, error)

// Run checks every row of the input, validates them with the server, then
// applies those that passed, writing each final result to sink. Row
// failures are results; Run returns an error only for the run as a whole:
// a file-level input error (before anything is sent), a *SinkError (no
// request is sent once a write or flush failed), or a *StopError when it
// stopped early. The summary is valid in every case
// but the first.
func Run(ctx context.Context, open Opener, sender Sender, sink Sink, opts Options) (*Summary, error) {
	opts.defaults()
	if opts.PlanOnly && opts.Getter == nil {
		return nil, errors.New("batch: a plan needs a Getter")
	}
	if opts.Canary > 0 && opts.ReadBack == nil {
		return nil, errors.New("batch: a canary needs a ReadBack")
	}
	e := &engine{
		opts:    opts,
		sender:  sender,
		sink:    sink,
		gov:     newGovernor(opts.Rate, opts.Now, opts.Deadline),
		circuit: circuit{forbidLimit: opts.ForbiddenAbortAfter, failLimit: opts.CircuitThreshold},
		tally:   newTally(),
		start:   opts.Now(),
	}
	if opts.PlanOnly {
		e.overlay = newOverlay()
	}
	e.pre = newPrefetcher(&opts)

	// Pass 0: read everything before sending anything, so a file-level
	// error half-way down the file sends nothing.
	if err := e.scan(open); err != nil {
		return nil, err
	}

	// A signal (ctx) stops dispatching at once; requests already sent
	// finish on their own timeout because they run without its
	// cancellation (see send).
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	e.stop = stop
	e.detached = context.WithoutCancel(ctx)
	if err := e.preflight(ctx); err != nil {
		return nil, err
	}

	err := e.prefetch(ctx, open)
	if err == nil {
		e.estimate()
		err = e.phases(ctx, open)
	}
	if err == nil {
		err = e.sweep(ctx, open)
	}
	if err == nil {
		if ferr := e.sink.Flush(); ferr != nil {
			err = &SinkError{Err: ferr}
		}
	}
	sum := e.summary()
	if err != nil {
		return sum, err
	}
	if se := stopCause(ctx); se != nil {
		sum.Stopped = se
		return sum, se
	}
	return sum, nil
}

// engine is the state of one run, shared by its goroutines: the fields
// under "writer" belong to the one goroutine that writes results; the
// counters are atomic; the circuit and governor have their own locks.
type engine struct {
	opts    Options
	sender  Sender
	sink    Sink
	gov     *governor
	circuit circuit
	start   time.Time
	overlay *overlay    // a plan's view of what earlier rows leave (read.go)
	pre     *prefetcher // the lists before the first phase (prefetch.go)
	stage   stage       // canary, failure limit, read-back (stage.go)
	// stop ends the run with a *StopError as its cause; the first cause
	// wins.
	stop context.CancelCauseFunc
	// detached is the run's context without its cancellation: what each
	// request runs under (see send), made once rather than per request.
	detached context.Context

	// writer
	tally      *tally
	todo       RowSet // rows handled by this run
	final      RowSet // rows whose final result was written
	valid      RowSet // rows that passed validation (run, not validate-only)
	prevalid   RowSet // rows validated by an earlier run: set in pass 0, then read-only
	first      *Row   // the first row to send (mailbox and customer only), nil if none
	rows       int
	todoCount  int
	validCount int
	finalCount int
	localCount int // rows refused by local checks
	skipReason string

	requests  atomic.Int64
	retries   atomic.Int64
	throttles atomic.Int64
	started   atomic.Int64 // rows started in the budgeted phase
}

// stopCause says why the run under ctx stopped, nil while it has not.
func stopCause(ctx context.Context) *StopError {
	cause := context.Cause(ctx)
	if cause == nil {
		return nil
	}
	var se *StopError
	if errors.As(cause, &se) && se.Kind != 0 {
		return se
	}
	// Stopped by the caller's context: a signal.
	return &StopError{Kind: StopInterrupted, Reason: "interrupted", Err: cause}
}

func (e *engine) abort(kind StopKind, reason string) {
	e.stop(&StopError{Kind: kind, Reason: reason})
}

// scan is pass 0: read every row, decide which this run handles, catch
// file-level errors. Rows Options.Todo refuses are passed over unread
// (see Options.Todo).
func (e *engine) scan(open Opener) error {
	src, c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()
	last := 0
	// The customers the rows name, for the rule that stops the run once
	// every one of them has refused with 403; forgotten (0, unknown) when
	// a row names none or there are too many to keep.
	customers, known := map[string]bool{}, true
	defer func() {
		if known {
			e.circuit.customers = len(customers)
		}
	}()
	rows, passed := Rows(src), func() int { return 0 }
	if e.opts.Todo != nil {
		rows, passed = Wanted(src, e.opts.Todo)
	}
	defer func() { e.rows += passed() }()
	for row, err := range rows {
		if err != nil {
			return err
		}
		if row.Num <= last {
			return fmt.Errorf("input: row numbers must increase (row %d after %d)", row.Num, last)
		}
		last = row.Num
		e.rows++
		e.todo.Set(row.Num) // every row yielded is one this run handles
		e.todoCount++
		if e.first == nil && row.Err == nil && row.Settled == nil {
			e.first = &Row{Num: row.Num, Line: row.Line, Mailbox: row.Mailbox, Customer: row.Customer}
		}
		if known && row.Err == nil {
			customers[row.Customer] = true
			if row.Customer == "" || len(customers) > maxCustomers {
				known, customers = false, nil
			}
		}
		e.overlay.count(&row)
		e.pre.count(&row)
		if row.Err != nil {
			e.localCount++
		}
		e.prevalidated(&row)
	}
	return nil
}

// preflight runs Options.Preflight before the first row is sent, behind
// the gate (a closed window holds it too) and through the pace.
func (e *engine) preflight(ctx context.Context) error {
	if e.opts.Preflight == nil || e.first == nil {
		return nil
	}
	e.gate(ctx)
	if ctx.Err() != nil {
		return nil // stopped by the gate: the phases report it
	}
	return e.opts.Preflight(ctx, *e.first, func(ctx context.Context) error {
		err := e.gov.wait(ctx)
		e.stopOn(err)
		return err
	})
}

// maxCustomers bounds the customers scan keeps: memory must not grow with
// the rows.
const maxCustomers = 1024

// summary describes the run so far.
func (e *engine) summary() *Summary {
	sum := e.tally.summary()
	sum.Rows = e.rows
	sum.Todo = e.todoCount
	sum.TargetRate = e.opts.Rate
	sum.Duration = e.opts.Now().Sub(e.start)
	sum.Requests = e.requests.Load()
	sum.Retries = e.retries.Load()
	sum.Throttles = e.throttles.Load()
	sum.Throttled = e.gov.throttledFor()
	sum.ReadBack = e.readBackCounts()
	if secs := sum.Duration.Seconds(); secs > 0 {
		sum.AchievedRate = float64(sum.Requests) / secs
	}
	return sum
}
