package resume

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// compare reads the report to resume beside the input, once, and records
// in s what differs (for decideResume) and which rows the input lost.
// A row is redone unless its outcome is final and its content unchanged.
func (p *Plan) compare(cfg Config, s *situation) error {
	meta := s.meta
	old, err := report.OpenLatest(cfg.Report)
	if err != nil {
		return &Refusal{Reason: ReportUnreadable, Op: OpResume, Path: cfg.Report, Err: err}
	}
	defer old.Close()
	var changed rowSet // finished rows whose content or mailbox differs now
	kept := keptRow(old, meta.Mode)
	diffs := metaDiffs(meta, cfg.Meta, cfg.Dialect)
	if len(diffs) == 0 && meta.InputSHA256 != "" {
		done, err := p.fromReport(cfg, old, kept, meta.Mode)
		if err != nil || done {
			s.compared, s.diffs, s.gone = true, nil, &rowSet{}
			return err
		}
		// The report lacks a row the chain must know the mailbox of:
		// the input is read after all, with the report from its start.
		old.Rewind()
	}
	gone, err := p.diff(cfg.Open, old, kept, true, func(r *batch.Row, rec report.Record) (bool, error) {
		if rec.Hash != r.Hash || !sameBox(r, rec) {
			changed.add(r.Num)
			return true, nil
		}
		return p.judge(rec, meta.Mode), nil
	}, nil)
	if re := (*readError)(nil); errors.As(err, &re) {
		return &Refusal{Reason: ReportUnreadable, Op: OpResume, Path: cfg.Report, Err: re.err}
	}
	if err != nil {
		return err
	}
	if changed.n > 0 {
		diffs = append(diffs, Change{Kind: RowsChanged, Rows: changed.rows()})
	}
	if gone.n > 0 {
		diffs = append(diffs, Change{Kind: RowsGone, Rows: gone.rows()})
	}
	s.compared, s.diffs, s.gone = true, diffs, gone
	return nil
}

// keptRow is the highest row of the report a resume may keep: rows a
// resume always redoes never keep a later row of their mailbox from
// being redone.
func keptRow(old *report.LatestReader, mode string) int {
	if mode == "run" {
		return old.MaxRowUnless(batch.StatusError, batch.StatusSkipped, batch.StatusValid)
	}
	return old.MaxRowUnless(batch.StatusError, batch.StatusSkipped)
}

// continueReport plans the run that appends to cfg.Report, as compare
// found it. With differences (Force), the report is made to describe
// the input now.
func (p *Plan) continueReport(cfg Config, s situation) error {
	path := cfg.Report
	p.Meta = s.meta
	p.Resuming = true
	if n := p.keepValidTodo(); n > 0 {
		p.note(Note{Kind: NoteNotRevalidated, N: n})
	}
	if len(s.diffs) == 0 {
		return nil
	}
	// Force: the report now describes this input. Rows the input lost
	// leave it (the final report has one line per input row), and the
	// sidecar names the new input, so a later resume after a crash of
	// this run is not refused again.
	if s.gone.n > 0 {
		if err := report.Rewrite(path, func(r report.Record) bool { return !s.gone.has(r.Row) }); err != nil {
			return fmt.Errorf("report %s: %w", path, err)
		}
	}
	p.Meta.InputSHA256, p.Meta.InputFormat = cfg.Meta.InputSHA256, cfg.Meta.InputFormat
	p.Meta.EmptyToken, p.Meta.Delimiter = cfg.Meta.EmptyToken, cfg.Meta.Delimiter
	p.Meta.Finished = time.Time{} // the changed rows are not done yet
	if err := report.WriteMeta(path, p.Meta); err != nil {
		return fmt.Errorf("report sidecar: %w", err)
	}
	return nil
}

