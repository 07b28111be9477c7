package batch

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// Value is one field of a mailbox as a read found it, as the string an
// update would send. Null marks a field the server sent as null: it
// compares as "" (a server keeps "" and NULL for the same meaning), but
// an update cannot write it back, so an undo says so instead of writing
// "".
type Value struct {
	Text string
	Null bool
}

// Values are a mailbox's fields as a read found them, by parameter name.
// A field the server did not show is absent: the PIN, unless the server
// shows it in plain, is absent.
type Values map[string]Value

// Getter is the read side of the Sender port: mailboxes/get. A refusal
// or fault is returned as an *Error, like Update's.
type Getter interface {
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

// FieldUndo is one field of an undo entry: the value the read found
// before the update and the value the update sets, which the undo
// expects to find before it writes Old back.
type FieldUndo struct {
	Name string
	Old  Value
	Set  string
}

// UndoEntry is what Options.Undo records before a row's update is sent:
// the mailbox, its customer as resolved (the row's, else the one the
// read showed, else the login's own; "" when none is known), and every
// changed field the read showed. Lost names the changed fields whose
// previous value the server did not show (a masked or absent PIN), which
// an undo cannot restore.
type UndoEntry struct {
	Row      *Row
	Mailbox  string
	Customer string
	Fields   []FieldUndo
	Lost     []string
}

// UndoLog is where a run that reads before it writes keeps what puts its
// changes back.
type UndoLog interface {
	// Record is called before a row's update is sent; the entry must be
	// durable when it returns. An error aborts the run and the update
	// is not sent.
	Record(UndoEntry) error
	// Withdraw is called when the update of a recorded row was never
	// sent after all (the run stopped first): its entry must not count.
	Withdraw(row *Row) error
}

// readFirst is the read before an apply: it decides whether the row
// changes anything and, in a run, records the undo entry. done is true
// when the row's result is decided (unchanged, a plan's change, a
// conflict, a read that failed) or the run stopped; otherwise the update
// goes ahead with a's counters reset, a.send and a.changes set.
//
// The read goes through the same gate, pace, retry rule and circuit as
// an update (it is one more request of the row), but its attempts are not
// the update's: the report's attempts stay the update's.
func (e *engine) readFirst(ctx context.Context, a *attempt) (it item, done bool) {
	cur, ok := e.pre.take(a.row.Num) // a plan's row the list already read (prefetch.go)
	if ok && (ctx.Err() != nil || e.overBudget(a)) {
		return e.unfinished(a), true
	}
	if !ok {
		if cur, it, ok = e.read(ctx, a); !ok {
			return it, true
		}
	}
	o := outcome{phase: a.phase, attempts: a.attempts, duration: e.opts.Now().Sub(a.start)}
	if msg := e.answersOther(a.row, cur); msg != "" {
		e.overlay.done(e, a.row, false)
		o.message = msg
		return o.final(a.row, StatusFailed), true
	}
	cur = e.overlay.view(e, a.row, cur)
	send, conflicts := e.expect(a.row, cur)
	changes, undo := diff(a.row, send, cur)
	undo.Customer = e.customerOf(a.row, cur)
	o.changes = changes
	a.conflicts = conflicts
	switch {
	case len(changes) == 0 && len(conflicts) == 0:
		e.overlay.done(e, a.row, true)
		o.message = "already holds these values; not sent"
		return o.final(a.row, StatusUnchanged), true
	case len(changes) == 0:
		e.overlay.done(e, a.row, false)
		o.message = e.conflictMessage(conflicts, false) + "; nothing sent"
		return o.final(a.row, StatusConflict), true
	case e.opts.PlanOnly:
		e.overlay.done(e, a.row, true)
		if len(conflicts) > 0 {
			// A plan writes nothing: it says what a run would leave.
			o.message = e.conflictMessage(conflicts, false)
			if e.opts.Force {
				o.message += " (" + e.opts.Words.ForceHint + ")"
			}
			return o.final(a.row, StatusConflict), true
		}
		return o.final(a.row, StatusChange), true
	}
	if e.opts.Undo != nil {
		if err := e.opts.Undo.Record(undo); err != nil {
			e.stop(&StopError{Kind: StopAborted, Reason: "undo file: " + err.Error(), Err: err})
			return item{row: a.row}, true
		}
		a.recorded = true
	}
	a.send = send
	a.changes = changes
	a.attempts, a.tries, a.throttles, a.last = 0, 0, 0, nil
	return item{}, false
}

// get sends one mailboxes/get of a's row through g, one more request of
// the row (see begin), without the run's cancellation (as send).
func (e *engine) get(a *attempt, g Getter) (Values, int64, error) {
	seq := e.begin(a)
	rctx, cancel := context.WithTimeout(e.detached, e.opts.Timeout)
	defer cancel()
	cur, err := g.Read(rctx, a.row.Mailbox, a.row.Customer)
	return cur, seq, err
}

// answersOther says why a read answered for another mailbox or customer
// than the row's ("" when it did not): such values are never taken for
// the mailbox's, nor written to an undo file.
func (e *engine) answersOther(row *Row, cur Values) string {
	if v, ok := cur["mailbox"]; ok && !v.Null && v.Text != row.Mailbox {
		return fmt.Sprintf("read before update: the server answered for mailbox %q, not %q: not updated", v.Text, row.Mailbox)
	}
	want := row.Customer
	if want == "" && e.opts.OwnCustomer != nil {
		want = e.opts.OwnCustomer()
	}
	if v, ok := cur["customer"]; ok && !v.Null && want != "" && v.Text != want {
		return fmt.Sprintf("read before update: the server answered for customer %q's mailbox, not customer %q's: not updated", v.Text, want)
	}
	return ""
}

// customerOf is the customer a row's mailbox belongs to: the row's, else
// the one the read showed, else the login's own, else "".
func (e *engine) customerOf(row *Row, cur Values) string {
	if row.Customer != "" {
		return row.Customer
	}
	if v, ok := cur["customer"]; ok && !v.Null && v.Text != "" {
		return v.Text
	}
	if e.opts.OwnCustomer != nil {
		return e.opts.OwnCustomer()
	}
	return ""
}

// conflict is a field of a conditional row that does not hold what the
// row expected.
type conflict struct {
	field    string
	expected string
	found    Value
	known    bool // the read showed the field
}

// expect applies a conditional row's expectations to what the read found:
// the params to send (a field already holding its value, or, without
// Force, a field in conflict, is left out; with ExpectAll, every field
// once one is in conflict) and the conflicts.
func (e *engine) expect(row *Row, cur Values) ([]Param, []conflict) {
	if len(row.Expect) == 0 {
		return row.Params, nil
	}
	var conflicts []conflict
	out := make([]Param, 0, len(row.Params))
	for _, p := range row.Params {
		x, conditional := expected(row, p.Name)
		if !conditional {
			out = append(out, p)
			continue
		}
		v, known := cur[p.Name]
		switch {
		case known && v.Text == p.Value:
			continue // already holds what the row writes
		case known && v.Text == x:
		default:
			conflicts = append(conflicts, conflict{field: p.Name, expected: x, found: v, known: known})
			if !e.opts.Force {
				continue
			}
		}
		out = append(out, p)
	}
	if row.ExpectAll && len(conflicts) > 0 && !e.opts.Force {
		return nil, conflicts
	}
	return out, conflicts
}

func expected(row *Row, name string) (string, bool) {
	for _, x := range row.Expect {
		if x.Name == name {
			return x.Value, true
		}
	}
	return "", false
}

// conflictMessage lists the conflicts, with both values (never a PIN's).
func (e *engine) conflictMessage(cs []conflict, forced bool) string {
	var b strings.Builder
	if forced {
		b.WriteString(e.opts.Words.Forced)
	} else {
		b.WriteString("left alone")
	}
	b.WriteString(", changed since: ")
	for i, c := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		switch {
		case schema.IsSecret(c.field):
			fmt.Fprintf(&b, "%s no longer holds the value expected (secret: not shown)", c.field)
		case !c.known:
			fmt.Fprintf(&b, "%s expected %s, the server did not show it", c.field, strconv.Quote(c.expected))
		case c.found.Null:
			fmt.Fprintf(&b, "%s expected %s, now null", c.field, strconv.Quote(c.expected))
		default:
			fmt.Fprintf(&b, "%s expected %s, now %s", c.field, strconv.Quote(c.expected), strconv.Quote(c.found.Text))
		}
	}
	return b.String()
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
		// The row counts toward MaxRows at its read, not its update, so
		// that a stop never falls between its undo entry and its update.
		if err := e.gov.wait(ctx); err != nil || ctx.Err() != nil || e.overBudget(a) {
			e.stopOn(err) // the deadline (governor.go)
			return nil, e.unfinished(a), false
		}
		cur, seq, err := e.get(a, e.opts.Getter)
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
			e.overlay.done(e, a.row, false)
			return nil, it, false
		case retryBackoff:
			if !e.backoff(ctx, a.tries, rb.RetryAfter) {
				return nil, e.unfinished(a), false
			}
		}
	}
}

