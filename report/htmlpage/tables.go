package htmlpage

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
)

// The page's tables: each a top-N of what Stats kept, with a line for
// what it leaves out.

// columnTables is the most frequent old -> new pairs of each column, and
// what the columns not tracked leave out.
func (s *Stats) columnTables() ([]columnView, string) {
	var out []columnView
	for _, name := range sortedKeys(s.columns) {
		out = append(out, columnTable(name, s.columns[name], s.lim.Top))
	}
	var other string
	if s.otherColumns > 0 {
		other = fmt.Sprintf("%s to columns beyond the first %d not shown", plural(s.otherColumns, "change", "changes"), s.lim.Columns)
	}
	return out, other
}

// columnTable is one column's top pairs.
func columnTable(name string, t *topK, top int) columnView {
	cv := columnView{Name: name, Total: fmtInt(t.total), Approx: t.evicted}
	shown := 0
	for _, c := range t.top(top) {
		cv.Pairs = append(cv.Pairs, pairOf(c))
		shown += c.count - c.err
	}
	if more := t.total - shown; more > 0 {
		cv.More = fmt.Sprintf("%s not shown", plural(more, "more change", "more changes"))
	}
	return cv
}

// pairOf is one counted pair (see pairKey) as the page shows it.
func pairOf(c counted) pairView {
	// Space-Saving's count of a pair that took an evicted one's place is
	// an upper bound; count-err is the rows it surely has.
	pv := pairView{Count: fmtInt(c.count)}
	if c.err > 0 {
		pv.Count = fmtInt(c.count-c.err) + "–" + fmtInt(c.count)
	}
	if c.key == "\x01" {
		pv.Secret = true
		return pv
	}
	old, nw, _ := strings.Cut(c.key, "\x00")
	pv.Old, pv.New, pv.Unknown = old, nw, old == "\x02"
	return pv
}

// planTable is the mailboxes a plan would change, field by field, and
// how many more there are.
func (s *Stats) planTable() ([]planView, string) {
	var out []planView
	for _, p := range s.plan {
		pv := planView{Row: strconv.Itoa(p.row), Mailbox: p.mailbox, Customer: p.customer}
		for _, c := range p.changes {
			pv.Changes = append(pv.Changes, pairField{Field: c.Field, Old: c.Old, New: c.New, Unknown: !c.Known && !c.Secret, Secret: c.Secret})
		}
		out = append(out, pv)
	}
	var more string
	if s.planMore > 0 {
		more = fmt.Sprintf("%s that would change not shown (the first %d are)", plural(s.planMore, "more mailbox", "more mailboxes"), s.lim.PlanMailboxes)
	}
	return out, more
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
