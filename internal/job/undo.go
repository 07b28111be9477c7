package job

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// The undo file of a run is package undo's; this file decides which one
// a run records into, opens it, and says what it holds.

// undoSettings are the sidecar's Read and Undo of a new report: how the
// run reads before it writes and the undo file it records into.
func undoSettings(o *Options, in *input, reportPath string, retried *resume.Sidecar) (read, path string, err error) {
	if o.Validate {
		return "", "", nil
	}
	mode, err := o.readMode()
	switch {
	case err != nil:
		return "", "", err
	case o.Plan:
		return "", "", nil
	case in.undo != nil:
		if mode == readNone {
			return "", "", usageErr("--no-read: an undo file is applied with its checks, which read each mailbox first")
		}
		if o.UndoPath != "" {
			return "", "", usageErr("--undo: applying an undo file writes no undo file of its own (run the original input again to redo)")
		}
		return mode, "", nil // its own report is the record
	case mode == readNone:
		if o.UndoPath != "" {
			return "", "", usageErr("--undo and --no-read do not go together: without the read there is nothing to undo with")
		}
		return readNone, "", nil
	}
	path, err = undoPath(o, in, reportPath, retried)
	return mode, path, err
}

// undoPath is the undo file a run that reads records into: --undo, the
// undo file of the run a retry retries, or the report's own; absolute,
// JSON lines, and none of the run's other files.
func undoPath(o *Options, in *input, reportPath string, retried *resume.Sidecar) (string, error) {
	path := o.UndoPath
	if path == "" && retried != nil {
		// A retry adds to the undo file of the run it retries, so that
		// one undo takes back the run and all its retries, in order.
		if retried.Err == nil && retried.Meta.Undo != "" {
			path = retried.Meta.Undo
		}
	}
	if path == "" {
		path = undo.PathFor(reportPath)
	}
	// Recorded absolute: a retry from another directory must find the
	// run's undo file, not one of the same name beside it.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if !strings.HasSuffix(path, ".jsonl") {
		return "", usageErr("--undo %s: an undo file is JSON lines (it keeps every value exactly, null and line breaks included): name it *.jsonl", path)
	}
	for _, other := range []struct{ what, path string }{
		{"the input", in.path}, {"the report", reportPath}, {"the report's sidecar", report.MetaPath(reportPath)}, {"the report being retried", o.RetryFailed},
	} {
		if other.path != "" && other.path != "-" && resume.SameFile(path, other.path) {
			return "", usageErr("--undo %s is %s: name another file", path, other.what)
		}
	}
	return path, nil
}

// undoCompanions are the undo file and journal a rotation sets aside with
// the report.
func undoCompanions(path string) []string {
	if path == "" {
		return nil
	}
	return []string{path, undo.JournalPath(path)}
}

// openUndo opens the journal this invocation records into: a new one for
// a new report, the report's own for a resume (with the same settings), or
// the retried run's for a retry.
func (j *job) openUndo() (*undo.Journal, error) {
	m, want := &j.plan.Meta, j.want
	if j.plan.Resuming {
		// The read mode may change between invocations (a list or a get
		// before each update both leave an undo entry for it); whether
		// the run reads at all may not.
		if readsBefore(m.Read) != readsBefore(want.Read) {
			return nil, usageErr("cannot resume %s: its run %s, this invocation %s: pass the same setting (a resume must not change what its undo file covers)", j.reportPath, readWords(m.Read), readWords(want.Read))
		}
		if j.o.UndoPath != "" && !resume.SameFile(j.o.UndoPath, m.Undo) {
			return nil, usageErr("cannot resume %s with --undo %s: its run records into %s; leave --undo out", j.reportPath, j.o.UndoPath, m.Undo)
		}
	}
	if m.Undo == "" {
		return nil, nil
	}
	id := j.conn.identity()
	jp := undo.JournalPath(m.Undo)
	_, jerr := os.Lstat(jp)
	// A retry continues the undo file of the run it retries (see
	// undoSettings); Decide has read that run's sidecar.
	continuing := j.plan.Resuming || (j.plan.Retried != nil && m.Undo == j.plan.Retried.Undo)
	var u *undo.Journal
	var err error
	switch {
	case !continuing:
		u, err = undo.Create(m.Undo, id, j.reportPath)
	case jerr == nil:
		u, err = undo.Continue(m.Undo, id)
	case errors.Is(jerr, fs.ErrNotExist) && undoEmpty(j, m.Undo):
		u, err = undo.Create(m.Undo, id, j.reportPath)
	default:
		u, err = undo.Continue(m.Undo, id) // says what is missing
	}
	if err != nil {
		return nil, undoErr(err, j.o.RetryFailed != "")
	}
	if m.UndoState != "open" {
		m.UndoState = "open"
		if err := report.WriteMeta(j.reportPath, *m); err != nil {
			_ = u.Close()
			return nil, fileErr(fmt.Errorf("report sidecar: %w", err))
		}
	}
	return u, nil
}

