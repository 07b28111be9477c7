package htmlpage

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// gen makes the results of a synthetic run or plan: statuses, customers,
// changes, failures and times in known proportions, so that a test can
// count what it wrote independently of the aggregation.
type gen struct {
	mode      string // "run" or "plan"
	start     time.Time
	perSecond int // rows finished per second
	customers int
	hostile   string // put into descriptions, messages and a mailbox when set
	// hostileField names a column of one change in ten: a name lands in
	// an attribute of the page (data-testid), where escaping differs.
	hostileField string
}

// result is row i's result (i from 1).
func (g gen) result(i int) batch.Result {
	box := fmt.Sprintf("%d", 1000+i)
	r := batch.Result{
		Row: i, Line: i + 1, Mailbox: box, Customer: fmt.Sprint(100 + i%max(g.customers, 1)),
		Phase: batch.PhaseApply, Attempts: 1, Duration: time.Duration(5+(i*7919)%200) * time.Millisecond,
		Fields: []string{"description", "timezone"},
		Time:   g.start.Add(time.Duration(i/max(g.perSecond, 1))*time.Second + time.Duration(i%1000)*time.Microsecond),
	}
	desc := fmt.Sprintf("Room %d", i%1000)
	if g.hostile != "" && i%10 == 1 {
		desc = g.hostile
	}
	r.Changes = []batch.Change{
		{Field: "description", Old: fmt.Sprintf("Desk %d", i), New: desc, Known: true},
		{Field: "timezone", Old: []string{"Europe/Berlin", "Europe/London", ""}[i%3], New: "Europe/Oslo", Known: true},
	}
	if g.hostileField != "" && i%10 == 1 {
		r.Changes = append(r.Changes, batch.Change{Field: g.hostileField, Old: "a", New: "b", Known: true})
	}
	if i%7 == 0 {
		r.Changes = append(r.Changes, batch.Change{Field: "pin", Secret: true})
		r.Fields = append(r.Fields, "pin")
	}
	switch {
	case i%50 == 0:
		r.Status, r.Code, r.Key, r.Message, r.Changes = batch.StatusInvalid, "400", "timezone", `Unknown time zone "Europe/Londn"`, nil
		r.Phase = batch.PhaseValidate
	case g.mode == "run" && i%97 == 0:
		r.Status, r.Code, r.Message = batch.StatusFailed, "404", fmt.Sprintf("Mailbox %q not found", box)
		if g.hostile != "" {
			r.Message = g.hostile
		}
	case g.mode == "run" && i%101 == 0:
		r.Status, r.Attempts, r.Duration, r.Changes = batch.StatusSkipped, 0, 0, nil
		r.Message = "not attempted: the run was interrupted"
	case i%10 == 9:
		r.Status, r.Attempts, r.Duration, r.Changes = batch.StatusUnchanged, 0, 0, nil
	case g.mode == "plan":
		r.Status = batch.StatusChange
	default:
		r.Status, r.Code, r.Message = batch.StatusOK, "204", "OK"
	}
	if g.hostile != "" && i == 3 {
		r.Mailbox = g.hostile
	}
	return r
}

// counts are what a test expects of n rows of g.
func (g gen) counts(n int) map[batch.Status]int {
	c := map[batch.Status]int{}
	for i := 1; i <= n; i++ {
		c[g.result(i).Status]++
	}
	return c
}

// reader streams a final CSV report of n rows of g, as ensbulk's own
// encoder writes it, without holding it: rows are encoded as they are
// read.
func (g gen) reader(tb testing.TB, n int, f report.Format) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		enc, err := report.NewEncoder(pw, f, true)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		for i := 1; i <= n; i++ {
			if err := enc.Encode(report.FromResult(g.result(i))); err != nil {
				pw.CloseWithError(err)
				return
			}
			if i%1024 == 0 {
				if err := enc.Flush(); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
		}
		pw.CloseWithError(enc.Flush())
	}()
	tb.Cleanup(func() { pr.Close() })
	return pr
}

// writeReport writes n rows of g as a run writes its report: through the
// journal, finalized in row order, with its sidecar.
func (g gen) writeReport(tb testing.TB, path string, n int, meta report.Meta) {
	tb.Helper()
	j, err := report.OpenJournal(path, report.CSV, report.SyncNone)
	if err != nil {
		tb.Fatal(err)
	}
	// Rows finish out of order in a real run: write them in pairs
	// swapped, so the page must read the latest record per row.
	for i := 1; i <= n; i += 2 {
		for _, k := range []int{i + 1, i} {
			if k <= n {
				if err := j.Write(g.result(k)); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	if err := j.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := j.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := report.Finalize(path, report.CSV); err != nil {
		tb.Fatal(err)
	}
	meta.Mode, meta.Format = g.mode, report.CSV
	if err := report.WriteMeta(path, meta); err != nil {
		tb.Fatal(err)
	}
}
