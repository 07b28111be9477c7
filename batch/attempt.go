package batch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// outcome is how one row ended in one phase; result turns it into the
// row's Result.
type outcome struct {
	status   Status
	phase    Phase
	code     string
	key      string
	message  string
	attempts int
	duration time.Duration
	changes  []Change
}

func (o outcome) result(row *Row) Result {
	if row.Note != "" && o.status != StatusSkipped {
		if o.message != "" {
			o.message += "; "
		}
		o.message += row.Note
	}
	return Result{
		Row: row.Num, Line: row.Line, Mailbox: row.Mailbox, Customer: row.Customer,
		Status: o.status, Phase: o.phase, Code: o.code, Key: o.key, Message: o.message,
		Attempts: o.attempts, Duration: o.duration, Fields: row.Fields(), Hash: row.Hash,
		Changes: o.changes,
	}
}

// final is the item that ends row with status st.
func (o outcome) final(row *Row, st Status) item {
	o.status = st
	return item{row: row, final: true, res: o.result(row)}
}

// withConflicts makes an applied row's result a conflict when the read
// before it found fields of a conditional row changed since.
//
// Forced, every field was written as asked: the row is ok, and its
// message still names each value it overwrote.
func (e *engine) withConflicts(a *attempt, it item) item {
	if len(a.conflicts) == 0 || !it.final || it.res.Status != StatusOK {
		return it
	}
	if e.opts.Force {
		it.res.Message = e.conflictMessage(a.conflicts, true) + " (" + it.res.Message + ")"
		return it
	}
	it.res.Status = StatusConflict
	it.res.Message = e.conflictMessage(a.conflicts, false) + "; the other fields were written (" + it.res.Message + ")"
	return it
}

// attempt is one row's tries in one phase.
type attempt struct {
	row       *Row
	phase     Phase
	start     time.Time
	attempts  int    // requests sent
	tries     int    // requests that count toward MaxAttempts: not throttles
	throttles int    // 429/503 answers
	last      *Error // the last fault

	// changes are what the read before the update found (read.go); send
	// the params the update sends (nil: the row's), conflicts the fields
	// of a conditional row that did not hold what it expected.
	changes   []Change
	send      []Param
	conflicts []conflict
	// recorded: the row's undo entry is durable, so an update never sent
	// must be withdrawn; counted: the row counted toward MaxRows.
	recorded bool
	counted  bool
}

// params are what the attempt sends: the row's, less what the read
// before the update left out.
func (a *attempt) params() []Param {
	if a.send != nil {
		return a.send
	}
	return a.row.Params
}

// verdict is the retry decision after a fault.
type verdict int

const (
	settled      verdict = iota // the row's result is final
	retryNow                    // a throttle already slowed the whole pool
	retryBackoff                // retry after the row's own backoff
)

// process sends one row in one phase until it has a final result, the run
// stops, or (a passed validation in a run) it may go on to the apply
// phase; it returns the item for the writer.
func (e *engine) process(ctx context.Context, row *Row, ph Phase) item {
	if msg := e.circuit.refusal(row.Customer); msg != "" {
		return outcome{phase: PhaseNone, message: msg}.final(row, StatusSkipped)
	}
	a := &attempt{row: row, phase: ph, start: e.opts.Now()}
	if ph == PhaseApply && e.opts.Getter != nil {
		if it, done := e.readFirst(ctx, a); done {
			return it
		}
	}
	for {
		e.gate(ctx)
		wctx := a.waitContext(ctx)
		if err := e.gov.wait(wctx); err != nil || wctx.Err() != nil || e.overBudget(a) {
			e.stopOn(err) // the deadline (governor.go)
			return e.unfinished(a)
		}
		resp, seq, err := e.send(a)
		o := outcome{phase: ph, attempts: a.attempts, duration: e.opts.Now().Sub(a.start), changes: a.changes}
		if err == nil {
			var it item
			if it, err = e.succeeded(a, o, resp); err == nil {
				return e.readBack(ctx, a, e.withConflicts(a, it))
			}
		}
		var be *Error
		if !errors.As(err, &be) {
			be = &Error{Kind: KindTransient, Message: err.Error(), Err: err}
		}
		a.last = be
		o.code, o.key, o.message = be.Code, be.Key, be.Message
		it, v := e.decide(a, o, be, seq)
		switch v {
		case settled:
			return it
		case retryBackoff:
			if !e.backoff(ctx, a.tries, be.RetryAfter) {
				return e.unfinished(a)
			}
		}
	}
}