// diff compares the params a row sends with the mailbox as read: the
// fields they change, and the undo entry that puts them back.
func diff(row *Row, send []Param, cur Values) ([]Change, UndoEntry) {
	var changes []Change
	undo := UndoEntry{Row: row, Mailbox: row.Mailbox}
	for _, p := range send {
		switch {
		case p.Name == "mailbox" || p.Name == "customer":
			continue
		case p.Value == "" && schema.EmptyKeeps(p.Name):
			continue // "" keeps the value (the PIN)
		}
		old, known := cur[p.Name]
		if known && old.Text == p.Value {
			continue
		}
		c := Change{Field: p.Name, Old: old.Text, New: p.Value, Known: known}
		if schema.IsSecret(p.Name) {
			c = Change{Field: p.Name, Known: known, Secret: true}
		}
		changes = append(changes, c)
		if known {
			undo.Fields = append(undo.Fields, FieldUndo{Name: p.Name, Old: old, Set: p.Value})
		} else {
			undo.Lost = append(undo.Lost, p.Name)
		}
	}
	return changes, undo
}

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

// planKey is the mailbox a plan's row names: its customer (the login's
// own when the row names none and it is known) and number. Two rows of
// one number in different customers are different mailboxes.
func planKey(e *engine, r *Row) string {
	c := r.Customer
	if c == "" && e != nil && e.opts.OwnCustomer != nil {
		c = e.opts.OwnCustomer()
	}
	return c + "\x00" + r.Mailbox
}

