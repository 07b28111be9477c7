package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ensbulk/ensbulk/batch"
)

// Counts summarises a report: rows by status and by code and message.
type Counts struct {
	Rows     int
	ByStatus map[batch.Status]int
	Errors   []batch.ErrorCount // not ok/valid, most frequent first
}

// Successes counts the rows whose status is a success (batch.Status.Success).
func (c *Counts) Successes() int {
	n := 0
	for st, k := range c.ByStatus {
		if st.Success() {
			n += k
		}
	}
	return n
}

// Count reads the latest record of every row of a report, in memory
// flat in rows (see LatestReader) but for its distinct problems.
func Count(path string) (*Counts, error) {
	lr, err := OpenLatest(path)
	if err != nil {
		return nil, err
	}
	defer lr.Close()
	c := newCounter()
	for rec, err := range lr.All() {
		if err != nil {
			return nil, err
		}
		c.add(rec)
	}
	return c.counts(), nil
}

// counter counts records by status, and those that are not a success by
// status, code and message.
type counter struct {
	c    *Counts
	errs map[errKey]int
}

type errKey struct{ st, code, msg string }

func newCounter() *counter {
	return &counter{c: &Counts{ByStatus: map[batch.Status]int{}}, errs: map[errKey]int{}}
}

func (c *counter) add(r Record) {
	c.c.Rows++
	st := batch.Status(r.Status)
	c.c.ByStatus[st]++
	if !st.Success() {
		c.errs[errKey{r.Status, r.Code, r.Message}]++
	}
}

// quick counts a line whose status is a success from its status alone,
// without decoding the record (see statusOf); it is false for any other
// line, which the caller decodes and adds.
func (c *counter) quick(line []byte, f Format) bool {
	st := batch.Status(statusOf(line, f))
	if st == "" || !st.Success() {
		return false
	}
	c.c.Rows++
	c.c.ByStatus[st]++
	return true
}

func (c *counter) counts() *Counts {
	for k, n := range c.errs {
		c.c.Errors = append(c.c.Errors, batch.ErrorCount{Status: batch.Status(k.st), Code: k.code, Message: k.msg, Count: n})
	}
	SortErrors(c.c.Errors)
	return c.c
}

// SortErrors orders error counts, most frequent first.
func SortErrors(es []batch.ErrorCount) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].Count != es[j].Count {
			return es[i].Count > es[j].Count
		}
		if es[i].Status != es[j].Status {
			return es[i].Status < es[j].Status
		}
		return es[i].Message < es[j].Message
	})
}

// WriteStatusTable prints rows by status, every status shown but those
// only some runs produce when none has it, and the statuses hide lists
// (those the command cannot produce) when none has them.
func WriteStatusTable(w io.Writer, by map[batch.Status]int, hide ...batch.Status) {
	total := 0
	for _, st := range batch.Statuses {
		total += by[st]
	}
	width := len(fmt.Sprint(total))
	for _, st := range batch.Statuses {
		if by[st] == 0 && (st == batch.StatusUnchanged || st == batch.StatusChange || st == batch.StatusConflict || st == batch.StatusMismatch || slices.Contains(hide, st)) {
			continue // only runs that read, plans, conditional rows and read-backs have these
		}
		fmt.Fprintf(w, "  %*d  %s\n", width, by[st], st)
	}
	all := "rows in all"
	if total == 1 {
		all = "row in all"
	}
	fmt.Fprintf(w, "  %*d  %s\n", width, total, all)
}

// WriteErrorTable prints the top n error counts.
func WriteErrorTable(w io.Writer, es []batch.ErrorCount, n int) {
	if len(es) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  count\tstatus\tcode\tmessage\n")
	for i, e := range es {
		if i == n {
			fmt.Fprintf(tw, "  ...\t%d more\t\t\n", len(es)-n)
			break
		}
		code := e.Code
		if code == "" {
			code = "-"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", e.Count, e.Status, code, firstN(strings.TrimSpace(e.Message), 100))
	}
	tw.Flush()
}