// gate asks Options.Gate whether the run may go on; a refusal stops the
// run, resumably unless the gate says otherwise.
func (e *engine) gate(ctx context.Context) {
	if e.opts.Gate == nil {
		return
	}
	if err := e.opts.Gate(ctx); err != nil {
		var se *StopError
		if !errors.As(err, &se) {
			se = &StopError{Kind: StopBudget, Reason: err.Error(), Err: err}
		}
		e.stop(se)
	}
}

// begin counts one more request of a's row, an update or a read: an
// attempt, a try toward MaxAttempts, a retry after the first, and the
// run's next request number, which it returns.
func (e *engine) begin(a *attempt) int64 {
	a.attempts++
	a.tries++
	if a.attempts > 1 {
		e.retries.Add(1)
	}
	return e.requests.Add(1)
}

// send makes one request. It runs without ctx's cancellation: a stop lets
// requests already sent finish, on their own timeout, so that their
// answers are recorded. seq is the request's number in the run. The
// deadline is the one timer of the request: net/http adds none of its own
// for a context that ends before its Client.Timeout would.
func (e *engine) send(a *attempt) (resp Response, seq int64, err error) {
	seq = e.begin(a)
	rctx, cancel := context.WithTimeout(e.detached, e.opts.Timeout)
	defer cancel()
	params := a.row.Params
	if a.phase == PhaseApply {
		params = a.params()
	}
	resp, err = e.sender.Update(rctx, params, a.phase == PhaseValidate)
	return resp, seq, err
}

// succeeded judges an answer the sender did not refuse. Success is
// phase-exact: 201 to a validation, 204 to an apply. A 204 to a
// validation means the server applied a change it was asked only to check
// (a server or proxy that drops validation=1): every later row would be
// applied unchecked too, so the run stops at once. A 201 to an apply is a
// definite answer that nothing was applied: the row failed (sending it
// again would get the same answer). Any other code (200, 202, ...) is
// returned as a transport-class fault, retried and then an error, like
// the unknown codes enswitch already treats so.
func (e *engine) succeeded(a *attempt, o outcome, resp Response) (item, error) {
	o.code, o.key, o.message = resp.Code, resp.Key, resp.Message
	switch {
	case a.phase == PhaseValidate && resp.Code == CodeApplied:
		e.answered(false)
		e.abort(StopAborted, fmt.Sprintf("the server applied row %d during validation (it answered %s to validation=1, not %s): "+
			"it does not honour validation, so no row can be checked before it is applied; check the server or any proxy in front of it",
			a.row.Num, CodeApplied, CodeValidated))
		o.message = fmt.Sprintf("applied during validation: the server answered %s to validation=1 (%s)", resp.Code, resp.Message)
		return o.final(a.row, StatusAppliedUnvalidated), nil
	case a.phase == PhaseApply && resp.Code == CodeValidated:
		e.answered(false)
		o.message = fmt.Sprintf("not applied: the server answered %s (validation only) to an update (%s)", resp.Code, resp.Message)
		return o.final(a.row, StatusFailed), nil
	}
	want, asked := CodeApplied, "an update"
	if a.phase == PhaseValidate {
		want, asked = CodeValidated, "validation=1"
	}
	if resp.Code != want {
		return item{}, &Error{Kind: KindTransient, Code: resp.Code, Key: resp.Key,
			Message: fmt.Sprintf("unexpected code %s to %s (only %s is success): %s", resp.Code, asked, want, resp.Message)}
	}
	e.answered(false)
	switch {
	case a.phase == PhaseValidate && !e.opts.ValidateOnly:
		return e.passedItem(a.row, o), nil
	case a.phase == PhaseValidate:
		return o.final(a.row, StatusValid), nil
	}
	return o.final(a.row, StatusOK), nil
}

// decide is the retry rule: what a fault means for the row (o carries
// the fault's code, key and message) and whether to send it again.
func (e *engine) decide(a *attempt, o outcome, be *Error, seq int64) (item, verdict) {
	if it, ok := e.refused(a, o, be); ok {
		return it, settled
	}
	// Transient (or unknown): retry.
	if e.waitTooLong(be) {
		return e.unfinished(a), settled
	}
	var se *StopError
	if be.Throttle {
		se = e.throttled(a, be, seq)
		if se == nil && a.throttles <= e.opts.MaxThrottles {
			return item{}, retryNow
		}
	} else {
		se = e.circuit.transportFailed()
	}
	if se != nil {
		e.stop(se)
		return o.final(a.row, StatusError), settled
	}
	if a.tries >= e.opts.MaxAttempts || a.throttles > e.opts.MaxThrottles {
		o.message = fmt.Sprintf("gave up after %d attempts: %s", a.attempts, be.Message)
		return o.final(a.row, StatusError), settled
	}
	return item{}, retryBackoff
}

