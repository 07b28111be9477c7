package batch

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
)

// Values are a mailbox's fields as a read found them, by parameter name,
// as the strings an update would send. A field the server did not show
// is absent: the PIN, unless the server shows it in plain, is absent.
// NULL reads as "": an update cannot write NULL, and a server keeps "" and
// NULL for the same meaning.
type Values map[string]string

// Reader is the read side of the Sender port: mailboxes/get. A refusal
// or fault is returned as an *Error, like Update's.
type Reader interface {
	Read(ctx context.Context, mailbox, customer string) (Values, error)
}

// Change is one field a row changes: its value before and after. A
// secret field (the PIN) carries no values.
type Change struct {
	Field  string
	Old    string
	New    string
	Known  bool // the read showed the old value
	Secret bool // the PIN: Old and New are left empty
}

// UndoEntry is what Options.Undo records before a row's update is sent:
// the mailbox (Prev holds mailbox and customer as the row gives them) and
// the previous value of every changed field the read showed. Lost names
// the changed fields whose previous value the server did not show (a
// masked or absent PIN), which an undo cannot restore.
type UndoEntry struct {
	Row  *Row
	Prev []Param
	Lost []string
}

// readFirst is the read before an apply: it decides whether the row
// changes anything and, in a run, records the undo entry. done is true
// when the row's result is decided (unchanged, a plan's change, a read
// that failed) or the run stopped; otherwise the update goes ahead with
// a's counters reset and a.changes set.
//
// The read goes through the same gate, pace, retry rule and circuit as
// an update (it is one more request of the row), but its attempts are not
// the update's: the report's attempts stay the update's.
func (e *engine) readFirst(ctx context.Context, a *attempt) (it item, done bool) {
	cur, it, ok := e.read(ctx, a)
	if !ok {
		return it, true
	}
	cur = e.overlay.view(a.row, cur)
	changes, undo := diff(a.row, cur)
	o := outcome{phase: a.phase, attempts: a.attempts, duration: e.opts.Now().Sub(a.start), changes: changes}
	switch {
	case len(changes) == 0:
		e.overlay.done(a.row, true)
		o.message = "already holds these values; not sent"
		return o.final(a.row, StatusUnchanged), true
	case e.opts.PlanOnly:
		e.overlay.done(a.row, true)
		return o.final(a.row, StatusChange), true
	}
	if e.opts.Undo != nil {
		if err := e.opts.Undo(undo); err != nil {
			e.stop(&StopError{Kind: StopAborted, Reason: "undo file: " + err.Error(), Err: err})
			return item{row: a.row}, true
		}
	}
	a.changes = changes
	a.attempts, a.tries, a.throttles, a.last = 0, 0, 0, nil
	return item{}, false
}

