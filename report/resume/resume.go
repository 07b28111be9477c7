// Package resume decides what a run does with the report it is given:
// start afresh, continue the report of an interrupted run (--resume), or
// rerun the rows an earlier report holds as not ok (--retry-failed). It
// compares the report and its sidecar with the input as it is now, row by
// row, and refuses, before anything is sent, a report that no longer
// describes the input. It also writes the command lines a summary
// suggests next.
//
// It knows the report (package report) and rows (package batch), not how
// an input's bytes become rows: the command passes an Opener and a
// Dialect.
package resume

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// RefusedError says the run is refused before anything is sent: the
// report, its sidecar or the input do not allow what was asked, and the
// message says what to pass instead. The command exits with its usage
// code.
type RefusedError struct {
	Err error
}

func (e *RefusedError) Error() string { return e.Err.Error() }

// Unwrap returns the cause, so errors.Is finds ErrReportExists.
func (e *RefusedError) Unwrap() error { return e.Err }

// ErrReportExists is wrapped by the RefusedError of a run that would
// overwrite an existing report (neither --resume nor --retry-failed with
// another report).
var ErrReportExists = errors.New("already exists")

func refuse(format string, args ...any) error {
	return &RefusedError{Err: fmt.Errorf(format, args...)}
}

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
	// Open reads the input from its start. Its errors are returned as
	// they are; an error of a row is a RefusedError.
	Open batch.Opener
	// Dialect says which options change how the input is read.
	Dialect Dialect
	// Reuse is the report of a validate run of the same input whose
	// results a new run takes over instead of validating again (see
	// reuse); "" for none. ReuseMaxAge is how old it may be.
	Reuse       string
	ReuseMaxAge time.Duration
	// AllOrNothing is the run's --all-or-nothing: the rows Reuse holds
	// as invalid are then validated again, so that the engine sees them.
	AllOrNothing bool
}

// Dialect is what this package needs to know of how the command reads an
// input, without importing the reader: which format has a delimiter and an
// empty token, and the defaults of those options, so that a spelling of
// the same option is not taken for a change and a suggested command line
// names only the options that matter.
type Dialect struct {
	// CSV is the input format whose delimiter and empty token change what
	// its bytes mean.
	CSV string
	// FormatOf is the input format a file's name implies, "" when none.
	FormatOf func(name string) string
	// ParseDelimiter reads a delimiter option; two spellings of one
	// delimiter parse to the same rune.
	ParseDelimiter func(string) (rune, error)
	// DefaultDelimiter and DefaultEmptyToken are what the command uses
	// when the options are not given.
	DefaultDelimiter  rune
	DefaultEmptyToken string
}

// Plan is what a run does: which rows it handles and which earlier
// records it carries over into its report.
type Plan struct {
	// Meta is the sidecar of the report: Config.Meta for a new report,
	// the resumed report's own (updated for the input with --force)
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
	Notes []string

	todo  batch.RowSet // nil: every row
	valid batch.RowSet // rows validated before that this run does not validate again
	nval  int
	seeds *spool // records carried over, nil when none
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
	if p.todo == nil {
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
// is a report to compare it with.
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
		// leave a new report that a --resume would take as unfinished.
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
				return refuse("report %s: %v", path, err)
			}
			s.exists = false
		case actReplace:
			if err := removeReport(path); err != nil {
				return err
			}
			p.note("replaced the earlier %s report %s of this input (a %s changes nothing on the switch)", cfg.Meta.Mode, path, cfg.Meta.Mode)
			return nil
		case actCompare:
			if err := p.compare(cfg, s); err != nil {
				return err
			}
		case actRotate:
			if err := p.rotate(cfg, s.meta, joinAnd(s.diffs)); err != nil {
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
	diffs    []string // what differs between the report and the input now, when compared
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
		s.refused = refuse("--report %s is the report being retried: a retry writes a new report and leaves %s as it is; pass another --report PATH", path, cfg.RetryFailed)
		return s
	}
	var err error
	if s.exists, err = checkOwnFile(path, "report"); err != nil {
		s.refused = err
		return s
	}
	if _, err := checkOwnFile(report.MetaPath(path), "report sidecar"); err != nil {
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
		m, err := report.ReadMeta(cfg.RetryFailed)
		if err == nil {
			s.retried = &m
		}
		s.retriedErr = err
	}
	return s
}

// action is what decide says to do next.
type action int

const (
	actStart    action = iota // a new report, nothing carried over
	actDiscard                // remove a header-only report without a sidecar, then decide again
	actReplace                // remove an earlier plan or validate report of this input, then start
	actCompare                // compare the input with the report to resume, then decide again
	actRotate                 // set the finished report aside, then decide again
	actContinue               // append to the report (updated for the input with --force)
	actRetry                  // a new report seeded from cfg.RetryFailed
	actReuse                  // a new report that takes over a validate report's results
)

