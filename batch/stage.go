package batch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// Staging: ways to start a bulk change small and stop it early, as
// deployment tools stage a rollout.
//
//   - A canary (Options.Canary) applies a few valid rows, spread over the
//     customers, reads them back and stops, resumably, for a look.
//   - A failure threshold (Options.MaxFailures) stops sending once too
//     many rows fail at apply.
//   - A read-back (Options.ReadBack) reads each mailbox after its update
//     and reports a value the server did not keep as a mismatch.
//   - A settled row (Row.Settled) is reported as decided before the run
//     (an approved plan found nothing to send for it), never sent.
//
// The engine's hooks are one line each in phase.go and attempt.go.

// Settled is a row's result decided before the run.
type Settled struct {
	Status  Status
	Phase   Phase
	Code    string
	Key     string
	Message string
}

// item is the writer's item for a settled row: final, and never through
// the scheduler.
func (s *Settled) item(row *Row) item {
	o := outcome{status: s.Status, phase: s.Phase, code: s.Code, key: s.Key, message: s.Message}
	return item{row: row, final: true, local: true, res: o.result(row)}
}

// FailureLimit is Options.MaxFailures: the run stops sending once more
// than Rows rows failed at apply (0: at the first), or, when Percent > 0
// (Rows is then not used), once more than Percent per cent of the rows
// sent at apply failed and at least MinSample rows were sent. A row fails
// at apply when its apply phase ends failed, error, invalid or mismatch;
// a row is sent when its apply phase ends in anything but skipped or
// unchanged (a conflict counts as sent, not failed: it is the switch's
// answer to a conditional row, not a fault).
type FailureLimit struct {
	Rows      int
	Percent   float64
	MinSample int // 0: DefaultFailureSample
}

// DefaultFailureSample is the least number of rows sent at apply before
// a percentage threshold is judged: with fewer, one failure among the
// first rows would be 100% and stop any run. 20 rows make one failure 5%.
const DefaultFailureSample = 20

// exceeded reports whether failed of sent rows is beyond the limit.
func (l FailureLimit) exceeded(failed, sent int64) bool {
	if l.Percent <= 0 {
		return failed > int64(l.Rows)
	}
	min := int64(l.MinSample)
	if min <= 0 {
		min = DefaultFailureSample
	}
	return sent >= min && float64(failed)*100 > l.Percent*float64(sent)
}

// FailureLimitError is the Err of the StopError of a run stopped by its
// FailureLimit.
type FailureLimitError struct {
	Limit  FailureLimit
	Failed int64 // rows failed at apply when the limit was passed
	Sent   int64 // rows sent at apply then
}

func (e *FailureLimitError) Error() string {
	return fmt.Sprintf("%d of %d rows sent failed at apply: beyond the failure limit", e.Failed, e.Sent)
}

// CanaryError is the Err of the StopError of a canary run that has rows
// left: the canary rows are done, the others not sent.
type CanaryError struct {
	Rows int // canary rows applied (or attempted)
	// Clean is true when every canary row is ok (or unchanged) and, if
	// it was sent, read back as sent.
	Clean bool
	Left  int // valid rows not sent
}

func (e *CanaryError) Error() string {
	return fmt.Sprintf("canary of %d rows done, %d rows left", e.Rows, e.Left)
}

// CanaryReport is what Options.AfterCanary is told of the canary.
type CanaryReport struct {
	Rows  int
	Clean bool
	Left  int
}

// ReadBackCounts count the rows read back after their update.
type ReadBackCounts struct {
	Verified   int // read back as sent
	Mismatched int // read back with a field that differs (StatusMismatch)
	Unverified int // applied but not read back (the read failed or the run stopped)
}

