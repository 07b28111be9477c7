package htmlpage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// Info is what the page says beside the report's rows: where they come
// from and what to run next. Only cmd spells command lines, so the
// commands come from the caller; the page picks the one that applies.
type Info struct {
	Report   string      // the report's path, as the operator named it
	Meta     report.Meta // the report's sidecar
	HaveMeta bool        // false when the sidecar could not be read
	// Resume continues the run (rows skipped); Retry reruns the rows that
	// are not ok. Either may be "": then the page does not offer it.
	Resume, Retry string
}

// notRecorded is what the page shows for a fact the report or an older
// sidecar does not hold.
const notRecorded = "not recorded"

// view is what the template renders: every string in it is text, which
// html/template escapes for where it lands.
type view struct {
	Title     string
	Identity  []fact
	Outcome   string
	Exit      string
	Next      []next
	Statuses  []statusCount
	Total     string
	Plan      *planCounts
	Timed     bool
	Latency   []fact
	Rate      chart
	LatLine   chart
	LatHist   chart
	Width     string // of a timeline bucket
	Columns   []columnView
	OtherCols string
	Statuses2 []string // the statuses present, heads of the customer table
	Customers []customerView
	CustMore  string
	Failures  []failureView
	FailMore  string
	PlanRows  []planView
	PlanMore  string
	Notes     []string
}

type fact struct {
	Label, Value, ID string
	Missing          bool
}

type next struct{ Text, Command string }

type statusCount struct {
	Status, Count string
	N             int
	Success       bool
}

type planCounts struct{ Change, Unchanged, Invalid, Other string }

type columnView struct {
	Name, Total string
	Pairs       []pairView
	More        string
	Approx      bool
}

type pairView struct {
	Old, New, Count string
	Unknown, Secret bool
}

type customerView struct {
	Customer string
	Counts   []string
	Total    string
	Other    bool
}

type failureView struct {
	Status, Code, Message, Count, Rows string
}

type planView struct {
	Row, Mailbox, Customer string
	Changes                []pairField
}

type pairField struct {
	Field, Old, New string
	Unknown, Secret bool
}

// mode is the report's mode: the sidecar's, else what its statuses say.
func (s *Stats) mode(info Info) (string, bool) {
	if info.HaveMeta && info.Meta.Mode != "" {
		return info.Meta.Mode, true
	}
	switch {
	case s.Count(batch.StatusChange) > 0:
		return "plan", false
	case s.Count(batch.StatusValid) > 0:
		return "validate", false
	}
	return "run", false
}