// waitContext is the context an update waits for its turn under: a row
// whose read is done (its undo entry written) is a request in flight, so
// a stop does not hold back its first update; a retry after a stop does
// not go.
func (a *attempt) waitContext(ctx context.Context) context.Context {
	if a.changes != nil && a.attempts == 0 {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// read sends mailboxes/get until it has an answer; ok is false when the
// row ended (it is the row's item) or the run stopped.
func (e *engine) read(ctx context.Context, a *attempt) (cur Values, it item, ok bool) {
	for {
		e.gate(ctx)
		if err := e.gov.wait(ctx); err != nil || ctx.Err() != nil {
			e.stopOn(err) // the deadline (governor.go)
			return nil, e.unfinished(a), false
		}
		a.attempts++
		a.tries++
		if a.attempts > 1 {
			e.retries.Add(1)
		}
		seq := e.requests.Add(1)
		rctx, cancel := context.WithTimeout(e.detached, e.opts.Timeout)
		cur, err := e.opts.Reader.Read(rctx, a.row.Mailbox, a.row.Customer)
		cancel()
		if err == nil {
			e.answered(false)
			return cur, item{}, true
		}
		var be *Error
		if !errors.As(err, &be) {
			be = &Error{Kind: KindTransient, Message: err.Error(), Err: err}
		}
		// The row's report must say the read failed, not the update.
		rb := *be
		rb.Message = "read before update (mailboxes/get): " + be.Message
		a.last = &rb
		o := outcome{phase: a.phase, attempts: a.attempts, duration: e.opts.Now().Sub(a.start),
			code: rb.Code, key: rb.Key, message: rb.Message}
		it, v := e.decide(a, o, &rb, seq)
		switch v {
		case settled:
			e.overlay.done(a.row, false)
			return nil, it, false
		case retryBackoff:
			if !e.backoff(ctx, a.tries, rb.RetryAfter) {
				return nil, e.unfinished(a), false
			}
		}
	}
}

// diff compares a row with the mailbox as read: the fields it changes,
// and the undo entry that puts them back.
func diff(row *Row, cur Values) ([]Change, UndoEntry) {
	var changes []Change
	undo := UndoEntry{Row: row}
	for _, p := range row.Params {
		switch {
		case p.Name == "mailbox" || p.Name == "customer":
			undo.Prev = append(undo.Prev, p)
			continue
		case p.Name == pinField && p.Value == "":
			continue // "" keeps the PIN
		}
		old, known := cur[p.Name]
		if known && old == p.Value {
			continue
		}
		c := Change{Field: p.Name, Old: old, New: p.Value, Known: known}
		if p.Name == pinField {
			c = Change{Field: p.Name, Known: known, Secret: true}
		}
		changes = append(changes, c)
		if known {
			undo.Prev = append(undo.Prev, Param{Name: p.Name, Value: old})
		} else {
			undo.Lost = append(undo.Lost, p.Name)
		}
	}
	return changes, undo
}

// pinField is the one field whose values never leave the engine but to
// the undo file.
const pinField = "pin"

// overlay is what a plan compares later rows of a mailbox against: the
// values the earlier rows of that mailbox would leave, since a plan sends
// no update for the next read to see. Only mailboxes with rows still to
// come are held (pass 0 counts rows per mailbox, by a 64-bit hash of its
// key), so memory follows the mailboxes named more than once, not the
// rows. A nil overlay (a run) does nothing.
type overlay struct {
	mu      sync.Mutex
	pending map[uint64]int32  // rows of a mailbox not yet planned
	values  map[string]Values // mailbox key -> values its planned rows leave
}

func newOverlay() *overlay {
	return &overlay{pending: map[uint64]int32{}, values: map[string]Values{}}
}

func keyHash(r *Row) uint64 {
	h := fnv.New64a()
	h.Write([]byte(r.Key()))
	return h.Sum64()
}

// count is pass 0: one more row of r's mailbox.
func (ov *overlay) count(r *Row) {
	if ov == nil || r.Err != nil {
		return
	}
	ov.pending[keyHash(r)]++
}

// view returns cur as the earlier planned rows of r's mailbox leave it.
func (ov *overlay) view(r *Row, cur Values) Values {
	if ov == nil {
		return cur
	}
	ov.mu.Lock()
	defer ov.mu.Unlock()
	left := ov.values[r.Key()]
	if len(left) == 0 {
		return cur
	}
	out := make(Values, len(cur)+len(left))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range left {
		out[k] = v
	}
	return out
}

// done ends a row of the plan: applied says whether later rows see its
// values (change or unchanged); the mailbox is forgotten after its last
// row.
func (ov *overlay) done(r *Row, applied bool) {
	if ov == nil {
		return
	}
	ov.mu.Lock()
	defer ov.mu.Unlock()
	h := keyHash(r)
	n := ov.pending[h] - 1
	if n <= 0 {
		delete(ov.pending, h)
		delete(ov.values, r.Key())
		return
	}
	ov.pending[h] = n
	if !applied {
		return
	}
	left := ov.values[r.Key()]
	if left == nil {
		left = Values{}
		ov.values[r.Key()] = left
	}
	for _, p := range r.Params {
		if p.Name == pinField && p.Value == "" {
			continue
		}
		left[p.Name] = p.Value
	}
}
