package htmlpage

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// Limits bound what the aggregation keeps and what the page shows: every
// table is a top-N with a count of what it leaves out, so that neither
// the memory of Stats nor the size of the page grows with the report's
// rows.
type Limits struct {
	Buckets       int // time buckets of the timeline at most (merged two by two beyond)
	Top           int // rows of each table shown
	Pairs         int // old -> new pairs tracked per column (Space-Saving counters)
	Columns       int // distinct columns tracked; changes to others are counted together
	Customers     int // distinct customers tracked; rows of others are counted together
	Groups        int // distinct failure groups tracked; others are counted together
	RowsPerGroup  int // row numbers kept per failure group
	PlanMailboxes int // mailboxes of a plan shown field by field
	ValueBytes    int // longest value or message shown; longer ones are cut
}

// DefaultLimits are the limits of `ensbulk summary --html`: a page of at
// most a few hundred kilobytes whatever the report's size.
func DefaultLimits() Limits {
	return Limits{
		Buckets: 120, Top: 10, Pairs: 64, Columns: 40, Customers: 10000,
		Groups: 1000, RowsPerGroup: 20, PlanMailboxes: 100, ValueBytes: 120,
	}
}

// orDefault fills the zero limits of l from DefaultLimits.
func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	pick := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	return Limits{
		Buckets: pick(l.Buckets, d.Buckets), Top: pick(l.Top, d.Top), Pairs: pick(l.Pairs, d.Pairs),
		Columns: pick(l.Columns, d.Columns), Customers: pick(l.Customers, d.Customers),
		Groups: pick(l.Groups, d.Groups), RowsPerGroup: pick(l.RowsPerGroup, d.RowsPerGroup),
		PlanMailboxes: pick(l.PlanMailboxes, d.PlanMailboxes), ValueBytes: pick(l.ValueBytes, d.ValueBytes),
	}
}

// statusIndex is the position of st in batch.Statuses, -1 for none.
func statusIndex(st string) int {
	for i, s := range batch.Statuses {
		if string(s) == st {
			return i
		}
	}
	return -1
}

// Stats is what a page shows of a report, aggregated one record at a
// time. Its memory is bounded by its Limits, not by the rows added.
type Stats struct {
	lim Limits
	// Rows counts the records added; ByStatus counts them by status, in
	// the order of batch.Statuses.
	Rows     int
	ByStatus []int
	// First and Last are the earliest and latest record times; Timed
	// counts the records that had one.
	First, Last time.Time
	Timed       int
	timeline    timeline
	latency     hist // of every record that sent a request
	// BadChanges counts changes cells that did not read as
	// report.FormatChanges writes them; their pairs are not counted.
	BadChanges int

	columns      map[string]*topK
	otherColumns int // changes to columns beyond Limits.Columns

	customers     map[string][]int // by status
	otherCustomer []int            // rows of customers beyond Limits.Customers

	groups     map[groupKey]*group
	otherGroup group // rows of groups beyond Limits.Groups

	plan     []planRow
	planMore int // mailboxes that change, not kept in plan

	// the time column's last second, parsed: most records share theirs
	// with the record before
	lastSec  string
	lastUnix int64
}

// NewStats starts an empty aggregation; a zero limit takes its default.
func NewStats(lim Limits) *Stats {
	lim = lim.orDefault()
	return &Stats{
		lim: lim, ByStatus: make([]int, len(batch.Statuses)),
		timeline:  timeline{width: 1, max: lim.Buckets, b: map[int64]*bucket{}},
		columns:   map[string]*topK{},
		customers: map[string][]int{}, otherCustomer: make([]int, len(batch.Statuses)),
		groups: map[groupKey]*group{},
	}
}

// Add counts one record: the latest record of its row.
func (s *Stats) Add(r report.Record) {
	s.Rows++
	si := statusIndex(r.Status)
	if si >= 0 {
		s.ByStatus[si]++
	}
	st := batch.Status(r.Status)

	sent := r.Attempts > 0
	if sec, ms, ok := s.parseTime(r.Time); ok {
		t := time.Unix(sec, ms*int64(time.Millisecond)).UTC()
		if s.Timed == 0 || t.Before(s.First) {
			s.First = t
		}
		if s.Timed == 0 || t.After(s.Last) {
			s.Last = t
		}
		s.Timed++
		s.timeline.add(sec, r.DurationMS, sent)
	}
	if sent {
		s.latency.add(r.DurationMS)
	}

	s.addCustomer(r.Customer, si)
	if !st.Success() {
		s.addFailure(r)
	}
	if r.Changes != "" {
		cs, ok := parseChanges(r.Changes)
		if !ok {
			s.BadChanges++
		} else {
			s.addChanges(cs)
			if st == batch.StatusChange {
				s.addPlan(r, cs)
			}
		}
	}
}

// parseTime reads a record's time: seconds since the epoch and
// milliseconds. The layout ensbulk writes (report.TimeLayout, in UTC) is
// read without time.Parse when its second is the previous record's;
// anything else in RFC 3339 is parsed.
func (s *Stats) parseTime(v string) (sec, ms int64, ok bool) {
	if len(v) == len("2006-01-02T15:04:05.000Z") && v[19] == '.' && v[23] == 'Z' && v[:19] == s.lastSec {
		if n, err := strconv.Atoi(v[20:23]); err == nil {
			return s.lastUnix, int64(n), true
		}
	}
	if v == "" {
		return 0, 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, 0, false
	}
	if len(v) >= 19 {
		s.lastSec, s.lastUnix = v[:19], t.Unix()
		if t.Location() != time.UTC && v[len(v)-1] != 'Z' {
			s.lastSec = "" // an offset: the cache holds UTC seconds only
		}
	}
	return t.Unix(), int64(t.Nanosecond()) / int64(time.Millisecond), true
}

