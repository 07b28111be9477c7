package job

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/snapshot"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// run --plan PLAN_REPORT applies exactly what an approved plan report
// says, built on the engine's conditional write (Row.Expect, as the
// checked undo): each row the plan found `change` is sent with only the
// fields the plan showed changing, each expected to hold the plan's old
// value; a row with a field that holds something else is a conflict, and
// none of it is sent (Row.ExpectAll: the plan approved the row's change
// as a whole, against the mailbox as it was). The
// input's values are the new values (the plan's input, by sha256): the
// plan report holds no PIN, and its new values are checked against them.
//
// The plan's changes column is exact for this: report.FormatChanges
// quotes every value that could be misread, and report.ParseChanges
// gives it back byte for byte. It loses only what the check does not
// need: null (written "", and the engine compares null as ""), a PIN
// (never shown: it is sent without a condition, as the plan showed it
// changing), and an old value the plan's read did not show ("?": no
// condition either). So no sidecar of expectations is written.
//
// The plan report is read in step with the input (both in row order), a
// record at a time, on every pass: memory does not grow with the rows.

// approvedPlan is the plan report a run applies, checked against the
// input and the connection.
type approvedPlan struct {
	path   string
	sha256 string
	counts map[batch.Status]int // the plan's statuses, for the start line
}

// loadPlan checks the plan report of --plan (or, on --resume, the one the
// report's run applies) before anything is sent: it must be a finished
// plan of this input, made against this switch as this user, and agree
// row by row with the input. The input then reads through it.
func (j *job) loadPlan() error {
	o := j.o
	if o.Validate || o.Plan {
		return nil
	}
	path, recorded, err := j.planToApply()
	if err != nil || path == "" {
		return err
	}
	switch {
	case j.in.undo != nil:
		return usageErr("--plan: %s is an undo file, which is applied with its own checks: run it without --plan", j.in.name)
	case o.NoRead:
		return usageErr("--plan and --no-read do not go together: a plan is applied only where each mailbox still holds the plan's old values, which takes the read")
	}
	sum, err := snapshot.HashFile(path)
	if err != nil {
		return fileErr(fmt.Errorf("--plan: %w", err))
	}
	if recorded != "" && sum != recorded {
		return usageErr("the plan %s changed since this run started (sha256 %.12s… then, %.12s… now): a resume applies the plan its run started with (nothing was sent)", path, recorded, sum)
	}
	m, err := report.ReadMeta(path)
	if err != nil {
		return usageErr("--plan %s: not a plan report with its sidecar %s (%v): make one with `ensbulk plan FILE`", path, report.MetaPath(path), err)
	}
	if err := j.checkPlanMeta(path, m); err != nil {
		return err
	}
	ap := &approvedPlan{path: path, sha256: sum}
	if err := ap.check(j.in); err != nil {
		return usageErr("--plan %s: %v (nothing was sent)", path, err)
	}
	j.in.approved = ap
	o.FromPlan = path // a resume's too: the summary speaks of the plan
	fmt.Fprintf(j.errw, "ensbulk: applying the plan %s: %d rows to change, %d unchanged (not sent), %d not ok in the plan (not sent)\n",
		path, ap.counts[batch.StatusChange], ap.counts[batch.StatusUnchanged], ap.notOK())
	return nil
}

// planToApply is the plan report this run applies: --plan, or on
// --resume the one the report's run applies, with the sha256 it
// recorded ("" when none).
func (j *job) planToApply() (path, recorded string, err error) {
	path = j.o.FromPlan
	if !j.o.Resume {
		return path, "", nil
	}
	m, err := report.ReadMeta(j.reportPath)
	if err != nil {
		return path, "", nil
	}
	switch {
	case m.Plan == "" && path != "":
		return "", "", usageErr("cannot resume %s with --plan: its run did not apply a plan (leave --plan out, or run the plan with a new --report)", j.reportPath)
	case m.Plan != "" && path != "" && !resume.SameFile(path, m.Plan):
		return "", "", usageErr("cannot resume %s with --plan %s: its run applies the plan %s; leave --plan out", j.reportPath, path, m.Plan)
	}
	return m.Plan, m.PlanSHA256, nil
}

