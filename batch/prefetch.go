package batch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// The prefetch: cost in proportion to the change. Reading each mailbox
// just before its update costs a request a row, and validating it
// another, though in the operator's usual loop (export, edit a few
// cells, plan, run) almost every row already holds its values. Before
// the first phase, the mailboxes of a customer with many rows in the
// file are read in one mailboxes/list (Options.Lister); a row whose
// mailbox already holds every value it sets is reported unchanged there
// and never validated, read or sent. A row that changes something goes
// on as before: validated, then (a run) read by get just before its
// update, so that the undo's previous value is the one the update
// replaced and a change made since the list is seen (and a conditional
// row's Expect is checked against it). A plan, which sends no update,
// compares such a row with the list's values instead of reading it
// again.
//
// Memory: the list is streamed and only the mailboxes the file names
// are looked at; per row of a listed customer the prefetch keeps two
// 64-bit hashes and a field mask (the mailbox's key, and what the row
// sets), not the row nor the mailbox. A plan also keeps the listed
// values of the rows that change something, up to maxKept.
//
// A row is decided by the list only when it is the first row of its
// mailbox in the file: a later row of the same mailbox may find what an
// earlier row wrote, or (when that row fails) what it did not, so it is
// read as before. A row without a customer may name the same mailbox as
// a row with one (it is the login's own customer's), so rows without a
// customer count as every customer's for this.
//
// A list that fails, whole or part way (the server may say so after the
// data), decides nothing: the customer's rows go on as if it had not
// been sent, and Options.OnList says why. A partial list is never taken
// for the customer's whole.

// Lister is the list side of the Getter port: mailboxes/list of a
// customer ("" for the login's own). It calls fn, in the server's order,
// for each mailbox of the list that want accepts (by number), with its
// values as Getter.Read would give them; it returns nil only when the
// list was whole. An error of fn stops the list and is returned as it
// is. A refusal or fault is returned as an *Error.
type Lister interface {
	List(ctx context.Context, customer string, want func(mailbox string) bool, fn func(mailbox string, v Values) error) error
}

// ListReport is what one list of the prefetch found: Options.OnList
// gets one per customer listed, failed or not.
type ListReport struct {
	Customer  string // "" for the login's own
	Rows      int    // rows of this run that name the customer
	Listed    int    // mailboxes of the list the file names
	Unchanged int    // rows found unchanged, never sent
	// Err is why the list decided nothing (nil when it was whole): the
	// customer's rows are read one by one, as without a list.
	Err error
}

// maxKept bounds the listed values a plan keeps for its rows that
// change something; past it, those rows are read by get.
const maxKept = 1 << 16

// prefetcher is the prefetch's state: counts made in pass 0, then the
// rows it decided. nil when the run lists nothing (every method of a nil
// prefetcher does nothing).
type prefetcher struct {
	min      int            // rows of a customer in the file that make it listed
	rows     map[string]int // rows per customer, pass 0
	overflow bool           // more customers than maxCustomers: the rest are not counted
	seedKey  maphash.Seed
	seedSum  maphash.Seed
	decided  RowSet // rows found unchanged by a list
	ndecided int
	listed   int        // list requests sent
	mu       sync.Mutex // kept, taken by the workers
	kept     map[int]Values
	fields   map[string]int // the file's field names, by bit of a mask
	names    []string       // the same, by bit
}

// wantedRow is a row the list may decide: its number, the fields it
// sets (a bit each, see prefetcher.fields) and the hash of its values.
type wantedRow struct {
	row  int
	mask uint64
	sum  uint64
}

func newPrefetcher(o *Options) *prefetcher {
	if o.Lister == nil || o.Getter == nil || o.ListRows <= 0 || o.ValidateOnly {
		return nil
	}
	return &prefetcher{min: o.ListRows, rows: map[string]int{}, seedKey: maphash.MakeSeed(), seedSum: maphash.MakeSeed(),
		fields: map[string]int{}}
}

// count is pass 0's hook: one more row of this run.
func (p *prefetcher) count(r *Row) {
	if p == nil {
		return
	}
	if r.Err != nil {
		return
	}
	if _, ok := p.rows[r.Customer]; ok || len(p.rows) < maxCustomers {
		p.rows[r.Customer]++
	} else {
		p.overflow = true
	}
}

// decidedRows is how many rows the lists found unchanged.
func (p *prefetcher) decidedRows() int {
	if p == nil {
		return 0
	}
	return p.ndecided
}