// undoEmpty says whether the undo file at path holds nothing of an
// earlier invocation, so that starting its journal again loses nothing:
// the sidecar says "open" only once the journal is durable, so a journal
// missing under "open" was removed, and one missing before it (a kill
// between the sidecar and the journal) never held an entry.
func undoEmpty(j *job, path string) bool {
	if _, err := os.Lstat(path); err == nil {
		return false // the journal was removed, its undo file was not
	}
	state := j.plan.Meta.UndoState
	if r := j.plan.Retried; !j.plan.Resuming && r != nil {
		state = r.UndoState
	}
	return state != "open"
}

func readWords(read string) string {
	switch read {
	case "none":
		return "did not read before it wrote (--no-read)"
	case readGet, readList, readAuto:
		return "read before it wrote (its undo file covers it)"
	}
	return "recorded no read setting"
}

// undoErr turns package undo's refusals into the command's words.
func undoErr(err error, retry bool) error {
	var ee *undo.ExistsError
	var ie *undo.IdentityError
	var me *undo.MissingJournalError
	switch {
	case errors.As(err, &ee):
		return usageErr("undo file %s already exists (an earlier run's undo?): move it away, or pass --undo PATH", ee.Path)
	case errors.As(err, &ie):
		return usageErr("%s belongs to switch %s as user %s; this run is against switch %s as user %s: an undo belongs to one switch and user",
			ie.Path, ie.Recorded.Switch, ie.Recorded.User, ie.Current.Switch, ie.Current.User)
	case errors.As(err, &me):
		hint := "restore it from a backup; a new journal would cover only the rows from now on, and the undo file would say it covers the run"
		if retry {
			hint += ", or pass --undo NEW.undo.jsonl to keep this retry's undo apart (then undo the retry first, then the run)"
		}
		return usageErr("%s: refusing to go on without it: %s", me, hint)
	case errors.Is(err, undo.ErrNotOurs):
		return usageErr("%v", err)
	}
	return fileErr(fmt.Errorf("undo journal: %w", err))
}

// undoBuilt is the outcome of buildUndo: built is false when the run
// keeps no undo journal.
type undoBuilt struct {
	built    bool
	closeErr error // the journal's
	st       undo.Stats
	err      error // the build's
}

// buildUndo closes the undo journal and writes the undo file from it on a
// goroutine of its own; the channel gives the outcome (at once when there
// is no journal).
func (j *job) buildUndo() <-chan undoBuilt {
	out := make(chan undoBuilt, 1)
	u := j.undo
	if u == nil {
		out <- undoBuilt{}
		return out
	}
	j.undo = nil
	undoPath, reportPath, now := j.plan.Meta.Undo, j.reportPath, j.o.now()
	go func() {
		if err := u.Close(); err != nil {
			out <- undoBuilt{built: true, closeErr: err}
			return
		}
		st, err := undo.Build(undoPath, reportPath, now)
		out <- undoBuilt{built: true, st: st, err: err}
	}()
	return out
}

// finishUndo says what the undo file holds and what it cannot take back,
// or why it could not be written.
func (j *job) finishUndo(w io.Writer, ub undoBuilt) error {
	m := &j.plan.Meta
	if ub.closeErr != nil {
		return internalErr(fmt.Errorf("undo journal: %w", ub.closeErr))
	}
	st, err := ub.st, ub.err
	if err != nil {
		if errors.Is(err, undo.ErrNotOurs) || errors.As(err, new(*undo.IdentityError)) {
			return undoErr(err, false)
		}
		return internalErr(fmt.Errorf("undo file: %w", err))
	}
	if st.Rows == 0 {
		// Nothing to take back: no file is left to wonder about. A retry
		// of another report's run leaves that run's journal alone.
		if j.o.RetryFailed == "" {
			os.Remove(undo.JournalPath(m.Undo))
			m.UndoState = "empty"
			if err := report.WriteMeta(j.reportPath, *m); err != nil {
				return fileErr(fmt.Errorf("report sidecar: %w", err))
			}
		}
		fmt.Fprintln(w, "undo: nothing was changed, no undo file")
		return nil
	}
	path := m.Undo
	fmt.Fprintf(w, "undo: %s (%s; `ensbulk run %s` puts back each field where the switch still holds what this run set, and reports the others as conflict)\n",
		path, plural(st.Rows, "row", "rows"), shellQuote(path))
	sayLost(w, st.LostPINs, st.LostOther, st.Nulls)
	return nil
}

// sayLost says what an undo cannot take back: the first run's summary
// and the undo run's both say it.
func sayLost(w io.Writer, pins, other, nulls int) {
	if pins > 0 {
		fmt.Fprintf(w, "undo: %s cannot be undone: the server did not show the PIN before the update\n", plural(pins, "PIN change", "PIN changes"))
	}
	if other > 0 {
		fmt.Fprintf(w, "undo: %s changed a field the server did not show before the update; those fields cannot be undone\n", plural(other, "row", "rows"))
	}
	if nulls > 0 {
		fmt.Fprintf(w, "undo: %s null before the update and take no empty value; an update cannot write null, so they cannot be restored\n", plural(nulls, "field was", "fields were"))
	}
}

// shellQuote quotes a path for a command line when it needs it.
func shellQuote(p string) string {
	if p != "" && strings.IndexFunc(p, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}