// retry plans a rerun of the rows of cfg.RetryFailed that are not ok.
// Rows it does not rerun keep their earlier record in the new report, so
// it has one line per input row.
//
// Every row number must still hold the mailbox (and customer) it held in
// the report: a row added or removed above shifts the numbers, and an ok
// record would then be carried over to another mailbox's row. The one
// exception is a row refused because of its mailbox or customer (404,
// 402/403, or a 400 naming one of them): naming the right mailbox is how
// such a row is fixed.
//
// The report is opened once, here; its sidecar was read by look.
func (p *Plan) retry(cfg Config) error {
	old := cfg.RetryFailed // its sidecar was checked by decideRetry
	lr, err := report.OpenLatest(old)
	if err != nil {
		return &Refusal{Reason: ReportUnreadable, Op: OpRetry, Path: old, Err: err}
	}
	defer lr.Close()
	var edited rowSet // rows ok in the report whose content changed since
	kept := lr.MaxRowUnless(batch.StatusError, batch.StatusSkipped)
	gone, err := p.diff(cfg.Open, lr, kept, true, func(r *batch.Row, rec report.Record) (bool, error) {
		if !sameBox(r, rec) && !identityFix(rec) {
			return false, &Refusal{Reason: RetryMismatch, Op: OpRetry, Path: old, Row: r.Num,
				Box: Box{r.Mailbox, r.Customer}, ReportBox: Box{rec.Mailbox, rec.Customer}}
		}
		// Done: applied, or already as wanted (a plan's "change" is not).
		done := batch.Status(rec.Status).Success() && rec.Status != string(batch.StatusChange)
		if done && rec.Hash != r.Hash {
			edited.add(r.Num)
			return cfg.Force, nil
		}
		return !done, nil
	}, func(r *batch.Row, rec report.Record) error {
		rec.Line = r.Line
		return p.seed(rec, cfg.Meta.Format)
	})
	if re := (*readError)(nil); errors.As(err, &re) {
		return &Refusal{Reason: ReportUnreadable, Op: OpRetry, Path: old, Err: re.err}
	}
	if err != nil {
		return err
	}
	if gone.n > 0 {
		return &Refusal{Reason: RetryGone, Op: OpRetry, Path: old, Rows: gone.rows()}
	}
	// An edit to a row that was applied would otherwise be carried over
	// as ok and never sent: refuse it, as a resume refuses a changed
	// input, unless Force asks for those rows to be applied too.
	switch {
	case edited.n > 0 && !cfg.Force:
		return &Refusal{Reason: RetryEditedOK, Op: OpRetry, Path: old, Rows: edited.rows()}
	case edited.n > 0:
		p.note(Note{Kind: NoteReapplied, Path: old, Rows: edited.rows()})
	}
	return nil
}

// diff reads the input once, beside the report's latest records in row
// order (a merge of the two by row number), and decides, in file order,
// which rows this run redoes: a row the report does not hold, a row for
// which redo says so, and, with chain, every later row of a mailbox with
// a redone row, so that a mailbox's rows are applied in file order again.
// "Mailbox" is batch.Row.Key, the engine's ordering identity (the number
// alone: a row without a customer may be the same mailbox as one naming a
// customer). redo sees every row the report holds, also those already
// redone for their mailbox, so that it can check each one; keep is
// called, when set, for the rows not redone. diff returns the rows of the
// report the input no longer has.
//
// The mailboxes with a redone row are remembered only below kept, the
// highest row the report holds that may be kept (see MaxRowUnless): no
// later row can need them. Its memory is the bits of p.todo and what it
// returns, and those mailboxes.
func (p *Plan) diff(open batch.Opener, old *report.LatestReader, kept int, chain bool, redo func(*batch.Row, report.Record) (bool, error), keep func(*batch.Row, report.Record) error) (*rowSet, error) {
	src, c, err := open()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	p.todo = batch.RowSet{}
	next, stop := ahead(old.Next)
	defer stop()
	recs := &cursor{next: next, gone: &rowSet{}}
	if err := recs.advance(); err != nil {
		return nil, err
	}
	mailboxes := chainer{on: chain, kept: kept, dirty: map[string]bool{}}
	last := 0
	for r, err := range batch.Rows(src) {
		if err != nil {
			return nil, &Refusal{Reason: RowUnreadable, Err: err}
		}
		if r.Num <= last {
			return nil, &Refusal{Reason: RowOrder, Row: r.Num, After: last}
		}
		last = r.Num
		rec, held, err := recs.at(r.Num)
		if err != nil {
			return nil, err
		}
		do := !held
		if held {
			if do, err = redo(&r, rec); err != nil {
				return nil, err
			}
		}
		if mailboxes.redo(&r, do) {
			p.todo.Set(r.Num)
			continue
		}
		p.Done++
		if keep != nil {
			if err := keep(&r, rec); err != nil {
				return nil, err
			}
		}
	}
	return recs.gone, recs.drain()
}