// groups are the customers to list, in order.
func (p *prefetcher) groups() []string {
	var out []string
	for c, n := range p.rows {
		if n >= p.min {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func (p *prefetcher) keyOf(customer, mailbox string) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seedKey)
	h.WriteString(customer)
	h.WriteByte(0)
	h.WriteString(mailbox)
	return h.Sum64()
}

// numberOf hashes a mailbox number alone.
func (p *prefetcher) numberOf(mailbox string) uint64 {
	return maphash.String(p.seedKey, mailbox)
}

// rowSum is a row's mask and the hash of what it sets, nil mask and
// false when the row cannot be decided by a list (more fields than a
// mask holds).
func (p *prefetcher) rowSum(r *Row) (uint64, uint64, bool) {
	type fv struct {
		bit   int
		value string
	}
	var fs []fv
	var mask uint64
	for _, pr := range r.Params {
		switch {
		case pr.Name == "mailbox" || pr.Name == "customer":
			continue // the mailbox's identity, in its key
		case pr.Value == "" && schema.EmptyKeeps(pr.Name):
			continue // "" keeps the PIN
		}
		bit, ok := p.fields[pr.Name]
		if !ok {
			if len(p.names) == 64 {
				return 0, 0, false
			}
			bit = len(p.names)
			p.fields[pr.Name] = bit
			p.names = append(p.names, pr.Name)
		}
		mask |= 1 << bit
		fs = append(fs, fv{bit, pr.Value})
	}
	slices.SortFunc(fs, func(a, b fv) int { return cmp.Compare(a.bit, b.bit) })
	var h maphash.Hash
	h.SetSeed(p.seedSum)
	p.head(&h, r.Customer, r.Mailbox)
	for _, f := range fs {
		present(&h, f.value)
	}
	return mask, h.Sum64(), true
}

// listedSum is the hash of what a listed mailbox holds in the fields of
// mask, comparable with rowSum's: equal (but for a 2^-64 chance) when
// the mailbox holds every value the row sets. A field the list did not
// show differs from any value: only a read that shows a value can find
// it unchanged. NULL compares as "", as in the read before an update.
func (p *prefetcher) listedSum(customer, mailbox string, mask uint64, v Values) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seedSum)
	p.head(&h, customer, mailbox)
	for bit := range p.names {
		if mask&(1<<bit) == 0 {
			continue
		}
		x, ok := v[p.names[bit]]
		if !ok {
			h.WriteByte(0)
			continue
		}
		present(&h, x.Text)
	}
	return h.Sum64()
}

// head starts a values hash with the mailbox's identity, so that two
// mailboxes whose keys collide still hash their values apart.
func (p *prefetcher) head(h *maphash.Hash, customer, mailbox string) {
	h.WriteString(customer)
	h.WriteByte(0)
	h.WriteString(mailbox)
	h.WriteByte(0)
}

// present writes a value the read showed: its length first, so that no
// two sequences of values hash the same text.
func present(h *maphash.Hash, s string) {
	var n [9]byte
	n[0] = 1
	l := uint64(len(s))
	for i := 1; i < 9; i++ {
		n[i] = byte(l >> (8 * (i - 1)))
	}
	h.Write(n[:])
	h.WriteString(s)
}

