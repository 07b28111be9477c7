package resume

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

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
	meta, err := report.ReadMeta(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		p.note("validating every row: the validate report %s is unreadable (%v)", path, err)
		return nil
	case meta.Mode != "validate":
		return nil
	}
	if meta.Switch != cfg.Meta.Switch || meta.User != cfg.Meta.User {
		// Another switch's answers say nothing of this one's.
		p.note("validating every row: the validate report %s was made against switch %s as user %s, not %s as user %s",
			path, orNone(meta.Switch), orNone(meta.User), cfg.Meta.Switch, cfg.Meta.User)
		return nil
	}
	if diffs := metaDiffs(meta, cfg.Meta, cfg.Dialect); len(diffs) > 0 {
		p.note("validating every row: the validate report %s is of another input (%s)", path, joinAnd(diffs))
		return nil
	}
	age := cfg.Meta.Started.Sub(meta.Started)
	if age < 0 || age > cfg.ReuseMaxAge {
		p.note("validating every row: the validate report %s was started %s ago, more than %s", path, age.Round(time.Minute), cfg.ReuseMaxAge)
		return nil
	}
	old, err := report.OpenLatest(path)
	if err != nil {
		p.note("validating every row: the validate report %s is unreadable (%v)", path, err)
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
		p.note("validating every row: the validate report %s is unreadable (%v)", path, re.err)
		return nil
	}
	if err != nil {
		return err
	}
	valid = p.keepValidTodo()
	p.note("the server validated this input %s ago (%s): %d valid %s not validated again, %d invalid %s reported without sending",
		age.Round(time.Second), path, valid, plural(valid, "row is", "rows are"), invalid, plural(invalid, "row is", "rows are"))
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

func (p *Plan) note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}
