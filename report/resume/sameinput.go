package resume

import (
	"errors"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// sameInput is diff for an input whose bytes and reading settings are
// those the report's sidecar recorded: every row is the row the report
// was written for, so the report alone says which rows are redone, and
// the input (as large as the report, the most of a resume's start) is
// not read. A row the report holds has its record's mailbox; a row it
// does not hold is redone, and so is every row after the report's last
// (Todo). done is false, with the plan's rows reset, when a row missing
// below kept leaves a mailbox the chain must know unknown (a run killed
// while rows were in flight): diff then reads the input.
func (p *Plan) sameInput(old *report.LatestReader, kept int, mode string) (done bool, err error) {
	p.todo, p.todoFrom, p.Done = batch.RowSet{}, 0, 0
	next, stop := ahead(old.NextBrief)
	defer stop()
	mailboxes := chainer{on: true, kept: kept, dirty: map[string]bool{}}
	last := 0
	for {
		rec, more, err := next()
		if err != nil {
			return false, &readError{err}
		}
		if !more {
			break
		}
		if rec.Row > last+1 && last+1 < kept {
			p.todo, p.valid, p.nval, p.Done = nil, nil, 0, 0
			return false, nil
		}
		for missing := last + 1; missing < rec.Row; missing++ {
			p.todo.Set(missing)
		}
		last = rec.Row
		r := batch.Row{Num: rec.Row, Mailbox: rec.Mailbox, Customer: rec.Customer}
		if mailboxes.redo(&r, p.judge(rec, mode)) {
			p.todo.Set(rec.Row)
			continue
		}
		p.Done++
	}
	p.todoFrom = last + 1
	return true, nil
}

// fromReport is sameInput for compare: a record it cannot read refuses
// the resume as diff's would.
func (p *Plan) fromReport(cfg Config, old *report.LatestReader, kept int, mode string) (bool, error) {
	done, err := p.sameInput(old, kept, mode)
	if re := (*readError)(nil); errors.As(err, &re) {
		return false, &Refusal{Reason: ReportUnreadable, Op: OpResume, Path: cfg.Report, Err: re.err}
	}
	return done, err
}