// take returns, once, the listed values of a row a plan compares with
// them instead of reading it again.
func (p *prefetcher) take(row int) (Values, bool) {
	if p == nil || p.kept == nil {
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.kept[row]
	if ok {
		delete(p.kept, row)
	}
	return v, ok
}

// has reports whether the prefetch decided row n.
func (p *prefetcher) has(n int) bool { return p != nil && p.decided.Has(n) }

// prefetch lists the customers with enough rows, then reports the rows
// it found unchanged; it runs once, after the preflight and before the
// first phase, from the writer's goroutine (it writes results).
func (e *engine) prefetch(ctx context.Context, open Opener) error {
	p := e.pre
	if p == nil || ctx.Err() != nil {
		return nil
	}
	groups := p.groups()
	if len(groups) == 0 {
		return nil
	}
	listed := map[string]bool{}
	for _, g := range groups {
		listed[g] = true
	}

	// Which rows the lists may decide.
	want, err := e.wantedRows(open, listed)
	if err != nil {
		return err
	}
	if e.opts.PlanOnly {
		p.kept = map[int]Values{}
	}
	for _, g := range groups {
		if ctx.Err() != nil {
			return nil
		}
		rep := ListReport{Customer: g, Rows: p.rows[g]}
		same, kept, err := e.listOne(ctx, g, want, &rep)
		e.listDone(&rep, same, kept, err)
		if e.opts.OnList != nil {
			e.opts.OnList(rep)
		}
		if stopCause(ctx) != nil {
			return nil
		}
	}
	return e.writeDecided(open)
}

// listDone takes in what one list found: the rows it found unchanged and
// a plan's listed values, or its error, which aborts the run when it
// would fail every request (a refused login, a fatal fault).
func (e *engine) listDone(rep *ListReport, same []int, kept map[int]Values, err error) {
	p := e.pre
	if err != nil {
		rep.Err = err
		var be *Error
		if errors.As(err, &be) && (be.Kind == KindUnauthorized || be.Kind == KindFatal) {
			e.stop(abortFor(be))
		}
		return
	}
	for _, n := range same {
		p.decided.Set(n)
	}
	p.ndecided += len(same)
	rep.Unchanged = len(same)
	for n, v := range kept {
		p.kept[n] = v
	}
}

// wantedRows reads the input once more for the rows of listed customers
// that are the first of their mailbox number, by their mailbox's key.
// Two rows whose keys collide are both left to the read.
func (e *engine) wantedRows(open Opener, listed map[string]bool) (map[uint64]wantedRow, error) {
	p := e.pre
	src, c, err := open()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	want := map[uint64]wantedRow{}
	// The mailboxes with a row already: by customer and number for rows
	// that name a customer; by number, for rows that do and for rows that
	// do not (a row without a customer may be any customer's mailbox of
	// that number, for all the engine knows).
	seen := map[uint64]struct{}{}
	numNamed, numOwn := map[uint64]struct{}{}, map[uint64]struct{}{}
	rows, _ := Wanted(src, func(n int) bool { return e.todo.Has(n) })
	for row, err := range rows {
		if err != nil {
			return nil, err
		}
		if row.Err != nil {
			continue
		}
		k := p.keyOf(row.Customer, row.Mailbox)
		num := p.numberOf(row.Mailbox)
		_, own := numOwn[num]
		_, named := numNamed[num]
		_, same := seen[k]
		first := !own && !same
		if row.Customer == "" {
			first = first && !named
			numOwn[num] = struct{}{}
		} else {
			numNamed[num] = struct{}{}
		}
		seen[k] = struct{}{}
		if !first || !listed[row.Customer] {
			continue
		}
		mask, sum, ok := p.rowSum(&row)
		if !ok {
			continue
		}
		if _, dup := want[k]; dup {
			want[k] = wantedRow{row: -1}
			continue
		}
		want[k] = wantedRow{row: row.Num, mask: mask, sum: sum}
	}
	return want, nil
}

// listOne sends one list and returns the rows it found unchanged and,
// for a plan, the listed values of the others; nothing when the list
// failed.
func (e *engine) listOne(ctx context.Context, customer string, want map[uint64]wantedRow, rep *ListReport) (same []int, kept map[int]Values, err error) {
	p := e.pre
	e.gate(ctx)
	if err := e.gov.wait(ctx); err != nil || ctx.Err() != nil {
		e.stopOn(err)
		return nil, nil, nil
	}
	e.requests.Add(1)
	p.listed++
	l := &listing{p: p, customer: customer, own: customer, want: want, rep: rep}
	if l.own == "" && e.opts.OwnCustomer != nil {
		l.own = e.opts.OwnCustomer()
	}
	lctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	// The list's outcome is left out of the circuit and the pace: a
	// failed list costs its rows a read each, which the rows' own
	// requests then judge.
	if err := e.opts.Lister.List(lctx, customer, l.wants, l.found); err != nil {
		return nil, nil, err
	}
	return l.same, l.kept, nil
}

// listing is one list under way: which mailboxes of customer it wants,
// and what it found.
type listing struct {
	p        *prefetcher
	customer string
	own      string // customer, else the login's own ("" when unknown)
	want     map[uint64]wantedRow
	rep      *ListReport

	same []int          // rows found unchanged
	kept map[int]Values // a plan's: the listed values of the other rows
}

// wanted is the row a listed mailbox may decide, if any.
func (l *listing) wanted(mailbox string) (wantedRow, bool) {
	w, ok := l.want[l.p.keyOf(l.customer, mailbox)]
	return w, ok && w.row >= 0
}

func (l *listing) wants(mailbox string) bool {
	_, ok := l.wanted(mailbox)
	return ok
}

// found compares a listed mailbox with its row.
func (l *listing) found(mailbox string, v Values) error {
	w, ok := l.wanted(mailbox)
	if !ok || !l.answersFor(mailbox, v) {
		return nil
	}
	l.rep.Listed++
	if l.p.listedSum(l.customer, mailbox, w.mask, v) == w.sum {
		l.same = append(l.same, w.row)
		return nil
	}
	if l.p.kept != nil && len(l.p.kept)+len(l.kept) < maxKept {
		if l.kept == nil {
			l.kept = map[int]Values{}
		}
		l.kept[w.row] = v
	}
	return nil
}

// answersFor says whether listed values are mailbox's: values said to be
// another mailbox's or customer's are not this one's, and its row is read
// as before.
func (l *listing) answersFor(mailbox string, v Values) bool {
	if x, ok := v["mailbox"]; ok && !x.Null && x.Text != mailbox {
		return false
	}
	if x, ok := v["customer"]; ok && !x.Null && l.own != "" && x.Text != l.own {
		return false
	}
	return true
}

// writeDecided reports the rows the lists found unchanged, in file
// order.
func (e *engine) writeDecided(open Opener) error {
	p := e.pre
	if p.ndecided == 0 {
		return nil
	}
	src, c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()
	out := e.direct()
	rows, _ := Wanted(src, p.has)
	for row, err := range rows {
		if err != nil {
			err = fmt.Errorf("input changed during the run: %w", err)
			e.abort(StopAborted, err.Error())
			return err
		}
		r := row
		if e.prevalid.Has(r.Num) {
			e.validCount-- // validated before, but not applied now
		}
		e.overlay.done(e, &r, true)
		o := outcome{phase: PhaseApply, message: "already holds these values (mailboxes/list); not sent"}
		if err := out.add(o.final(&r, StatusUnchanged)); err != nil {
			return err
		}
	}
	return out.flush()
}
