// Package resume decides what a run does with the report it is given:
// start afresh, continue the report of an interrupted run (Resume), or
// rerun the rows an earlier report holds as not ok (RetryFailed). It
// compares the report and its sidecar with the input as it is now, row by
// row (or, for a resume of an input whose bytes the sidecar recorded, the
// report alone: sameInput), and refuses, before anything is sent, a
// report that no longer describes the input.
//
// It says why it refuses (a Refusal) and what a plan does that a plain
// run would not (its Notes) as typed values; the command turns them into
// words, option names and the command lines it suggests.
//
// It knows the report (package report) and rows (package batch), not how
// an input's bytes become rows: the command passes an Opener and a
// Dialect.
package resume

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// Config is what Decide needs to know of the run.
type Config struct {
	// Report is the path of the report this run writes.
	Report string
	// Meta is the sidecar this run writes when it starts afresh. Its Mode
	// and Format are what a report must be to be resumed; its input
	// fields are compared with the resumed report's.
	Meta report.Meta
	// Resume continues Report; Force accepts an input that changed since
	// (with Resume), or applies the rows that were ok in RetryFailed and
	// were edited since (with RetryFailed).
	Resume, Force bool
	// Rotate, with Resume, sets aside the report of a finished run whose
	// input changed since and starts a new one, instead of refusing.
	Rotate bool
	// Keep, with Rotate, removes the reports set aside beyond the Keep
	// newest, with their sidecars and undo files; 0 keeps them all.
	Keep int
	// Companions are files that belong to the report (its undo file and
	// undo journal): a rotation sets them aside with it, so that the new
	// run starts with none.
	Companions []string
	// RetryFailed is the earlier report whose rows that are not ok this
	// run reruns; "" for none.
	RetryFailed string
	// Retried is RetryFailed's sidecar as the caller already read it
	// (its error too); nil: Decide reads it. The sidecar is read once.
	Retried *Sidecar
	// Open reads the input from its start. Its errors are returned as
	// they are; an error of a row is a Refusal.
	Open batch.Opener
	// Dialect says which options change how the input is read.
	Dialect Dialect
	// Reuse is the report of a validate run of the same input whose
	// results a new run takes over instead of validating again (see
	// reuse); "" for none. ReuseMaxAge is how old it may be.
	Reuse       string
	ReuseMaxAge time.Duration
	// AllOrNothing says the run applies all its rows or none: the rows
	// Reuse holds as invalid are then validated again, so that the engine
	// sees them.
	AllOrNothing bool
}

// Dialect is what this package needs to know of how the command reads an
// input, without importing the reader: which format has a delimiter and an
// empty token, and how a delimiter is spelled, so that two spellings of
// one delimiter are not taken for a change.
type Dialect struct {
	// CSV is the input format whose delimiter and empty token change what
	// its bytes mean.
	CSV string
	// ParseDelimiter reads a delimiter setting; two spellings of one
	// delimiter parse to the same rune.
	ParseDelimiter func(string) (rune, error)
}

// Plan is what a run does: which rows it handles and which earlier
// records it carries over into its report.
type Plan struct {
	// Meta is the sidecar of the report: Config.Meta for a new report,
	// the resumed report's own (updated for the input with Force)
	// otherwise.
	Meta report.Meta
	// Resuming is true when the run appends to an existing report, whose
	// sidecar is then already written.
	Resuming bool
	// Done counts the rows an earlier run finished that this run does not
	// redo.
	Done int
	// Seeded counts the records Seed carried over.
	Seeded int
	// Retried is the sidecar of the report a retry reruns
	// (Config.RetryFailed) as Decide read it, so that the run need not
	// read it again; nil when the run is no retry or the sidecar is
	// unreadable.
	Retried *report.Meta
	// Notes are what the operator is told before anything is sent: what
	// this plan does that a plain run would not (records reused, rows
	// applied again, a report set aside).
	Notes []Note

	todo batch.RowSet // nil: every row
	// todoFrom, when not 0, is the row after the report's last: it and
	// every row after it are handled too (sameInput, which does not read
	// the input).
	todoFrom int
	valid    batch.RowSet // rows validated before that this run does not validate again
	nval     int
	seeds    *spool // records carried over, nil when none
}