// stage is the engine's staging state: counters the workers share.
type stage struct {
	sent, failed atomic.Int64 // rows sent, failed at apply (FailureLimit)

	verified, mismatched, unverified atomic.Int64

	// canary is the canary rows, set before the canary's phase and
	// read-only from then on.
	canary    RowSet
	canaryN   int
	canaryOn  bool        // the apply phase sends the canary rows only
	canaryBad atomic.Bool // a canary row did not end ok (or unchanged) and read back as sent
}

// applyWanted is whether the apply phase sends row n: a valid row; during
// a canary, a canary row; after it, one that is not.
func (e *engine) applyWanted(n int) bool {
	switch {
	case !e.valid.Has(n):
		return false
	case e.stage.canaryOn:
		return e.stage.canary.Has(n)
	case e.opts.Canary > 0:
		return !e.stage.canary.Has(n)
	}
	return true
}

// applyTotal is how many rows the apply phase sends, for the progress.
func (e *engine) applyTotal() int {
	if e.stage.canaryOn {
		return e.stage.canaryN
	}
	if e.opts.Canary > 0 {
		return e.validCount - e.stage.canaryN
	}
	return e.validCount
}

// apply runs the apply phase: at once, or the canary first and then,
// when Options.AfterCanary says so, the rest; else the run stops.
func (e *engine) apply(ctx context.Context, open Opener) error {
	if e.opts.Canary <= 0 {
		return e.phase(ctx, open, PhaseApply)
	}
	if err := e.pickCanary(open); err != nil {
		return err
	}
	e.stage.canaryOn = true
	if err := e.phase(ctx, open, PhaseApply); err != nil {
		return err
	}
	e.stage.canaryOn = false
	if stopCause(ctx) != nil {
		return nil
	}
	left := e.validCount - e.stage.canaryN
	if left <= 0 {
		return nil
	}
	rep := CanaryReport{Rows: e.stage.canaryN, Clean: !e.stage.canaryBad.Load(), Left: left}
	if rep.Clean && e.opts.AfterCanary != nil && e.opts.AfterCanary(ctx, rep) && ctx.Err() == nil {
		return e.phase(ctx, open, PhaseApply)
	}
	ce := &CanaryError{Rows: rep.Rows, Clean: rep.Clean, Left: left}
	e.stop(&StopError{Kind: StopBudget, Reason: fmt.Sprintf("canary of %d rows applied; stopped for a look", rep.Rows), Err: ce})
	return nil
}

// pickCanary chooses the canary rows: Options.Canary valid rows taken
// round-robin by customer among each customer's first rows (the first
// row of every customer in the order they appear, then the second, ...),
// so that a canary over a file of several customers touches each of
// them. A row is left out when an earlier row of its mailbox is not in
// the canary: it must not be applied before that row. Memory is bounded
// by the canary's size squared and the customers that share a number
// with a canary row, not by the rows.
func (e *engine) pickCanary(open Opener) error {
	n := e.opts.Canary
	buckets, err := e.firstRowsByCustomer(open, n)
	if err != nil {
		return err
	}
	picked := roundRobin(buckets, n)
	// A canary row after a row of its mailbox that is not in the canary
	// would be applied first: left out (and then it holds back the later
	// rows of its mailbox in turn). A row without a customer may be any
	// customer's mailbox of its number (the login's own is not known
	// here), so it holds back, and is held back by, every customer's.
	picks := map[string][]string{} // mailbox -> customers of picked rows
	err = e.eachValid(open, func(row *Row) {
		if picked.Has(row.Num) {
			picks[row.Mailbox] = append(picks[row.Mailbox], row.Customer)
		}
	})
	if err != nil {
		return err
	}
	held := map[string]map[string]bool{} // mailbox -> customers of rows left out
	heldBack := func(row *Row) bool {
		h := held[row.Mailbox]
		return h[row.Customer] || h[""] || row.Customer == "" && len(h) > 0
	}
	var canary RowSet
	count := 0
	err = e.eachValid(open, func(row *Row) {
		if _, ok := picks[row.Mailbox]; !ok {
			return
		}
		if picked.Has(row.Num) && !heldBack(row) {
			canary.Set(row.Num)
			count++
			return
		}
		if held[row.Mailbox] == nil {
			held[row.Mailbox] = map[string]bool{}
		}
		held[row.Mailbox][row.Customer] = true
	})
	e.stage.canary, e.stage.canaryN = canary, count
	return err
}