// build makes the view of the stats.
func (s *Stats) build(info Info) view {
	lim := s.lim
	mode, known := s.mode(info)
	v := view{Title: "ensbulk " + mode + " report " + info.Report}
	m := info.Meta
	if !info.HaveMeta {
		m = report.Meta{}
	}
	or := func(label, val, id string) fact {
		if val == "" {
			return fact{Label: label, Value: notRecorded, ID: id, Missing: true}
		}
		return fact{Label: label, Value: val, ID: id}
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
	}
	modeText := mode
	if !known {
		modeText += " (from the statuses: the sidecar does not say)"
	}
	v.Identity = []fact{
		or("report", info.Report, "report"),
		or("input", m.Input, "input"),
		or("switch", m.Switch, "switch"),
		or("user", m.User, "user"),
		or("user's customer", m.Customer, "customer"),
		or("mode", modeText, "mode"),
		or("started (sidecar)", when(m.Started), "started"),
		or("first row done", when(s.First), "start"),
		or("last row done", when(s.Last), "end"),
	}
	if s.Timed > 0 {
		v.Identity = append(v.Identity, fact{Label: "rows done in", Value: showDuration(s.Last.Sub(s.First)), ID: "elapsed"})
	}
	if info.HaveMeta && !m.Finished.IsZero() {
		v.Identity = append(v.Identity, fact{Label: "went through its whole input", Value: when(m.Finished), ID: "finished"})
	}
	v.Identity = append(v.Identity, staging(m)...)

	skipped := s.Count(batch.StatusSkipped)
	notOK := s.NotOK()
	switch {
	case s.Rows == 0:
		v.Outcome, v.Exit = "the report holds no rows", notRecorded
	case skipped > 0:
		v.Outcome = fmt.Sprintf("stopped before the end: %s not attempted (aborted, interrupted, stopped by a budget or window, or all-or-nothing)", plural(skipped, "row", "rows"))
		v.Exit = "1, 3 or 5 (the report does not record which)"
	case notOK > 0:
		v.Outcome = fmt.Sprintf("finished: %s not ok", plural(notOK, "row", "rows"))
		v.Exit = "1"
	default:
		switch mode {
		case "plan":
			v.Outcome = "finished: every row planned (would change, or changes nothing)"
		case "validate":
			v.Outcome = "finished: every row valid"
		default:
			v.Outcome = "finished: every row ok or unchanged"
		}
		v.Exit = "0"
	}
	if skipped > 0 && info.Resume != "" {
		v.Next = append(v.Next, next{Text: "to continue the run from where it stopped:", Command: info.Resume})
	}
	if notOK-skipped > 0 {
		if mode == "plan" {
			v.Next = append(v.Next, next{Text: "fix the rows under Failures, then plan again"})
		} else if info.Retry != "" {
			v.Next = append(v.Next, next{Text: fmt.Sprintf("to rerun the %s not ok, after fixing them:", plural(notOK, "row", "rows")), Command: info.Retry})
		}
	}

	for i, st := range batch.Statuses {
		n := s.ByStatus[i]
		if n == 0 && (st == batch.StatusUnchanged || st == batch.StatusChange || st == batch.StatusAppliedUnvalidated || st == batch.StatusMismatch) {
			continue // only some modes have these
		}
		v.Statuses = append(v.Statuses, statusCount{Status: string(st), Count: fmtInt(n), N: n, Success: st.Success()})
	}
	v.Total = fmtInt(s.Rows)
	if mode == "plan" {
		ch, un, in := s.Count(batch.StatusChange), s.Count(batch.StatusUnchanged), s.Count(batch.StatusInvalid)
		v.Plan = &planCounts{Change: fmtInt(ch), Unchanged: fmtInt(un), Invalid: fmtInt(in), Other: fmtInt(s.Rows - ch - un - in)}
	}

	v.Timed = s.Timed > 0
	if s.latency.n > 0 {
		v.Latency = []fact{
			{Label: "requests timed", Value: fmtInt(int(s.latency.n)), ID: "latency-n"},
			{Label: "median", Value: showMS(s.latency.quantile(0.5)), ID: "latency-p50"},
			{Label: "95th percentile", Value: showMS(s.latency.quantile(0.95)), ID: "latency-p95"},
			{Label: "99th percentile", Value: showMS(s.latency.quantile(0.99)), ID: "latency-p99"},
		}
	}
	if v.Timed {
		v.Rate, v.LatLine = s.timelineCharts()
		v.Width = showDuration(time.Duration(s.timeline.width) * time.Second)
	}
	v.LatHist = histChart(&s.latency)

	for _, name := range sortedKeys(s.columns) {
		t := s.columns[name]
		cv := columnView{Name: name, Total: fmtInt(t.total), Approx: t.evicted}
		shown := 0
		for _, c := range t.top(lim.Top) {
			// Space-Saving's count of a pair that took an evicted one's
			// place is an upper bound; count-err is the rows it surely
			// has.
			pv := pairView{Count: fmtInt(c.count)}
			if c.err > 0 {
				pv.Count = fmtInt(c.count-c.err) + "–" + fmtInt(c.count)
			}
			switch {
			case c.key == "\x01":
				pv.Secret = true
			default:
				old, nw, _ := strings.Cut(c.key, "\x00")
				pv.Old, pv.New, pv.Unknown = old, nw, old == "\x02"
			}
			cv.Pairs = append(cv.Pairs, pv)
			shown += c.count - c.err
		}
		if more := t.total - shown; more > 0 {
			cv.More = fmt.Sprintf("%s not shown", plural(more, "more change", "more changes"))
		}
		v.Columns = append(v.Columns, cv)
	}
	if s.otherColumns > 0 {
		v.OtherCols = fmt.Sprintf("%s to columns beyond the first %d not shown", plural(s.otherColumns, "change", "changes"), lim.Columns)
	}

	v.Customers, v.Statuses2, v.CustMore = s.customerTable()
	v.Failures, v.FailMore = s.failureTable()

	for _, p := range s.plan {
		pv := planView{Row: strconv.Itoa(p.row), Mailbox: p.mailbox, Customer: p.customer}
		for _, c := range p.changes {
			pv.Changes = append(pv.Changes, pairField{Field: c.Field, Old: c.Old, New: c.New, Unknown: !c.Known && !c.Secret, Secret: c.Secret})
		}
		v.PlanRows = append(v.PlanRows, pv)
	}
	if s.planMore > 0 {
		v.PlanMore = fmt.Sprintf("%s that would change not shown (the first %d are)", plural(s.planMore, "more mailbox", "more mailboxes"), lim.PlanMailboxes)
	}
	if s.BadChanges > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("%s had a changes cell that does not read as ensbulk writes it: left out of the tables of changes", plural(s.BadChanges, "row", "rows")))
	}
	if s.Rows > s.Timed {
		v.Notes = append(v.Notes, fmt.Sprintf("%s had no time (reports of older versions, or rows never attempted): left out of the timeline", plural(s.Rows-s.Timed, "row", "rows")))
	}
	return v
}