// Validated tells the engine whether a row was validated by an earlier
// run, with the content it has now: it then skips the validate phase.
func (p *Plan) Validated(r *batch.Row) bool { return p.valid.Has(r.Num) }

// Prevalidated counts the rows Validated accepts.
func (p *Plan) Prevalidated() int { return p.nval }

func (p *Plan) validated(row int) {
	p.valid.Set(row)
	p.nval++
}

// Todo tells the engine whether this run handles the row numbered num.
func (p *Plan) Todo(num int) bool {
	if p.todo == nil || p.todoFrom > 0 && num >= p.todoFrom {
		return true
	}
	return p.todo.Has(num)
}

// Seed writes into the new report of a retry the earlier records of the
// rows it does not rerun, so that report has one line per input row.
func (p *Plan) Seed(j *report.Journal) error {
	if p.seeds == nil {
		return j.Flush()
	}
	defer p.Close()
	if err := p.seeds.copyTo(j); err != nil {
		return err
	}
	p.Seeded = p.seeds.n
	return j.Flush()
}

// Close removes what the plan still holds on disk (the records Seed
// would carry over); the run calls it however it ends.
func (p *Plan) Close() {
	if p.seeds != nil {
		p.seeds.close()
		p.seeds = nil
	}
}

// seed carries rec over into the new report.
func (p *Plan) seed(rec report.Record, format report.Format) error {
	if p.seeds == nil {
		var err error
		if p.seeds, err = newSpool(format); err != nil {
			return err
		}
	}
	return p.seeds.write(rec)
}

