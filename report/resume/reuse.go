package resume

import (
	"errors"
	"io/fs"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// reuse plans a new run that follows a validate run of the same input:
// the rows that validate run found valid are not validated again, and
// the rows it found invalid are reported invalid without being sent (with
// AllOrNothing they are validated again, so that the engine knows to
// apply nothing). Rows it has no definite answer for are validated as
// usual.
//
// The validate report is taken only when its sidecar describes the input
// exactly as it is now (same sha256, format, delimiter and empty token)
// and it was started at most ReuseMaxAge before this run: the server's
// answer can change with its state (a mailbox created, a rate plan
// changed), and the point of the sequence validate-then-run is the same
// sitting. Anything else is not an error: the run validates every row,
// saying why the report was not taken.
func (p *Plan) reuse(cfg Config) error {
	path := cfg.Reuse
	meta, ok := p.reusable(cfg)
	if !ok {
		return nil
	}
	age := cfg.Meta.Started.Sub(meta.Started)
	old, err := report.OpenLatest(path)
	if err != nil {
		p.note(Note{Kind: NoteReuseUnreadable, Path: path, Err: err})
		return nil
	}
	defer old.Close()
	valid, invalid := 0, 0
	// No chain: nothing was applied, so a row this run handles does not
	// make the later rows of its mailbox need a validation again.
	_, err = p.diff(cfg.Open, old, 0, false, func(r *batch.Row, rec report.Record) (bool, error) {
		if rec.Hash != r.Hash || !sameBox(r, rec) {
			return true, nil
		}
		switch batch.Status(rec.Status) {
		case batch.StatusValid:
			p.validated(r.Num)
			valid++
			return true, nil
		case batch.StatusInvalid:
			return cfg.AllOrNothing, nil
		}
		return true, nil
	}, func(r *batch.Row, rec report.Record) error {
		invalid++
		rec.Line = r.Line
		return p.seed(rec, cfg.Meta.Format)
	})
	if re := (*readError)(nil); errors.As(err, &re) {
		p.Close()
		*p = Plan{Meta: p.Meta, Notes: p.Notes}
		p.note(Note{Kind: NoteReuseUnreadable, Path: path, Err: re.err})
		return nil
	}
	if err != nil {
		return err
	}
	valid = p.keepValidTodo()
	p.note(Note{Kind: NoteReused, Path: path, Age: age, Valid: valid, Invalid: invalid})
	return nil
}

// reusable reads the sidecar of the validate report cfg.Reuse and says
// whether its results may be taken over. When they may not, a note says
// why, unless there is nothing to say (no report, or not a validate's).
func (p *Plan) reusable(cfg Config) (report.Meta, bool) {
	path := cfg.Reuse
	meta, err := report.ReadMeta(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), err == nil && meta.Mode != "validate":
		return meta, false
	case err != nil:
		p.note(Note{Kind: NoteReuseUnreadable, Path: path, Err: err})
		return meta, false
	case meta.Switch != cfg.Meta.Switch || meta.User != cfg.Meta.User:
		// Another switch's answers say nothing of this one's.
		p.note(Note{Kind: NoteReuseOtherSwitch, Path: path, Then: meta, Now: cfg.Meta})
		return meta, false
	}
	if diffs := metaDiffs(meta, cfg.Meta, cfg.Dialect); len(diffs) > 0 {
		p.note(Note{Kind: NoteReuseOtherInput, Path: path, Changes: diffs})
		return meta, false
	}
	if age := cfg.Meta.Started.Sub(meta.Started); age < 0 || age > cfg.ReuseMaxAge {
		p.note(Note{Kind: NoteReuseTooOld, Path: path, Age: age, MaxAge: cfg.ReuseMaxAge})
		return meta, false
	}
	return meta, true
}

func (p *Plan) note(n Note) {
	p.Notes = append(p.Notes, n)
}