// firstRowsByCustomer is, for each of the first n customers in the order
// they appear, the numbers of its first n valid rows.
func (e *engine) firstRowsByCustomer(open Opener, n int) ([][]int, error) {
	var order [][]int
	byCustomer := map[string]int{} // customer -> its index in order
	err := e.eachValid(open, func(row *Row) {
		i, ok := byCustomer[row.Customer]
		if !ok {
			if len(order) == n {
				return // customers after the first n are never reached
			}
			i = len(order)
			byCustomer[row.Customer] = i
			order = append(order, nil)
		}
		if len(order[i]) < n {
			order[i] = append(order[i], row.Num)
		}
	})
	return order, err
}

// roundRobin takes up to n rows from the buckets: the first row of each
// bucket in turn, then the second, ...
func roundRobin(buckets [][]int, n int) RowSet {
	var picked RowSet
	count := 0
	for round := 0; count < n; round++ {
		took := false
		for _, b := range buckets {
			if round < len(b) && count < n {
				picked.Set(b[round])
				count++
				took = true
			}
		}
		if !took {
			break
		}
	}
	return picked
}

// eachValid calls f with every row that passed validation, in file order.
func (e *engine) eachValid(open Opener, f func(*Row)) error {
	src, c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()
	rows, _ := Wanted(src, e.valid.Has)
	for row, err := range rows {
		if err != nil {
			return fmt.Errorf("input changed during the run: %w", err)
		}
		f(&row)
	}
	return nil
}

// staged counts a row a worker finished toward the failure limit, which
// it judges at once (not in the writer): a worker that passes the limit
// stops the run before it takes another row, so with one worker no row
// goes after the one that passed it.
func (e *engine) staged(it item) {
	if !it.final || it.res.Phase != PhaseApply {
		return
	}
	st := it.res.Status
	if e.stage.canaryOn && st != StatusUnchanged && (st != StatusOK || !it.verified) {
		e.stage.canaryBad.Store(true)
	}
	if st == StatusSkipped || st == StatusUnchanged {
		return
	}
	sent := e.stage.sent.Add(1)
	failed := e.stage.failed.Load()
	switch st {
	case StatusFailed, StatusError, StatusInvalid, StatusMismatch:
		failed = e.stage.failed.Add(1)
	}
	if lim := e.opts.MaxFailures; lim != nil && lim.exceeded(failed, sent) {
		e.stop(&StopError{Kind: StopBudget,
			Reason: fmt.Sprintf("%d of %d rows sent failed at apply: beyond the failure limit", failed, sent),
			Err:    &FailureLimitError{Limit: *lim, Failed: failed, Sent: sent}})
	}
}

// readBack reads the mailbox of an applied row (it, ok or conflict) back
// and compares it with the params the update sent: a field shown with
// another value makes the row a mismatch. A field the read does not show
// (a masked PIN) cannot be compared and is not. The read goes through
// the gate, the pace and the retry rule like any request of the row; it
// is not counted in the row's attempts. A read that fails or a run that
// stops first leaves the row as it is, said so in its message.
func (e *engine) readBack(ctx context.Context, a *attempt, it item) item {
	if e.opts.ReadBack == nil || !it.final || (it.res.Status != StatusOK && it.res.Status != StatusConflict) {
		return it
	}
	cur, why := e.readAgain(ctx, a.row)
	if why == "" {
		why = strings.TrimPrefix(e.answersOther(a.row, cur), "read before update: ")
	}
	if why != "" {
		e.stage.unverified.Add(1)
		it.res.Message = joinMessage(it.res.Message, "not read back: "+why)
		return it
	}
	diffs := readBackDiffs(a.params(), cur)
	if len(diffs) == 0 {
		e.stage.verified.Add(1)
		it.verified = true
		return it
	}
	e.stage.mismatched.Add(1)
	msg := fmt.Sprintf("the server answered %s but does not hold what was sent: %s", it.res.Code, strings.Join(diffs, "; "))
	if it.res.Status == StatusConflict {
		msg += "; " + it.res.Message
	}
	it.res.Message = msg
	it.res.Status = StatusMismatch
	return it
}

