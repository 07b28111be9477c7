package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// Options configure a run.
type Options struct {
	Workers     int           // concurrent requests; default 4
	Rate        float64       // requests per second across both phases; 0 = no limit
	MaxAttempts int           // tries per row and phase for transport faults; default 8
	Timeout     time.Duration // per request; default 30s
	BackoffBase time.Duration // first retry delay ceiling; default 250ms
	BackoffMax  time.Duration // retry delay ceiling; default 15s

	ValidateOnly bool // phase 1 only; passing rows are reported valid
	AllOrNothing bool // apply nothing when any row did not validate

	// ForbiddenAbortAfter aborts the run when this many rows in a row end
	// with 402 or 403 (role and rate plan are global for the user, so a
	// repeat means every row will fail). Default 3.
	ForbiddenAbortAfter int
	// CircuitThreshold aborts the run after this many consecutive
	// transport failures across the pool, with no success between them.
	// Default 25.
	CircuitThreshold int
	// MaxThrottles bounds 429/503 answers per row and phase; they slow the
	// pool instead of counting as attempts. Default 50.
	MaxThrottles int

	// Todo, when set, is asked once per row in file order during the
	// first read; rows it refuses are left out of this run entirely (they
	// were finished by an earlier run being resumed).
	Todo func(*Row) bool
	// MaxRows stops the run, resumably, once this many rows have been
	// started in the apply phase (validate-only: in the validate phase).
	// 0 = no limit.
	MaxRows int
	// Gate, when set, is called before every request; an error stops the
	// run resumably with that error as the reason (budgets, windows).
	Gate func(context.Context) error

	Logger     *zap.Logger
	OnProgress func(Progress) // called from one goroutine
	Now        func() time.Time
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 250 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 15 * time.Second
	}
	if o.ForbiddenAbortAfter <= 0 {
		o.ForbiddenAbortAfter = 3
	}
	if o.CircuitThreshold <= 0 {
		o.CircuitThreshold = 25
	}
	if o.MaxThrottles <= 0 {
		o.MaxThrottles = 50
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

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
// it before it lets a later row of the same mailbox go.
type Sink interface {
	Write(Result) error
	Flush() error
}

// StopKind says why a run stopped before its end.
type StopKind int

// Stop kinds.
const (
	StopAborted     StopKind = iota + 1 // 401, repeated 402/403, circuit open, fatal fault
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

func (e *StopError) Error() string { return e.Reason }
func (e *StopError) Unwrap() error { return e.Err }

// Summary describes a finished run.
type Summary struct {
	Rows         int // rows in the input
	Todo         int // rows this run handled (all but those resumed past)
	ByStatus     map[Status]int
	Requests     int64
	Retries      int64
	Throttles    int64
	Throttled    time.Duration
	Duration     time.Duration
	TargetRate   float64
	AchievedRate float64
	Errors       []ErrorCount // most frequent first
	Stopped      *StopError
}

// ErrorCount counts rows that ended with the same status, code and message.
type ErrorCount struct {
	Status  Status
	Code    string
	Message string
	Count   int
}

// Failures counts rows that did not end ok or valid.
func (s *Summary) Failures() int {
	return s.ByStatus[StatusInvalid] + s.ByStatus[StatusFailed] + s.ByStatus[StatusError] + s.ByStatus[StatusSkipped]
}

// Opener opens the input from its start; Run reads it several times (a
// check of the whole file before anything is sent, one pass per phase), so
// memory does not grow with the number of rows.
type Opener func() (Source, io.Closer, error)

// Run checks every row of the input, validates them with the server, then
// applies those that passed, writing each final result to sink. Row
// failures are results; Run returns an error only for the run as a whole:
// a file-level input error (before anything is sent), a sink failure, or a
// *StopError when it stopped early. The summary is valid in every case
// but the first.
func Run(ctx context.Context, open Opener, sender Sender, sink Sink, opts Options) (*Summary, error) {
	opts.defaults()
	e := &engine{
		opts:   opts,
		sender: sender,
		sink:   sink,
		log:    opts.Logger,
		gov:    newGovernor(opts.Rate, opts.Now),
		sum:    &Summary{ByStatus: map[Status]int{}, TargetRate: opts.Rate},
		errs:   map[errKey]int{},
	}
	start := opts.Now()
	e.start = start

	// Pass 0: read everything before sending anything, so a file-level
	// error half-way down the file sends nothing.
	if err := e.scan(open); err != nil {
		return nil, err
	}

	// A signal (ctx) stops dispatching at once; requests already sent
	// finish on their own timeout because they run under reqCtx.
	stopCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	e.parent = ctx
	e.stopCtx = stopCtx
	e.stop = stop
	e.reqCtx = context.WithoutCancel(ctx)

	err := e.phase(open, PhaseValidate)
	if err == nil && !opts.ValidateOnly && e.stopCause() == nil {
		if opts.AllOrNothing && e.notValid > 0 {
			e.skipReason = fmt.Sprintf("not applied: --all-or-nothing and %d row(s) did not pass validation", e.notValid)
		} else {
			err = e.phase(open, PhaseApply)
		}
	}
	if err == nil {
		err = e.sweep(open)
	}
	if err == nil {
		err = e.sink.Flush()
	}
	e.sum.Duration = opts.Now().Sub(start)
	e.sum.Requests = e.requests.Load()
	e.sum.Retries = e.retries.Load()
	e.sum.Throttles = e.throttles.Load()
	e.sum.Throttled = e.gov.throttledFor()
	if secs := e.sum.Duration.Seconds(); secs > 0 {
		e.sum.AchievedRate = float64(e.sum.Requests) / secs
	}
	e.sum.Errors = e.topErrors()
	if err != nil {
		return e.sum, err
	}
	if se := e.stopCause(); se != nil {
		e.sum.Stopped = se
		return e.sum, se
	}
	return e.sum, nil
}

type errKey struct {
	status  Status
	code    string
	message string
}

type engine struct {
	opts    Options
	sender  Sender
	sink    Sink
	log     *zap.Logger
	gov     *governor
	sum     *Summary
	start   time.Time
	parent  context.Context
	stopCtx context.Context
	stop    context.CancelCauseFunc
	reqCtx  context.Context

	todo  bitset // rows handled by this run
	final bitset // rows whose final result was written
	valid bitset // rows that passed validation (run, not validate-only)

	rows       int
	todoCount  int
	validCount int
	notValid   int // rows of this run that will not be applied
	skipReason string
	finalCount int

	requests  atomic.Int64
	retries   atomic.Int64
	throttles atomic.Int64
	started   atomic.Int64 // rows started in the budgeted phase

	// Consecutive-failure counters, shared by the workers.
	mu             sync.Mutex
	consecForbid   int
	consecFailures int
	throttleSeq    int64 // requests sent when the last 429/503 came back

	errs map[errKey]int
}

func (e *engine) stopCause() *StopError {
	cause := context.Cause(e.stopCtx)
	if cause == nil {
		return nil
	}
	var se *StopError
	if errors.As(cause, &se) && se.Kind != 0 {
		return se
	}
	// Stopped by the caller's context: a signal.
	return &StopError{Kind: StopInterrupted, Reason: "interrupted", Err: context.Cause(e.parent)}
}

func (e *engine) abort(kind StopKind, reason string) {
	e.stop(&StopError{Kind: kind, Reason: reason})
}

// scan is pass 0: read every row, decide which this run handles, catch
// file-level errors.
func (e *engine) scan(open Opener) error {
	src, c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()
	last := 0
	for {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if row.Num <= last {
			return fmt.Errorf("input: row numbers must increase (row %d after %d)", row.Num, last)
		}
		last = row.Num
		e.rows++
		if e.opts.Todo == nil || e.opts.Todo(&row) {
			e.todo.set(row.Num)
			e.todoCount++
		}
	}
	e.sum.Rows = e.rows
	e.sum.Todo = e.todoCount
	return nil
}

// item is what a worker hands the writer.
type item struct {
	row    *Row
	res    Result
	final  bool // res is the row's final result
	passed bool // validated ok (phase validate, run mode)
	local  bool // refused by local checks: never went through the scheduler
}

// phase runs one phase over the rows that need it.
func (e *engine) phase(open Opener, ph Phase) error {
	src, c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()

	total := 0
	if ph == PhaseValidate {
		total = e.todoCount
	} else {
		total = e.validCount
	}
	s := newScheduler(e.opts.Workers * 4)
	results := make(chan item, e.opts.Workers)
	var g errgroup.Group
	var wg sync.WaitGroup // every sender on results: dispatcher and workers

	// Dispatcher: rows in file order into the scheduler.
	wg.Add(1)
	g.Go(func() error {
		defer wg.Done()
		defer s.close()
		seen := 0
		for {
			row, err := src.Next()
			if err == io.EOF {
				if seen != e.rows {
					err := fmt.Errorf("input changed during the run: %d rows now, %d before", seen, e.rows)
					e.abort(StopAborted, err.Error())
					return err
				}
				return nil
			}
			if err != nil {
				err = fmt.Errorf("input changed during the run: %w", err)
				e.abort(StopAborted, err.Error())
				return err
			}
			seen++
			if !e.todo.has(row.Num) {
				continue
			}
			switch ph {
			case PhaseValidate:
				if row.Err != nil {
					r := row
					results <- item{row: &r, final: true, local: true, res: e.result(&r, StatusInvalid, PhaseLocal, "", row.Err.Column, row.Err.Message, 0, 0)}
					continue
				}
			case PhaseApply:
				if !e.valid.has(row.Num) {
					continue
				}
			}
			if e.stopCtx.Err() != nil {
				return nil // the sweep reports what is left as skipped
			}
			r := row
			if !s.add(&r, e.stopCtx) {
				return nil
			}
		}
	})

	// Workers.
	for range e.opts.Workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			for {
				row := s.take(e.stopCtx)
				if row == nil {
					return nil
				}
				results <- e.process(row, ph)
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	// Writer: the one goroutine that owns the sink and the progress.
	var writeErr error
	done := 0
	batch := make([]item, 0, 64)
	for it := range results {
		batch = append(batch[:0], it)
	drain:
		for len(batch) < cap(batch) {
			select {
			case more, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		if writeErr == nil {
			writeErr = e.write(batch)
			if writeErr != nil {
				e.stop(&StopError{Kind: StopAborted, Reason: "report: " + writeErr.Error(), Err: writeErr})
			}
		}
		for _, it := range batch {
			if !it.local {
				s.release(it.row)
			}
			done++
		}
		if e.opts.OnProgress != nil {
			e.opts.OnProgress(Progress{Phase: ph, Done: done, Total: total, Failures: e.failures(),
				Requests: e.requests.Load(), Elapsed: e.opts.Now().Sub(e.start)})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return writeErr
}

func (e *engine) failures() int {
	n := 0
	for st, c := range e.sum.ByStatus {
		if st != StatusOK && st != StatusValid {
			n += c
		}
	}
	return n
}

// write records a batch of items: final results to the sink, then one
// Flush for the batch (group commit), then bookkeeping.
func (e *engine) write(batch []item) error {
	wrote := false
	for _, it := range batch {
		if it.passed {
			e.valid.set(it.row.Num)
			e.validCount++
		}
		if !it.final {
			continue
		}
		if err := e.sink.Write(it.res); err != nil {
			return err
		}
		wrote = true
	}
	if wrote {
		if err := e.sink.Flush(); err != nil {
			return err
		}
	}
	for _, it := range batch {
		if !it.final {
			continue
		}
		e.final.set(it.row.Num)
		e.finalCount++
		e.count(it.res)
	}
	return nil
}

func (e *engine) count(r Result) {
	e.sum.ByStatus[r.Status]++
	if r.Status != StatusOK && r.Status != StatusValid {
		if r.Phase == PhaseLocal || r.Phase == PhaseValidate {
			e.notValid++
		}
		k := errKey{r.Status, r.Code, r.Message}
		if _, ok := e.errs[k]; ok || len(e.errs) < 1000 {
			e.errs[k]++
		}
		if r.Status != StatusSkipped {
			e.log.Warn("row not applied", zap.Int("row", r.Row), zap.String("mailbox", r.Mailbox),
				zap.String("status", string(r.Status)), zap.String("phase", string(r.Phase)),
				zap.String("code", r.Code), zap.String("key", r.Key), zap.String("message", r.Message),
				zap.Int("attempts", r.Attempts))
		}
	}
}

func (e *engine) topErrors() []ErrorCount {
	out := make([]ErrorCount, 0, len(e.errs))
	for k, n := range e.errs {
		out = append(out, ErrorCount{Status: k.status, Code: k.code, Message: k.message, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Message < out[j].Message
	})
	return out
}

// sweep writes a skipped result for every row of this run that has none.
func (e *engine) sweep(open Opener) error {
	if e.finalCount == e.todoCount {
		return nil
	}
	reason := e.skipReason
	if se := e.stopCause(); se != nil {
		reason = "not sent: " + se.Reason
	}
	if reason == "" {
		reason = "not sent"
	}
	src, c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()
	var batch []item
	for {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("input changed during the run: %w", err)
		}
		if !e.todo.has(row.Num) || e.final.has(row.Num) {
			continue
		}
		r := row
		batch = append(batch, item{row: &r, final: true, res: e.result(&r, StatusSkipped, PhaseNone, "", "", reason, 0, 0)})
		if len(batch) == 256 {
			if err := e.write(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return e.write(batch)
	}
	return nil
}

func (e *engine) result(row *Row, st Status, ph Phase, code, key, msg string, attempts int, d time.Duration) Result {
	return Result{
		Row: row.Num, Line: row.Line, Mailbox: row.Mailbox, Customer: row.Customer,
		Status: st, Phase: ph, Code: code, Key: key, Message: msg,
		Attempts: attempts, Duration: d, Fields: row.Fields(), Hash: row.Hash,
	}
}

// process sends one row in one phase, with retries, and returns its item.
func (e *engine) process(row *Row, ph Phase) item {
	validate := ph == PhaseValidate
	start := e.opts.Now()
	attempts, tries, throttles := 0, 0, 0
	var last *Error
	budgeted := (ph == PhaseApply) != e.opts.ValidateOnly
	if budgeted && e.opts.MaxRows > 0 && e.started.Add(1) > int64(e.opts.MaxRows) {
		e.stop(&StopError{Kind: StopBudget, Reason: fmt.Sprintf("--max-rows %d reached", e.opts.MaxRows)})
		return item{row: row}
	}
	for {
		if e.opts.Gate != nil {
			if err := e.opts.Gate(e.stopCtx); err != nil {
				var se *StopError
				if !errors.As(err, &se) {
					se = &StopError{Kind: StopBudget, Reason: err.Error(), Err: err}
				}
				e.stop(se)
			}
		}
		if err := e.gov.wait(e.stopCtx); err != nil || e.stopCtx.Err() != nil {
			return e.unfinished(row, ph, attempts, last, start)
		}
		attempts++
		tries++
		if attempts > 1 {
			e.retries.Add(1)
		}
		seq := e.requests.Add(1)
		rctx, cancel := context.WithTimeout(e.reqCtx, e.opts.Timeout)
		resp, err := e.sender.Update(rctx, row.Params, validate)
		cancel()
		d := e.opts.Now().Sub(start)
		if err == nil {
			e.gov.success()
			e.mu.Lock()
			e.consecFailures, e.consecForbid = 0, 0
			e.mu.Unlock()
			switch {
			case validate && !e.opts.ValidateOnly:
				return item{row: row, passed: true}
			case validate:
				return item{row: row, final: true, res: e.result(row, StatusValid, ph, resp.Code, resp.Key, resp.Message, attempts, d)}
			default:
				return item{row: row, final: true, res: e.result(row, StatusOK, ph, resp.Code, resp.Key, resp.Message, attempts, d)}
			}
		}
		var be *Error
		if !errors.As(err, &be) {
			be = &Error{Kind: KindTransient, Message: err.Error(), Err: err}
		}
		last = be
		switch be.Kind {
		case KindInvalid:
			e.serverAnswered(false)
			return item{row: row, final: true, res: e.result(row, StatusInvalid, ph, be.Code, be.Key, be.Message, attempts, d)}
		case KindNotFound:
			e.serverAnswered(false)
			return item{row: row, final: true, res: e.result(row, StatusFailed, ph, be.Code, be.Key, be.Message, attempts, d)}
		case KindForbidden:
			e.serverAnswered(true)
			return item{row: row, final: true, res: e.result(row, StatusFailed, ph, be.Code, be.Key, be.Message, attempts, d)}
		case KindUnauthorized:
			e.abort(StopAborted, fmt.Sprintf("authentication refused (%s %s)", be.Code, be.Message))
			return item{row: row, final: true, res: e.result(row, StatusError, ph, be.Code, be.Key, be.Message, attempts, d)}
		case KindFatal:
			e.abort(StopAborted, be.Error())
			return item{row: row, final: true, res: e.result(row, StatusError, ph, be.Code, be.Key, be.Message, attempts, d)}
		}
		// Transient (or unknown): retry.
		if be.Throttle {
			e.throttles.Add(1)
			e.gov.throttle(be.RetryAfter)
			throttles++
			tries-- // a throttle slows the pool; it does not use up the row's tries
			if e.throttleFailed(seq) {
				return item{row: row, final: true, res: e.result(row, StatusError, ph, be.Code, be.Key, be.Message, attempts, d)}
			}
			if throttles <= e.opts.MaxThrottles {
				continue
			}
		} else if e.transportFailed() {
			return item{row: row, final: true, res: e.result(row, StatusError, ph, be.Code, be.Key, be.Message, attempts, d)}
		}
		if tries >= e.opts.MaxAttempts || throttles > e.opts.MaxThrottles {
			return item{row: row, final: true, res: e.result(row, StatusError, ph, be.Code, be.Key,
				fmt.Sprintf("gave up after %d attempts: %s", attempts, be.Message), attempts, d)}
		}
		if !e.backoff(tries, be.RetryAfter) {
			return e.unfinished(row, ph, attempts, last, start)
		}
	}
}

// unfinished is the item for a row stopped before it got an answer: with
// no request sent in this phase it is left for the sweep (skipped); after
// transport faults it is an error (resume redoes both).
func (e *engine) unfinished(row *Row, ph Phase, attempts int, last *Error, start time.Time) item {
	if attempts == 0 || last == nil {
		return item{row: row}
	}
	msg := "stopped while retrying: " + last.Message
	return item{row: row, final: true, res: e.result(row, StatusError, ph, last.Code, last.Key, msg, attempts, e.opts.Now().Sub(start))}
}

// serverAnswered resets the transport-failure run and tracks repeated
// 402/403 answers.
func (e *engine) serverAnswered(forbidden bool) {
	e.gov.success()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.consecFailures = 0
	if !forbidden {
		e.consecForbid = 0
		return
	}
	e.consecForbid++
	if e.consecForbid >= e.opts.ForbiddenAbortAfter {
		e.abort(StopAborted, fmt.Sprintf("%d rows in a row refused with 402/403: the user's role or rate plan forbids mailbox updates", e.consecForbid))
	}
}

// transportFailed counts a transport failure; true when the circuit opens.
func (e *engine) transportFailed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.consecFailures++
	if e.consecFailures >= e.opts.CircuitThreshold {
		e.abort(StopAborted, fmt.Sprintf("circuit open: %d consecutive transport failures", e.consecFailures))
		return true
	}
	return false
}

// throttleFailed counts a 429/503 toward the circuit like any transport
// failure, unless the request went out before the previous throttle
// answer came back: the answers to requests already in flight are one
// wave, one piece of evidence (64 workers against a rate limit must not
// open the circuit at the first wave). Without it a server answering
// nothing but 503, a maintenance page, never opened the circuit: the run
// crawled on at the slowest pace with 50 tries per row. seq is the
// request's number; true when the circuit opens.
func (e *engine) throttleFailed(seq int64) bool {
	e.mu.Lock()
	wave := seq <= e.throttleSeq
	e.throttleSeq = e.requests.Load()
	e.mu.Unlock()
	if wave {
		return false
	}
	return e.transportFailed()
}

// backoff sleeps before retry number tries (full jitter, at least
// Retry-After); false when the run stopped meanwhile.
func (e *engine) backoff(tries int, retryAfter time.Duration) bool {
	ceil := e.opts.BackoffBase << min(tries-1, 20)
	if ceil > e.opts.BackoffMax || ceil <= 0 {
		ceil = e.opts.BackoffMax
	}
	d := time.Duration(rand.Int64N(int64(ceil) + 1))
	if retryAfter > d {
		d = retryAfter
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.stopCtx.Done():
		return false
	}
}

// scheduler hands rows to workers so that rows of one mailbox go in file
// order and never at the same time: a row whose mailbox is busy waits in
// that mailbox's queue until the writer has made the earlier row's result
// durable (release), so a crash never leaves a later row applied and an
// earlier one unrecorded.
//
// Ready rows travel on a channel and the pending bound is a semaphore, not
// a sync.Cond: a Cond's Broadcast would wake every idle worker (and the
// dispatcher) for each row added or released, and with 64 workers that
// herd cost more CPU than the engine's real work. Both channels hold
// at most limit items, and a row is ready only while it is pending, so
// neither add nor release ever blocks on ready.
type scheduler struct {
	ready chan *Row     // rows to send, in the order they became ready
	slots chan struct{} // one token per pending row: memory stays flat

	mu      sync.Mutex
	waiting map[string][]*Row // busy mailbox -> rows queued behind it
	pending int               // rows added and not yet released
	closed  bool              // no more rows will be added
	done    bool              // ready is closed
}

func newScheduler(limit int) *scheduler {
	return &scheduler{
		ready:   make(chan *Row, limit),
		slots:   make(chan struct{}, limit),
		waiting: map[string][]*Row{},
	}
}

// add queues a row; it blocks while too many rows are pending (memory
// stays flat). False when ctx stopped the run.
func (s *scheduler) add(r *Row, ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending++
	k := r.Key()
	if q, busy := s.waiting[k]; busy {
		s.waiting[k] = append(q, r)
		return true
	}
	s.waiting[k] = nil
	s.ready <- r
	return true
}

// take returns the next row to send, nil when there are none left or the
// run stopped.
func (s *scheduler) take(ctx context.Context) *Row {
	if ctx.Err() != nil {
		return nil
	}
	select {
	case r, ok := <-s.ready:
		if !ok || ctx.Err() != nil {
			return nil // stopped: a row taken now is left for the sweep
		}
		return r
	case <-ctx.Done():
		return nil
	}
}

// release ends a row: the next row of its mailbox, if any, becomes ready.
func (s *scheduler) release(r *Row) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	<-s.slots
	k := r.Key()
	if q := s.waiting[k]; len(q) > 0 {
		s.ready <- q[0]
		if len(q) == 1 {
			s.waiting[k] = nil
		} else {
			s.waiting[k] = q[1:]
		}
	} else {
		delete(s.waiting, k)
	}
	s.finish()
}

// close says no more rows will be added.
func (s *scheduler) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.finish()
}

// finish lets the workers go once the last row is released (mu held).
func (s *scheduler) finish() {
	if s.closed && s.pending == 0 && !s.done {
		s.done = true
		close(s.ready)
	}
}

// bitset is a growable set of row numbers.
type bitset []uint64

func (b *bitset) set(i int) {
	w := i / 64
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) % 64)
}

func (b bitset) has(i int) bool {
	w := i / 64
	return w < len(b) && b[w]&(1<<(uint(i)%64)) != 0
}