func (s *Stats) addCustomer(c string, si int) {
	if si < 0 {
		return
	}
	c = cut(c, s.lim.ValueBytes)
	by, ok := s.customers[c]
	if !ok {
		if len(s.customers) >= s.lim.Customers {
			s.otherCustomer[si]++
			return
		}
		by = make([]int, len(batch.Statuses))
		s.customers[c] = by
	}
	by[si]++
}

// groupKey is what failures are grouped by.
type groupKey struct{ status, code, message string }

// group is the failures of one status, code and message.
type group struct {
	count int
	rows  []int // the first Limits.RowsPerGroup
}

func (s *Stats) addFailure(r report.Record) {
	k := groupKey{r.Status, cut(r.Code, s.lim.ValueBytes), cut(r.Message, 4*s.lim.ValueBytes)}
	g, ok := s.groups[k]
	if !ok {
		if len(s.groups) >= s.lim.Groups {
			g = &s.otherGroup
		} else {
			g = &group{}
			s.groups[k] = g
		}
	}
	g.count++
	if len(g.rows) < s.lim.RowsPerGroup {
		g.rows = append(g.rows, r.Row)
	}
}

// pairKey joins an old and a new value into one map key.
func pairKey(c batch.Change) string {
	if c.Secret {
		return "\x01" // one pair for every secret change: no values
	}
	old := "\x02" // unknown
	if c.Known {
		old = c.Old
	}
	return old + "\x00" + c.New
}

func (s *Stats) addChanges(cs []batch.Change) {
	for _, c := range cs {
		c = cutChange(c, s.lim.ValueBytes)
		t, ok := s.columns[c.Field]
		if !ok {
			if len(s.columns) >= s.lim.Columns {
				s.otherColumns++
				continue
			}
			t = newTopK(s.lim.Pairs)
			s.columns[c.Field] = t
		}
		t.add(pairKey(c))
	}
}

// planRow is one mailbox a plan would change.
type planRow struct {
	row               int
	mailbox, customer string
	changes           []batch.Change
}

func (s *Stats) addPlan(r report.Record, cs []batch.Change) {
	if len(s.plan) >= s.lim.PlanMailboxes {
		s.planMore++
		return
	}
	kept := make([]batch.Change, 0, min(len(cs), s.lim.Columns))
	for _, c := range cs[:min(len(cs), s.lim.Columns)] {
		kept = append(kept, cutChange(c, s.lim.ValueBytes))
	}
	s.plan = append(s.plan, planRow{row: r.Row, mailbox: cut(r.Mailbox, s.lim.ValueBytes), customer: cut(r.Customer, s.lim.ValueBytes), changes: kept})
}

// Count returns the rows of status st.
func (s *Stats) Count(st batch.Status) int {
	if i := statusIndex(string(st)); i >= 0 {
		return s.ByStatus[i]
	}
	return 0
}

// NotOK counts the rows whose status is not a success.
func (s *Stats) NotOK() int {
	n := 0
	for i, st := range batch.Statuses {
		if !st.Success() {
			n += s.ByStatus[i]
		}
	}
	return n
}

// cut shortens v to at most n bytes on a rune boundary, marking the cut
// with an ellipsis.
func cut(v string, n int) string {
	if len(v) <= n {
		return v
	}
	for n > 0 && v[n]&0xC0 == 0x80 {
		n--
	}
	return v[:n] + "…"
}

// topK counts the most frequent keys of a stream in bounded memory: the
// Space-Saving algorithm (Metwally, Agrawal, El Abbadi 2005). A key not
// counted takes the place of the least counted one and inherits its
// count as its possible overcount (err); a key whose true count exceeds
// total/capacity is always kept. While nothing was evicted every count
// is exact. The counters are a min-heap by count, so that a stream of
// distinct values (a description per row) costs O(log capacity) a row.
type topK struct {
	capacity int
	m        map[string]*counted
	heap     []*counted
	total    int
	evicted  bool
}

type counted struct {
	key        string
	count, err int
	at         int // index in heap
}

func newTopK(capacity int) *topK {
	return &topK{capacity: capacity, m: make(map[string]*counted, capacity)}
}

func (t *topK) add(key string) {
	t.total++
	if c, ok := t.m[key]; ok {
		c.count++
		t.down(c.at)
		return
	}
	if len(t.heap) < t.capacity {
		c := &counted{key: key, count: 1, at: len(t.heap)}
		t.m[key] = c
		t.heap = append(t.heap, c)
		t.up(c.at)
		return
	}
	least := t.heap[0]
	delete(t.m, least.key)
	t.evicted = true
	least.key, least.err = key, least.count
	least.count++
	t.m[key] = least
	t.down(0)
}

func (t *topK) less(i, j int) bool { return t.heap[i].count < t.heap[j].count }

func (t *topK) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.heap[i].at, t.heap[j].at = i, j
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *topK) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(t.heap) {
			return
		}
		m := l
		if r := l + 1; r < len(t.heap) && t.less(r, l) {
			m = r
		}
		if !t.less(m, i) {
			return
		}
		t.swap(i, m)
		i = m
	}
}

// top returns the n most counted keys, most first, then by key.
func (t *topK) top(n int) []counted {
	all := make([]counted, 0, len(t.heap))
	for _, c := range t.heap {
		all = append(all, *c)
	}
	slices.SortFunc(all, func(a, b counted) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	return all[:min(n, len(all))]
}