// checkPlanMeta refuses a plan report whose sidecar m says it is not a
// finished plan of this input against this switch as this user.
func (j *job) checkPlanMeta(path string, m report.Meta) error {
	o := j.o
	cur := j.conn.identity()
	switch {
	case m.Mode != "plan":
		return usageErr("--plan %s is the report of a %s, not of a plan: make one with `ensbulk plan FILE`", path, orWord(m.Mode, "run of unknown mode"))
	case m.Switch == "" || m.User == "":
		return usageErr("the plan %s does not record the switch and user it was made against (an older ensbulk): plan again", path)
	case m.Switch != cur.Switch || m.User != cur.User:
		return usageErr("the plan %s was made against switch %s as user %s; this run is against switch %s as user %s: a plan is applied where it was made (nothing was sent)",
			path, m.Switch, m.User, cur.Switch, cur.User)
	case m.InputSHA256 != j.in.sha256:
		return usageErr("the plan %s was made from another input (sha256 %.12s…; %s is %.12s…): a plan is applied to the file it was made from; plan this file and have that approved (nothing was sent)",
			path, m.InputSHA256, j.in.name, j.in.sha256)
	case m.InputFormat != string(j.in.opts.Format):
		return usageErr("the plan %s read its input as %s, this run as %s: pass --format %s", path, m.InputFormat, j.in.opts.Format, m.InputFormat)
	case m.InputFormat == string(reader.CSV) && (m.EmptyToken != o.EmptyToken || !sameDelimiter(m.Delimiter, o.Delimiter)):
		return usageErr("the plan %s read its input with --empty-token %q --delimiter %q, this run with %q %q: pass the plan's (the same bytes mean other values otherwise)",
			path, m.EmptyToken, m.Delimiter, o.EmptyToken, o.Delimiter)
	case m.Finished.IsZero():
		return usageErr("the plan %s did not go through its whole input (stopped or interrupted): finish it (`ensbulk plan %s --resume`) and have that approved", path, shellQuote(m.Input))
	}
	return nil
}

func orWord(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

func sameDelimiter(a, b string) bool {
	ra, err1 := parseDelimiter(a)
	rb, err2 := parseDelimiter(b)
	return err1 == nil && err2 == nil && ra == rb
}

func (ap *approvedPlan) notOK() int {
	n := 0
	for st, c := range ap.counts {
		if st != batch.StatusChange && st != batch.StatusUnchanged {
			n += c
		}
	}
	return n
}

// check reads the whole input through the plan: every row must have its
// plan record, and every planned change agree with the row.
func (ap *approvedPlan) check(in *input) error {
	src, c, err := in.openChanges()
	if err != nil {
		return err
	}
	defer c.Close()
	ps, pc, err := ap.wrap(src)
	if err != nil {
		return err
	}
	defer pc.Close()
	ap.counts = map[batch.Status]int{}
	for {
		row, err := ps.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case row.Err != nil:
			ap.counts[batch.StatusInvalid]++
		case row.Settled != nil:
			ap.counts[row.Settled.Status]++
		default:
			ap.counts[batch.StatusChange]++
		}
	}
	if rec, err := ps.dec.Next(); err == nil {
		return fmt.Errorf("it has row %d, which the input does not", rec.Row)
	}
	return nil
}

// wrap makes src read through the plan; the closer closes the plan.
func (ap *approvedPlan) wrap(src batch.Source) (*planSource, io.Closer, error) {
	f, err := os.Open(ap.path)
	if err != nil {
		return nil, nil, err
	}
	return &planSource{src: src, dec: report.NewDecoder(f, ap.path), path: ap.path}, f, nil
}

// source is wrap as the engine's Source: a Filter when src is one, so
// that a pass reads only the rows it needs.
func (ap *approvedPlan) source(src batch.Source, c io.Closer) (batch.Source, io.Closer, error) {
	ps, pc, err := ap.wrap(src)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	closer := closers{pc, c}
	if f, ok := src.(batch.Filter); ok {
		return planFilter{ps, f}, closer, nil
	}
	return ps, closer, nil
}

type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// planSource gives each input row as the plan says to send it.
type planSource struct {
	src  batch.Source
	dec  *report.Decoder
	path string
	rec  report.Record
	have bool
}

// Next returns the next row of the input as approved.
func (p *planSource) Next() (batch.Row, error) {
	row, err := p.src.Next()
	if err != nil {
		return row, err
	}
	rec, err := p.record(row.Num)
	if err != nil {
		return row, err
	}
	return approve(row, rec)
}