// cursor walks the report's latest records (from ahead) beside the
// input, in row order, and counts the rows of the report the input has
// not.
type cursor struct {
	next func() (report.Record, bool, error)
	rec  report.Record // the next record, when more
	more bool
	gone *rowSet
}

func (c *cursor) advance() error {
	var err error
	if c.rec, c.more, err = c.next(); err != nil {
		return &readError{err}
	}
	return nil
}

// at returns the record of row num when the report holds it, once the
// records of the rows before it, which the input does not have, are
// counted as gone.
func (c *cursor) at(num int) (report.Record, bool, error) {
	for c.more && c.rec.Row < num {
		c.gone.add(c.rec.Row)
		if err := c.advance(); err != nil {
			return report.Record{}, false, err
		}
	}
	if !c.more || c.rec.Row != num {
		return report.Record{}, false, nil
	}
	rec := c.rec
	return rec, true, c.advance()
}

// drain counts the records left, past the input's last row, as gone.
func (c *cursor) drain() error {
	for c.more {
		c.gone.add(c.rec.Row)
		if err := c.advance(); err != nil {
			return err
		}
	}
	return nil
}

// chainer redoes, when on, every later row of a mailbox with a redone
// row; it remembers those mailboxes only below kept.
type chainer struct {
	on    bool
	kept  int
	dirty map[string]bool
}

// redo says whether row r is redone, do saying whether it is for its own
// sake.
func (c *chainer) redo(r *batch.Row, do bool) bool {
	if !c.on {
		return do
	}
	if !do && (len(c.dirty) == 0 || !c.dirty[r.Key()]) {
		return false
	}
	if r.Num < c.kept {
		c.dirty[r.Key()] = true
	}
	return true
}