func keyHash(k string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(k))
	return h.Sum64()
}

// count is pass 0: one more row of r's mailbox. The own customer is not
// known yet in pass 0, so rows are counted by number alone: a count too
// high only keeps a mailbox's values a little longer.
func (ov *overlay) count(r *Row) {
	if ov == nil || r.Err != nil {
		return
	}
	ov.pending[keyHash(r.Mailbox)]++
}

// view returns cur as the earlier planned rows of r's mailbox leave it.
func (ov *overlay) view(e *engine, r *Row, cur Values) Values {
	if ov == nil {
		return cur
	}
	ov.mu.Lock()
	defer ov.mu.Unlock()
	left := ov.values[planKey(e, r)]
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
func (ov *overlay) done(e *engine, r *Row, applied bool) {
	if ov == nil {
		return
	}
	ov.mu.Lock()
	defer ov.mu.Unlock()
	h := keyHash(r.Mailbox)
	k := planKey(e, r)
	n := ov.pending[h] - 1
	if n <= 0 {
		delete(ov.pending, h)
		// Other customers' mailboxes of this number have no row left
		// either: forget them all.
		for key := range ov.values {
			if strings.HasSuffix(key, "\x00"+r.Mailbox) {
				delete(ov.values, key)
			}
		}
		return
	}
	ov.pending[h] = n
	if !applied {
		return
	}
	left := ov.values[k]
	if left == nil {
		left = Values{}
		ov.values[k] = left
	}
	for _, p := range r.Params {
		if p.Value == "" && schema.EmptyKeeps(p.Name) {
			continue
		}
		left[p.Name] = Value{Text: p.Value}
	}
}