// decide is the one place that says what a run does with the report it
// is given, from what look found and the effects learned: an action, or
// a refusal (a RefusedError) before anything is sent or changed.
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
		return 0, refuse("%s %w and is not a report of ensbulk (it has no sidecar %s): it was left as it is; pass --report PATH to name a new report", path, ErrReportExists, report.MetaPath(path))
	case s.exists:
		return 0, refuse("report %s %w: pass --resume to continue that run, or --report PATH to start a new report", path, ErrReportExists)
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
	path, meta := cfg.Report, s.meta
	switch {
	case errors.Is(s.metaErr, fs.ErrNotExist) && !s.empty:
		// A report without its sidecar is ours only if it holds nothing
		// but what a new report starts with: then nothing is lost by
		// starting afresh. Anything else (an input or config file named
		// by mistake) is left exactly as it is.
		return 0, refuse("cannot resume %s: its sidecar %s is missing, so it is not a report ensbulk can continue (is it one?); it was left as it is: pass --report PATH to start a new report", path, report.MetaPath(path))
	case errors.Is(s.metaErr, fs.ErrNotExist):
		return actDiscard, nil
	case s.metaErr != nil:
		return 0, refuse("cannot resume %s: its sidecar %s is unreadable (%v); use --report PATH to start a new report", path, report.MetaPath(path), s.metaErr)
	}
	// What the report is cannot be forced: another switch, mode or
	// encoding.
	if err := checkIdentity("cannot resume: report", path, meta, cfg.Meta, cfg.Force); err != nil {
		return 0, err
	}
	if meta.Mode != cfg.Meta.Mode {
		return 0, refuse("cannot resume %s: it is the report of a %q run, not %q; use --report PATH to start a new report", path, meta.Mode, cfg.Meta.Mode)
	}
	if meta.Format != "" && meta.Format != cfg.Meta.Format {
		return 0, refuse("cannot resume %s: it is a %s report; pass --report-format %s", path, meta.Format, meta.Format)
	}
	switch {
	case !s.compared:
		return actCompare, nil
	case len(s.diffs) > 0 && cfg.Rotate && !cfg.Force && !meta.Finished.IsZero():
		return actRotate, nil
	case len(s.diffs) > 0 && !cfg.Force:
		return 0, refuse("cannot resume %s: the input changed since the report was started: %s; pass --force to redo every changed row (and the later rows of their mailboxes), or --report PATH to start a new report", path, joinAnd(s.diffs))
	}
	return actContinue, nil
}

// decideRetry refuses a retry of a report made against another switch or
// user, or (unless cfg.Force) one whose sidecar cannot say which.
func decideRetry(cfg Config, s situation) (action, error) {
	old := cfg.RetryFailed
	if s.retried != nil {
		if err := checkIdentity("--retry-failed: report", old, *s.retried, cfg.Meta, cfg.Force); err != nil {
			return 0, err
		}
	} else if cfg.Meta.Switch != "" && !cfg.Force {
		return 0, refuse("--retry-failed %s: its sidecar %s is unreadable (%v), so nothing says which switch it describes: pass --force if it was made against %s as user %s", old, report.MetaPath(old), s.retriedErr, cfg.Meta.Switch, cfg.Meta.User)
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

// removeReport removes a report and its sidecar, the sidecar last: a
// report without a sidecar is not taken for one.
func removeReport(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return refuse("replace report %s: %v", path, err)
	}
	if err := os.Remove(report.MetaPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return refuse("replace report %s: its sidecar: %v", path, err)
	}
	return nil
}

// checkIdentity refuses a report (or its takeover) made against another
// switch or user than this run's: its rows say nothing of this switch.
// A report of an older ensbulk records neither: it is refused too, unless
// force, since nothing says which switch it describes.
func checkIdentity(what, path string, old, cur report.Meta, force bool) error {
	if cur.Switch == "" {
		return nil // a run that connects nowhere (validate --offline)
	}
	if old.Switch == "" && old.User == "" {
		if force {
			return nil
		}
		return refuse("%s %s records no switch or user (written by an older ensbulk): pass --force if it was made against %s as user %s", what, path, cur.Switch, cur.User)
	}
	if old.Switch != cur.Switch || old.User != cur.User {
		return refuse("%s %s belongs to switch %s as user %s; this run is against switch %s as user %s: a report belongs to one switch and user (use the other switch's settings, or --report PATH for a new report)",
			what, path, old.Switch, old.User, cur.Switch, cur.User)
	}
	return nil
}

// SameFile reports whether paths a and b name one file: the same absolute
// path, or (when both exist) the same inode through links or mounts.
func SameFile(a, b string) bool {
	ea, err1 := filepath.Abs(a)
	eb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && ea == eb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// checkOwnFile says whether the file a run would write at path exists,
// and refuses one it must not write: a symbolic link (in a shared
// directory, another user could aim it at any file the run may write) or
// anything but a regular file.
func checkOwnFile(path, what string) (bool, error) {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, refuse("%s %s: %v", what, path, err)
	case st.Mode()&fs.ModeSymlink != 0:
		return false, refuse("%s %s is a symbolic link: ensbulk does not write through links; name the file itself", what, path)
	case !st.Mode().IsRegular():
		return false, refuse("%s %s is not a regular file", what, path)
	}
	return true, nil
}

// emptyReport says whether the file at path holds no more than a new
// report does before its first record: nothing, or the CSV header (a
// prefix of it if a crash cut the first write).
func emptyReport(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	header := strings.Join(report.Header(), ",") + "\n"
	b := make([]byte, len(header)+1)
	n, _ := io.ReadFull(f, b)
	return n <= len(header) && strings.HasPrefix(header, string(b[:n]))
}