// readBackDiffs says which params sent the mailbox read back does not
// hold. A field the read does not show (a masked PIN) is not compared.
func readBackDiffs(sent []Param, cur Values) []string {
	var diffs []string
	for _, p := range sent {
		if p.Name == "mailbox" || p.Name == "customer" || p.Value == "" && schema.EmptyKeeps(p.Name) {
			continue
		}
		v, shown := cur[p.Name]
		if !shown || v.Text == p.Value {
			continue
		}
		switch {
		case schema.IsSecret(p.Name):
			diffs = append(diffs, p.Name+" does not read back as sent (secret: not shown)")
		case v.Null:
			diffs = append(diffs, fmt.Sprintf("%s sent %s, reads null", p.Name, strconv.Quote(p.Value)))
		default:
			diffs = append(diffs, fmt.Sprintf("%s sent %s, reads %s", p.Name, strconv.Quote(p.Value), strconv.Quote(v.Text)))
		}
	}
	return diffs
}

// readAgain is mailboxes/get after an update, retried as any request; why
// says why there is no answer.
func (e *engine) readAgain(ctx context.Context, row *Row) (Values, string) {
	a := &attempt{row: row, phase: PhaseApply, start: e.opts.Now()}
	for {
		if ctx.Err() != nil {
			return e.readOnceStopped(ctx, a)
		}
		e.gate(ctx)
		if err := e.gov.wait(ctx); err != nil || ctx.Err() != nil {
			e.stopOn(err)
			continue
		}
		cur, seq, err := e.get(a, e.opts.ReadBack)
		if err == nil {
			e.answered(false)
			return cur, ""
		}
		var be *Error
		if !errors.As(err, &be) {
			be = &Error{Kind: KindTransient, Message: err.Error(), Err: err}
		}
		a.last = be
		_, v := e.decide(a, outcome{phase: PhaseApply}, be, seq)
		switch v {
		case settled:
			return nil, "mailboxes/get: " + be.Message
		case retryBackoff:
			if !e.backoff(ctx, a.tries, be.RetryAfter) {
				return nil, "the run stopped first"
			}
		}
	}
}

// readOnceStopped is the read-back of a row updated before the run
// stopped. A budget, a deadline or a window ends the run, not the rows
// already updated: their read-back is part of them, one request each
// (at most one a worker, not paced, not retried), or a --verify row would
// stay "ok" unread and no --resume would come back to it. An abort or an
// interrupt reads nothing more.
func (e *engine) readOnceStopped(ctx context.Context, a *attempt) (Values, string) {
	var se *StopError
	if !errors.As(context.Cause(ctx), &se) || se.Kind != StopBudget {
		return nil, "the run stopped first"
	}
	cur, _, err := e.get(a, e.opts.ReadBack)
	if err != nil {
		msg := err.Error()
		var be *Error
		if errors.As(err, &be) {
			msg = be.Message
		}
		return nil, "mailboxes/get: " + msg
	}
	return cur, ""
}

func joinMessage(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// readBackCounts are the read-back counters for the summary.
func (e *engine) readBackCounts() ReadBackCounts {
	return ReadBackCounts{Verified: int(e.stage.verified.Load()), Mismatched: int(e.stage.mismatched.Load()),
		Unverified: int(e.stage.unverified.Load())}
}
