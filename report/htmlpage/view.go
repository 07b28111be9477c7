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
	mode, known := s.mode(info)
	v := view{Title: "ensbulk " + mode + " report " + info.Report}
	v.Identity = s.identity(info, mode, known)
	v.Outcome, v.Exit = s.outcome(mode)
	v.Next = s.nextSteps(info, mode)
	v.Statuses, v.Total, v.Plan = s.statusCounts(mode)

	v.Timed = s.Timed > 0
	v.Latency = s.latencyFacts()
	if v.Timed {
		v.Rate, v.LatLine = s.timelineCharts()
		v.Width = showDuration(time.Duration(s.timeline.width) * time.Second)
	}
	v.LatHist = histChart(&s.latency)

	v.Columns, v.OtherCols = s.columnTables()
	v.Customers, v.Statuses2, v.CustMore = s.customerTable()
	v.Failures, v.FailMore = s.failureTable()
	v.PlanRows, v.PlanMore = s.planTable()
	v.Notes = s.notes()
	return v
}

// when is a time as the page shows it, "" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

// orMissing is a fact that says notRecorded when val is "".
func orMissing(label, val, id string) fact {
	if val == "" {
		return fact{Label: label, Value: notRecorded, ID: id, Missing: true}
	}
	return fact{Label: label, Value: val, ID: id}
}

// identity is what the report is: where it comes from, its mode, when
// its rows were done and how it was staged.
func (s *Stats) identity(info Info, mode string, known bool) []fact {
	m := info.Meta
	if !info.HaveMeta {
		m = report.Meta{}
	}
	modeText := mode
	if !known {
		modeText += " (from the statuses: the sidecar does not say)"
	}
	facts := []fact{
		orMissing("report", info.Report, "report"),
		orMissing("input", m.Input, "input"),
		orMissing("switch", m.Switch, "switch"),
		orMissing("user", m.User, "user"),
		orMissing("user's customer", m.Customer, "customer"),
		orMissing("mode", modeText, "mode"),
		orMissing("started (sidecar)", when(m.Started), "started"),
		orMissing("first row done", when(s.First), "start"),
		orMissing("last row done", when(s.Last), "end"),
	}
	if s.Timed > 0 {
		facts = append(facts, fact{Label: "rows done in", Value: showDuration(s.Last.Sub(s.First)), ID: "elapsed"})
	}
	if info.HaveMeta && !m.Finished.IsZero() {
		facts = append(facts, fact{Label: "went through its whole input", Value: when(m.Finished), ID: "finished"})
	}
	return append(facts, staging(m)...)
}

// outcome is how the run, validation or plan ended, and the exit status
// it had.
func (s *Stats) outcome(mode string) (outcome, exit string) {
	skipped := s.Count(batch.StatusSkipped)
	switch notOK := s.NotOK(); {
	case s.Rows == 0:
		return "the report holds no rows", notRecorded
	case skipped > 0:
		return fmt.Sprintf("stopped before the end: %s not attempted (aborted, interrupted, stopped by a budget or window, or all-or-nothing)", plural(skipped, "row", "rows")),
			"1, 3 or 5 (the report does not record which)"
	case notOK > 0:
		return fmt.Sprintf("finished: %s not ok", plural(notOK, "row", "rows")), "1"
	}
	switch mode {
	case "plan":
		return "finished: every row planned (would change, or changes nothing)", "0"
	case "validate":
		return "finished: every row valid", "0"
	}
	return "finished: every row ok or unchanged", "0"
}

// nextSteps is what to run next: a resume of the rows not attempted, a rerun
// of those that failed (a plan is made again instead).
func (s *Stats) nextSteps(info Info, mode string) []next {
	var out []next
	skipped, notOK := s.Count(batch.StatusSkipped), s.NotOK()
	if skipped > 0 && info.Resume != "" {
		out = append(out, next{Text: "to continue the run from where it stopped:", Command: info.Resume})
	}
	if notOK-skipped <= 0 {
		return out
	}
	if mode == "plan" {
		return append(out, next{Text: "fix the rows under Failures, then plan again"})
	}
	if info.Retry != "" {
		out = append(out, next{Text: fmt.Sprintf("to rerun the %s not ok, after fixing them:", plural(notOK, "row", "rows")), Command: info.Retry})
	}
	return out
}

// statusCounts is the rows of each status (those only some modes have
// when there are any), their total, and for a plan its own counts.
func (s *Stats) statusCounts(mode string) ([]statusCount, string, *planCounts) {
	var out []statusCount
	for i, st := range batch.Statuses {
		n := s.ByStatus[i]
		if n == 0 && (st == batch.StatusUnchanged || st == batch.StatusChange || st == batch.StatusAppliedUnvalidated || st == batch.StatusMismatch) {
			continue // only some modes have these
		}
		out = append(out, statusCount{Status: string(st), Count: fmtInt(n), N: n, Success: st.Success()})
	}
	var plan *planCounts
	if mode == "plan" {
		ch, un, in := s.Count(batch.StatusChange), s.Count(batch.StatusUnchanged), s.Count(batch.StatusInvalid)
		plan = &planCounts{Change: fmtInt(ch), Unchanged: fmtInt(un), Invalid: fmtInt(in), Other: fmtInt(s.Rows - ch - un - in)}
	}
	return out, fmtInt(s.Rows), plan
}

// latencyFacts is the count and quantiles of the requests timed, none
// when no request was.
func (s *Stats) latencyFacts() []fact {
	if s.latency.n == 0 {
		return nil
	}
	return []fact{
		{Label: "requests timed", Value: fmtInt(int(s.latency.n)), ID: "latency-n"},
		{Label: "median", Value: showMS(s.latency.quantile(0.5)), ID: "latency-p50"},
		{Label: "95th percentile", Value: showMS(s.latency.quantile(0.95)), ID: "latency-p95"},
		{Label: "99th percentile", Value: showMS(s.latency.quantile(0.99)), ID: "latency-p99"},
	}
}

// notes are what the page left out, and why.
func (s *Stats) notes() []string {
	var out []string
	if s.BadChanges > 0 {
		out = append(out, fmt.Sprintf("%s had a changes cell that does not read as ensbulk writes it: left out of the tables of changes", plural(s.BadChanges, "row", "rows")))
	}
	if s.Rows > s.Timed {
		out = append(out, fmt.Sprintf("%s had no time (reports of older versions, or rows never attempted): left out of the timeline", plural(s.Rows-s.Timed, "row", "rows")))
	}
	return out
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