// ahead reads the report's records through read (a LatestReader's Next
// or NextBrief) on a goroutine of its own, a batch ahead of next: the
// report is decoded while the input is read. next returns false at the
// end; stop must be called before the reader is closed.
func ahead(read func() (report.Record, error)) (next func() (report.Record, bool, error), stop func()) {
	type chunk struct {
		recs []report.Record
		err  error // io.EOF at the end
	}
	const size = 512
	full, free := make(chan chunk, 4), make(chan []report.Record, 5)
	for range 5 {
		free <- make([]report.Record, 0, size)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			var buf []report.Record
			select {
			case buf = <-free:
			case <-done:
				return
			}
			c := chunk{recs: buf[:0]}
			for len(c.recs) < size {
				rec, err := read()
				if err != nil {
					c.err = err
					break
				}
				c.recs = append(c.recs, rec)
			}
			select {
			case full <- c:
			case <-done:
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	var cur chunk
	i := 0
	next = func() (report.Record, bool, error) {
		for i == len(cur.recs) {
			if cur.err != nil {
				if errors.Is(cur.err, io.EOF) {
					return report.Record{}, false, nil
				}
				return report.Record{}, false, cur.err
			}
			if cur.recs != nil {
				free <- cur.recs
			}
			cur, i = <-full, 0
		}
		i++
		return cur.recs[i-1], true, nil
	}
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	return next, stop
}

// readError is a record of the report diff could not read.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

// redo reports whether a resume sends a row again: a row without a
// definite answer (error, skipped), and a row refused with 402 or 403.
// Those refusals are the role's and the rate plan's, not the row's: the
// operator fixes them on the server (repeated, they abort the run), and
// the resume after the fix must finish the job. A 404 or 400 is the row's
// own fault and stays final until the input is edited.
//
// In a run's report a valid record is a validation that passed and was
// not followed by the row's apply (a crash in between): it is redone.
func redo(rec report.Record, mode string) bool {
	switch st := batch.Status(rec.Status); {
	case st == batch.StatusFailed && forbidden(rec.Code):
		return true
	case st == batch.StatusValid && mode == "run":
		return true
	default:
		return !st.Done()
	}
}

// judge records the validation rec shows (in a run's report) and says
// whether a resume redoes its row for the record's own sake.
func (p *Plan) judge(rec report.Record, mode string) bool {
	if mode == "run" && passedValidation(rec) {
		p.validated(rec.Row)
	}
	return redo(rec, mode)
}

// passedValidation reports whether the record of a run's row shows that
// the server validated the row: its passed validation itself (valid), a
// row left unsent after it (skipped, phase validate), or any answer of
// the apply phase but a 400 (the server no longer accepts the row).
func passedValidation(rec report.Record) bool {
	switch batch.Phase(rec.Phase) {
	case batch.PhaseValidate:
		st := batch.Status(rec.Status)
		return st == batch.StatusValid || st == batch.StatusSkipped
	case batch.PhaseApply:
		return rec.Status != string(batch.StatusInvalid)
	}
	return false
}

// forbidden reports whether code is the server's refusal by role (402)
// or rate plan (403).
func forbidden(code string) bool { return code == "402" || code == "403" }

// keepValidTodo forgets the validations of rows this run does not handle
// and returns how many are left.
func (p *Plan) keepValidTodo() int {
	if p.todo != nil {
		p.nval = p.valid.And(p.todo)
	}
	return p.nval
}

func sameBox(r *batch.Row, rec report.Record) bool {
	return rec.Mailbox == r.Mailbox && rec.Customer == r.Customer
}

// identityFix reports whether a record failed because of the mailbox or
// customer it names, so that a fixed input may name another.
func identityFix(rec report.Record) bool {
	switch batch.Status(rec.Status) {
	case batch.StatusFailed:
		return true
	case batch.StatusInvalid:
		return rec.Key == "mailbox" || rec.Key == "customer"
	}
	return false
}

// metaDiffs says what differs between the input as the sidecar recorded
// it (then) and the input now: its bytes, and the settings that change
// what the bytes mean (delimiter and empty token only for CSV).
func metaDiffs(then, now report.Meta, d Dialect) []Change {
	var diffs []Change
	if then.InputSHA256 != now.InputSHA256 {
		diffs = append(diffs, Change{Kind: ContentChanged, Then: then.InputSHA256, Now: now.InputSHA256})
	}
	if then.InputFormat != now.InputFormat {
		diffs = append(diffs, Change{Kind: FormatChanged, Then: then.InputFormat, Now: now.InputFormat})
	}
	if now.InputFormat != d.CSV {
		return diffs
	}
	if then.EmptyToken != now.EmptyToken {
		diffs = append(diffs, Change{Kind: EmptyTokenChanged, Then: then.EmptyToken, Now: now.EmptyToken})
	}
	a, err1 := d.ParseDelimiter(then.Delimiter)
	b, err2 := d.ParseDelimiter(now.Delimiter)
	if err1 != nil || err2 != nil || a != b {
		diffs = append(diffs, Change{Kind: DelimiterChanged, Then: then.Delimiter, Now: now.Delimiter})
	}
	return diffs
}