// refused settles a row the server gave a definite answer (invalid, not
// found, forbidden) or that stops the run (unauthorized, fatal); ok is
// false for any other fault, which may be retried.
func (e *engine) refused(a *attempt, o outcome, be *Error) (it item, ok bool) {
	switch be.Kind {
	case KindInvalid:
		e.answered(false)
		return o.final(a.row, StatusInvalid), true
	case KindNotFound:
		e.answered(false)
		return o.final(a.row, StatusFailed), true
	case KindForbidden:
		if be.Code == CodeRatePlan {
			e.gov.success()
			if se := e.circuit.planRefused(a.row.Customer, a.row.Num); se != nil {
				e.stop(se)
			}
		} else {
			e.answered(true)
		}
		return o.final(a.row, StatusFailed), true
	case KindUnauthorized, KindFatal:
		e.stop(abortFor(be))
		return o.final(a.row, StatusError), true
	}
	return item{}, false
}

// throttled takes a 429/503 answer to a's request seq: it slows the pool
// (and pauses it for a Retry-After); non-nil when the throttles open the
// circuit.
func (e *engine) throttled(a *attempt, be *Error, seq int64) *StopError {
	e.throttles.Add(1)
	if e.gov.throttle(be.RetryAfter) && e.opts.OnPause != nil {
		e.opts.OnPause(Pause{Asked: be.RetryAfter, Until: e.opts.Now().Add(be.RetryAfter), Message: be.Message})
	}
	a.throttles++
	a.tries-- // a throttle slows the pool; it does not use up the row's tries
	return e.circuit.throttled(seq, e.requests.Load())
}

// answered records an answer from the server (not a transport fault):
// the pace may recover and the transport circuit closes.
func (e *engine) answered(forbidden bool) {
	e.gov.success()
	if se := e.circuit.answered(forbidden); se != nil {
		e.stop(se)
	}
}

// unfinished is the item for a row stopped before it got an answer: with
// no request sent in this phase it is left for the sweep (skipped); after
// transport faults it is an error (resume redoes both).
func (e *engine) unfinished(a *attempt) item {
	if a.recorded && a.attempts == 0 {
		// Its undo entry is durable but the update never went: the entry
		// must not count. Failing to say so leaves an entry that restores
		// what the field already holds, so it is not a reason to stop.
		_ = e.opts.Undo.Withdraw(a.row)
		a.recorded = false
	}
	if a.attempts == 0 || a.last == nil {
		return item{row: a.row}
	}
	o := outcome{phase: a.phase, code: a.last.Code, key: a.last.Key,
		message: "stopped while retrying: " + a.last.Message, attempts: a.attempts, duration: e.opts.Now().Sub(a.start)}
	return o.final(a.row, StatusError)
}

// waitTooLong stops the run, resumably, when the server asks to wait
// longer than Options.MaxRetryAfter (a misconfigured proxy's year): the
// row is left for --resume, and the reason gives the server's words.
func (e *engine) waitTooLong(be *Error) bool {
	if be.RetryAfter <= e.opts.MaxRetryAfter {
		return false
	}
	e.stop(&StopError{Kind: StopBudget, Reason: fmt.Sprintf("the server asked to wait %s (Retry-After), more than the %s a run waits (%s %s)",
		be.RetryAfter.Round(time.Second), e.opts.MaxRetryAfter, be.Code, be.Message)})
	return true
}

// backoff sleeps before retry number tries (full jitter, at least
// Retry-After); false when the run stopped meanwhile.
func (e *engine) backoff(ctx context.Context, tries int, retryAfter time.Duration) bool {
	ceil := e.opts.BackoffBase << min(tries-1, 20)
	if ceil > e.opts.BackoffMax || ceil <= 0 {
		ceil = e.opts.BackoffMax
	}
	d := time.Duration(rand.Int64N(int64(ceil) + 1))
	if retryAfter > d {
		d = retryAfter
	}
	return Sleep(ctx, d) == nil
}