// record advances the plan to row num: both are in row order.
func (p *planSource) record(num int) (report.Record, error) {
	for !p.have || p.rec.Row < num {
		rec, err := p.dec.Next()
		if errors.Is(err, io.EOF) {
			return report.Record{}, fmt.Errorf("it has no row %d (it ends before)", num)
		}
		if err != nil {
			return report.Record{}, err
		}
		if p.have && rec.Row <= p.rec.Row {
			return report.Record{}, fmt.Errorf("row %d after row %d: not a finished plan report (rows in order)", rec.Row, p.rec.Row)
		}
		p.rec, p.have = rec, true
	}
	if p.rec.Row != num {
		return report.Record{}, fmt.Errorf("it has no row %d", num)
	}
	return p.rec, nil
}

// planFilter is a planSource over a Filter.
type planFilter struct {
	*planSource
	f batch.Filter
}

func (p planFilter) Only(want func(int) bool) { p.f.Only(want) }
func (p planFilter) Passed() int              { return p.f.Passed() }

// approve makes row what the plan approved: a change row sends only the
// fields the plan showed changing, each on the condition that it still
// holds the plan's old value; any other row is settled as the plan left
// it, not sent.
func approve(row batch.Row, rec report.Record) (batch.Row, error) {
	if err := samePlannedRow(row, rec); err != nil {
		return row, err
	}
	if row.Err != nil {
		return row, nil // reported invalid by the local checks, as in the plan
	}
	if batch.Status(rec.Status) != batch.StatusChange {
		row.Settled = settledByPlan(rec)
		return row, nil
	}
	cs, err := report.ParseChanges(rec.Changes)
	if err != nil || len(cs) == 0 {
		return row, fmt.Errorf("its row %d is change but its changes cell does not read (%v)", row.Num, err)
	}
	keep, expect, err := approvedFields(row, cs)
	if err != nil {
		return row, err
	}
	params := make([]batch.Param, 0, len(keep))
	for _, p := range row.Params {
		if keep[p.Name] {
			params = append(params, p)
		}
	}
	row.Params, row.Expect, row.ExpectAll = params, expect, true
	return row, nil
}

// samePlannedRow refuses a plan's record that is not of row: another
// mailbox, or other values than the input's.
func samePlannedRow(row batch.Row, rec report.Record) error {
	if rec.Mailbox != row.Mailbox || rec.Customer != row.Customer {
		return fmt.Errorf("its row %d is mailbox %s, the input's is mailbox %s", row.Num, boxWords(rec.Mailbox, rec.Customer), boxWords(row.Mailbox, row.Customer))
	}
	if rec.Hash != "" && row.Hash != "" && rec.Hash != row.Hash {
		return fmt.Errorf("its row %d was planned from other values than the input's", row.Num)
	}
	return nil
}

// settledByPlan is the result of a row the plan did not find changing,
// as the plan left it.
func settledByPlan(rec report.Record) *batch.Settled {
	st := batch.Status(rec.Status)
	if st == batch.StatusUnchanged {
		return &batch.Settled{Status: st, Phase: batch.PhaseApply, Message: "the plan found it unchanged; not sent"}
	}
	msg := "in the plan: " + rec.Message
	if rec.Message == "" {
		msg = "in the plan: " + rec.Status
	}
	return &batch.Settled{Status: st, Phase: batch.Phase(rec.Phase), Code: rec.Code, Key: rec.Key, Message: msg + "; not sent"}
}

// approvedFields checks the plan's changes against the input's row: the
// fields to send (the mailbox, its customer and the changed fields) and
// each changed field's old value the update expects to find.
func approvedFields(row batch.Row, cs []batch.Change) (map[string]bool, []batch.Param, error) {
	keep := map[string]bool{"mailbox": true, "customer": true}
	var expect []batch.Param
	for _, c := range cs {
		v, ok := paramOf(row, c.Field)
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("its row %d changes %s, which the input's row does not set", row.Num, c.Field)
		case !c.Secret && v != c.New:
			return nil, nil, fmt.Errorf("its row %d sets %s to %s, the input's row to %s", row.Num, c.Field, report.ShowValue(c.New), report.ShowValue(v))
		}
		keep[c.Field] = true
		if c.Known && !c.Secret {
			expect = append(expect, batch.Param{Name: c.Field, Value: c.Old})
		}
	}
	return keep, expect, nil
}

func paramOf(row batch.Row, name string) (string, bool) {
	for _, p := range row.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

func boxWords(mailbox, customer string) string {
	if customer == "" {
		return mailbox
	}
	return mailbox + " of customer " + customer
}