// Decide plans a run. A report that exists is continued with Resume and
// refused otherwise; with RetryFailed the run writes a new report seeded
// from the earlier one. It reads the input through Open once when there
// is a report to compare it with and the input's bytes are not those the
// report's sidecar recorded (or the report lacks a row it must know).
//
// It looks first (look reads the report's sidecar and the retried
// report's once each), then asks decide, a pure function of what it
// found, what to do, and carries that out; an effect that learns
// something (the comparison with the input, a report set aside) records
// it in the situation and asks decide again.
func Decide(cfg Config) (*Plan, error) {
	p := &Plan{Meta: cfg.Meta}
	s := look(cfg)
	err := p.carryOut(cfg, &s)
	if err == nil && p.seeds != nil {
		// Every record carried over is in the spool before the run
		// writes its report: a spool that failed (a full temporary
		// disk) refuses the run while nothing is written, rather than
		// leave a new report that a resume would take as unfinished.
		err = p.seeds.end()
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// carryOut does what decide says until it says the plan is made. Each
// effect that does not end the plan changes s so that decide answers
// otherwise next time (exists, compared and rotated only ever turn one
// way), so the loop ends.
func (p *Plan) carryOut(cfg Config, s *situation) error {
	path := cfg.Report
	for {
		act, err := decide(cfg, *s)
		if err != nil {
			return err
		}
		switch act {
		case actStart:
			return nil
		case actDiscard:
			if err := os.Remove(path); err != nil {
				return &Refusal{Reason: DiscardFailed, Op: OpResume, Path: path, Err: err}
			}
			s.exists = false
		case actReplace:
			if err := removeReport(path); err != nil {
				return err
			}
			p.note(Note{Kind: NoteReplaced, Path: path, Mode: cfg.Meta.Mode})
			return nil
		case actCompare:
			if err := p.compare(cfg, s); err != nil {
				return err
			}
		case actRotate:
			if err := p.rotate(cfg, s.meta, s.diffs); err != nil {
				return err
			}
			s.exists, s.rotated = false, true
		case actContinue:
			return p.continueReport(cfg, *s)
		case actRetry:
			p.Retried = s.retried
			return p.retry(cfg)
		case actReuse:
			return p.reuse(cfg)
		}
	}
}

// situation is what Decide found on disk, and what its effects learned
// since: decide reads nothing else.
type situation struct {
	refused error       // a refusal found while looking: the report is a link, or the retried report itself
	exists  bool        // cfg.Report exists
	meta    report.Meta // its sidecar, when metaErr is nil
	metaErr error       // why its sidecar could not be read (fs.ErrNotExist: there is none)
	empty   bool        // (a resume of a report without a sidecar) it holds no more than a new report's header

	retried    *report.Meta // cfg.RetryFailed's sidecar; nil when unreadable
	retriedErr error        // why it is unreadable

	compared bool     // the input was compared with the report (resume)
	diffs    []Change // what differs between the report and the input now, when compared
	gone     *rowSet  // rows of the report the input no longer has, when compared
	rotated  bool     // the report was set aside
}

// look reads what decide needs: each sidecar once, and the start of the
// report only when it has no sidecar and a resume must know whether
// anything is lost by starting afresh.
func look(cfg Config) situation {
	var s situation
	path := cfg.Report
	if cfg.RetryFailed != "" && SameFile(path, cfg.RetryFailed) {
		s.refused = &Refusal{Reason: RetryOfItself, Op: OpRetry, Path: path, Retried: cfg.RetryFailed}
		return s
	}
	var err error
	if s.exists, err = checkOwnFile(path, false); err != nil {
		s.refused = err
		return s
	}
	if _, err := checkOwnFile(report.MetaPath(path), true); err != nil {
		s.refused = err
		return s
	}
	if s.exists {
		s.meta, s.metaErr = report.ReadMeta(path)
		if cfg.Resume && errors.Is(s.metaErr, fs.ErrNotExist) {
			s.empty = emptyReport(path)
		}
	}
	if cfg.RetryFailed != "" {
		sc := cfg.Retried
		if sc == nil {
			sc = ReadSidecar(cfg.RetryFailed)
		}
		if sc.Err == nil {
			m := sc.Meta
			s.retried = &m
		}
		s.retriedErr = sc.Err
	}
	return s
}

// Sidecar is a report's sidecar as read, or why it could not be.
type Sidecar struct {
	Meta report.Meta
	Err  error
}

// ReadSidecar reads the sidecar of the report at path.
func ReadSidecar(path string) *Sidecar {
	m, err := report.ReadMeta(path)
	return &Sidecar{Meta: m, Err: err}
}

// action is what decide says to do next.
type action int

const (
	actStart    action = iota // a new report, nothing carried over
	actDiscard                // remove a header-only report without a sidecar, then decide again
	actReplace                // remove an earlier plan or validate report of this input, then start
	actCompare                // compare the input with the report to resume, then decide again
	actRotate                 // set the finished report aside, then decide again
	actContinue               // append to the report (updated for the input with Force)
	actRetry                  // a new report seeded from cfg.RetryFailed
	actReuse                  // a new report that takes over a validate report's results
)

// decide is the one place that says what a run does with the report it
// is given, from what look found and the effects learned: an action, or
// a refusal (a Refusal) before anything is sent or changed.
func decide(cfg Config, s situation) (action, error) {
	path := cfg.Report
	noSidecar := errors.Is(s.metaErr, fs.ErrNotExist)
	switch {
	case s.refused != nil:
		return 0, s.refused
	case s.rotated:
		if cfg.Reuse != "" {
			return actReuse, nil
		}
		return actStart, nil
	case s.exists && cfg.Resume:
		return decideResume(cfg, s)
	case s.exists && replaceable(cfg, s):
		// A plan or validation changed nothing on the switch: doing it
		// again supersedes the earlier report, so that "fix the rows,
		// then plan again" works as said.
		return actReplace, nil
	case s.exists && noSidecar:
		return 0, &Refusal{Reason: NotAReport, Path: path}
	case s.exists:
		return 0, &Refusal{Reason: ReportExists, Path: path}
	case cfg.RetryFailed != "":
		return decideRetry(cfg, s)
	case cfg.Reuse != "":
		return actReuse, nil
	}
	return actStart, nil
}

// decideResume decides the resume of a report that exists. A changed
// input is refused unless cfg.Force, which then makes the report describe
// the input now. With cfg.Rotate, a changed input whose report's run had
// finished is a new job (a nightly file replaced by the next night's):
// the old report is set aside and the run starts afresh.
func decideResume(cfg Config, s situation) (action, error) {
	if act, err := resumeSidecar(cfg.Report, s); act != actCompare || err != nil {
		return act, err
	}
	if err := checkResumable(cfg, s.meta); err != nil {
		return 0, err
	}
	switch {
	case !s.compared:
		return actCompare, nil
	case len(s.diffs) > 0 && cfg.Rotate && !cfg.Force && !s.meta.Finished.IsZero():
		return actRotate, nil
	case len(s.diffs) > 0 && !cfg.Force:
		return 0, &Refusal{Reason: InputChanged, Op: OpResume, Path: cfg.Report, Then: s.meta, Now: cfg.Meta, Changes: s.diffs}
	}
	return actContinue, nil
}

// resumeSidecar decides the resume of a report by its sidecar alone:
// actDiscard, a refusal, or actCompare to go on. A report without its
// sidecar is ours only if it holds nothing but what a new report starts
// with: then nothing is lost by starting afresh. Anything else (an input
// or config file named by mistake) is left exactly as it is.
func resumeSidecar(path string, s situation) (action, error) {
	switch {
	case errors.Is(s.metaErr, fs.ErrNotExist) && !s.empty:
		return 0, &Refusal{Reason: SidecarMissing, Op: OpResume, Path: path}
	case errors.Is(s.metaErr, fs.ErrNotExist):
		return actDiscard, nil
	case s.metaErr != nil:
		return 0, &Refusal{Reason: SidecarUnreadable, Op: OpResume, Path: path, Err: s.metaErr}
	}
	return actCompare, nil
}

// checkResumable refuses to resume a report that is not this run's kind,
// which no Force can change: another switch, mode or encoding.
func checkResumable(cfg Config, meta report.Meta) error {
	if err := checkIdentity(OpResume, cfg.Report, meta, cfg.Meta, cfg.Force); err != nil {
		return err
	}
	if meta.Mode != cfg.Meta.Mode {
		return &Refusal{Reason: OtherMode, Op: OpResume, Path: cfg.Report, Then: meta, Now: cfg.Meta}
	}
	if meta.Format != "" && meta.Format != cfg.Meta.Format {
		return &Refusal{Reason: OtherFormat, Op: OpResume, Path: cfg.Report, Then: meta, Now: cfg.Meta}
	}
	return nil
}

// decideRetry refuses a retry of a report made against another switch or
// user, or (unless cfg.Force) one whose sidecar cannot say which.
func decideRetry(cfg Config, s situation) (action, error) {
	old := cfg.RetryFailed
	if s.retried != nil {
		if err := checkIdentity(OpRetry, old, *s.retried, cfg.Meta, cfg.Force); err != nil {
			return 0, err
		}
	} else if cfg.Meta.Switch != "" && !cfg.Force {
		return 0, &Refusal{Reason: SidecarUnreadable, Op: OpRetry, Path: old, Now: cfg.Meta, Err: s.retriedErr}
	}
	return actRetry, nil
}

// replaceable says whether the report cfg.Report, whose sidecar look
// read, is an earlier plan or validate report of this same input, switch
// and user, in the format this run writes: a new plan or validation
// replaces it.
func replaceable(cfg Config, s situation) bool {
	mode := cfg.Meta.Mode
	if mode != "plan" && mode != "validate" || cfg.Meta.Input == "" || cfg.Meta.Input == "-" {
		return false
	}
	if s.metaErr != nil {
		return false
	}
	m := s.meta
	return m.Mode == mode && m.Input == cfg.Meta.Input && m.Switch == cfg.Meta.Switch && m.User == cfg.Meta.User &&
		formatOr(m.Format) == formatOr(cfg.Meta.Format)
}

// checkIdentity refuses a report (op: to resume or retry it) made against
// another switch or user than this run's: its rows say nothing of this
// switch. A report of an older ensbulk records neither: it is refused
// too, unless force, since nothing says which switch it describes.
func checkIdentity(op Op, path string, old, cur report.Meta, force bool) error {
	if cur.Switch == "" {
		return nil // a run that connects nowhere (an offline validation)
	}
	if old.Switch == "" && old.User == "" {
		if force {
			return nil
		}
		return &Refusal{Reason: NoIdentity, Op: op, Path: path, Then: old, Now: cur}
	}
	if old.Switch != cur.Switch || old.User != cur.User {
		return &Refusal{Reason: OtherSwitch, Op: op, Path: path, Then: old, Now: cur}
	}
	return nil
}

// formatOr is f, or CSV when the sidecar names no format.
func formatOr(f report.Format) report.Format {
	if f == "" {
		return report.CSV
	}
	return f
}