// customerTable is the customers with the most rows, by status.
func (s *Stats) customerTable() ([]customerView, []string, string) {
	var present []int
	for i := range batch.Statuses {
		if s.ByStatus[i] > 0 {
			present = append(present, i)
		}
	}
	var heads []string
	for _, i := range present {
		heads = append(heads, string(batch.Statuses[i]))
	}
	type cust struct {
		name  string
		total int
		by    []int
	}
	all := make([]cust, 0, len(s.customers))
	for name, by := range s.customers {
		all = append(all, cust{name, sum(by), by})
	}
	sortBy(all, func(c cust) int { return c.total }, func(c cust) string { return c.name })
	row := func(c cust, other bool) customerView {
		cv := customerView{Customer: c.name, Total: fmtInt(c.total), Other: other}
		for _, i := range present {
			cv.Counts = append(cv.Counts, fmtInt(c.by[i]))
		}
		return cv
	}
	var out []customerView
	for _, c := range all[:min(len(all), s.lim.Top)] {
		out = append(out, row(c, false))
	}
	var more string
	if n := len(all) - len(out); n > 0 {
		rest := make([]int, len(batch.Statuses))
		for _, c := range all[len(out):] {
			for i, k := range c.by {
				rest[i] += k
			}
		}
		out = append(out, row(cust{fmt.Sprintf("%s not shown", plural(n, "more customer", "more customers")), sum(rest), rest}, true))
	}
	if o := sum(s.otherCustomer); o > 0 {
		out = append(out, row(cust{fmt.Sprintf("customers beyond the first %s seen (not told apart)", fmtInt(s.lim.Customers)), o, s.otherCustomer}, true))
		more = "customers are told apart up to a bound, so that the page's memory does not grow with the report"
	}
	return out, heads, more
}

// failureTable is the most frequent failure groups.
func (s *Stats) failureTable() ([]failureView, string) {
	type g struct {
		k groupKey
		*group
	}
	all := make([]g, 0, len(s.groups))
	for k, gr := range s.groups {
		all = append(all, g{k, gr})
	}
	sortBy(all, func(x g) int { return x.count }, func(x g) string { return x.k.status + "\x00" + x.k.code + "\x00" + x.k.message })
	row := func(k groupKey, gr *group) failureView {
		rows := make([]string, len(gr.rows))
		for i, r := range gr.rows {
			rows[i] = strconv.Itoa(r)
		}
		list := strings.Join(rows, ", ")
		if gr.count > len(gr.rows) {
			list += fmt.Sprintf(" and %s more", fmtInt(gr.count-len(gr.rows)))
		}
		code := k.code
		if code == "" {
			code = "-"
		}
		return failureView{Status: k.status, Code: code, Message: k.message, Count: fmtInt(gr.count), Rows: list}
	}
	var out []failureView
	for _, x := range all[:min(len(all), s.lim.Top)] {
		out = append(out, row(x.k, x.group))
	}
	var more []string
	if n := len(all) - len(out); n > 0 {
		rows := 0
		for _, x := range all[len(out):] {
			rows += x.count
		}
		more = append(more, fmt.Sprintf("%s of %s not shown", plural(n, "more group", "more groups"), plural(rows, "row", "rows")))
	}
	if s.otherGroup.count > 0 {
		more = append(more, fmt.Sprintf("%s in groups beyond the first %s seen, not told apart (first rows: %s)",
			plural(s.otherGroup.count, "row", "rows"), fmtInt(s.lim.Groups), joinInts(s.otherGroup.rows)))
	}
	return out, strings.Join(more, "; ")
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func sum(ns []int) int {
	t := 0
	for _, n := range ns {
		t += n
	}
	return t
}

// plural is "1 row", "2 rows", with thousands separated.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmtInt(n) + " " + many
}

// fmtInt writes n with thousands separated by commas: 10,000,000.
func fmtInt(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// showMS is a latency for people: 12 ms, 1.25 s.
func showMS(ms int64) string {
	if ms < 1000 {
		return strconv.FormatInt(ms, 10) + " ms"
	}
	return showDuration(time.Duration(ms) * time.Millisecond)
}

// showDuration rounds d to what a person reads: 1.25 s, 3m20s.
func showDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return fmt.Sprintf("%.3g s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// staging is what the sidecar says of a run's staging: a canary (the
// run applied its first rows, read them back and stopped for a look
// before the rest), a read-back of every update, the plan it applied.
func staging(m report.Meta) []fact {
	var out []fact
	if m.Canary > 0 {
		out = append(out, fact{Label: "canary", ID: "canary",
			Value: fmt.Sprintf("a canary run: it applied %s first (spread over the customers), read them back and stopped for a look; a resume applied the rest", plural(m.Canary, "row", "rows"))})
	}
	if m.Verify {
		out = append(out, fact{Label: "read back", Value: "every mailbox read back after its update (a value not kept is a mismatch)", ID: "verify"})
	}
	if m.Plan != "" {
		out = append(out, fact{Label: "approved plan", Value: m.Plan + " (a row applied only where the mailbox still held the plan's old values)", ID: "plan"})
	}
	return out
}
