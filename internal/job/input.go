package job

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/snapshot"
	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/reader"
)

func parseDelimiter(s string) (rune, error) {
	switch s {
	case `\t`, "tab":
		return '\t', nil
	}
	r := []rune(s)
	if len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
		return 0, usageErr("--delimiter %q: want one character such as ',' ';' or tab", s)
	}
	return r[0], nil
}

// input is the file being run, and how to read it again and again: from
// a private snapshot (internal/snapshot), so that every pass sees the bytes the
// first one checked.
type input struct {
	path   string // as given
	name   string // for messages
	opts   reader.Options
	sha256 string             // of the snapshot: the content this run works from
	snap   *snapshot.Snapshot // nil for validate --offline on a file, read once in place
	// undo is the header of an undo file (package undo), which is read by
	// its own Source: nil for an input of changes.
	undo *undo.Header
	// approved is the plan run --plan applies: the input reads through
	// it (approve.go).
	approved *approvedPlan
}

// openInput checks the input and takes its snapshot beside reportPath
// (in TMPDIR without a report). validate --offline reads a file once and
// takes none.
func openInput(env *Env, o *Options, path, reportPath string) (*input, func(), error) {
	cleanup := func() {}
	dir := os.TempDir()
	if reportPath != "" {
		dir = filepath.Dir(reportPath)
	}
	in := &input{path: path, name: path}
	fmtName, err := reader.DetectFormatWith(path, o.Format, readerHints)
	if err != nil {
		return nil, cleanup, Mark(Usage, err)
	}
	delim, _ := parseDelimiter(o.Delimiter)
	in.opts = reader.Options{Name: in.name, Format: fmtName, EmptyToken: o.EmptyToken, Delimiter: delim, Hints: readerHints}
	src := env.Stdin
	if path == "-" {
		in.name, in.opts.Name = "stdin", "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, cleanup, fileErr(fmt.Errorf("input: %w", err))
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, cleanup, fileErr(fmt.Errorf("input: %w", err))
		}
		if st.IsDir() {
			return nil, cleanup, fileErr(fmt.Errorf("input %s is a directory", path))
		}
		if o.Offline {
			if h, err := undo.ReadHeader(path); err == nil {
				in.undo = &h
			}
			return in, cleanup, nil // one pass, no report to tie to the input
		}
		src = f
	}
	snap, err := snapshot.Take(dir, src)
	switch {
	case errors.Is(err, snapshot.ErrPlace):
		return nil, cleanup, fileErr(fmt.Errorf("report %s: its directory %w", reportPath, err))
	case err != nil:
		if path == "-" {
			return nil, cleanup, fileErr(fmt.Errorf("read standard input: %w", err))
		}
		return nil, cleanup, fileErr(fmt.Errorf("input %s: %w", path, err))
	}
	in.snap, in.sha256 = snap, snap.SHA256()
	start := make([]byte, 64<<10)
	n, _ := io.ReadFull(snap.Reader(), start)
	if undo.Is(start[:n]) {
		src, err := undo.NewSource(snap.Reader(), in.name)
		if err != nil {
			snap.Remove()
			return nil, cleanup, fileErr(err)
		}
		h := src.Header()
		in.undo = &h
	}
	return in, snap.Remove, nil
}

// open reads the input from the start.
func (in *input) open() (batch.Source, io.Closer, error) {
	if in.undo != nil {
		src, err := undo.NewSource(in.snap.Reader(), in.name)
		if err != nil {
			return nil, nil, err
		}
		return src, noClose{}, nil
	}
	src, c, err := in.openChanges()
	if err != nil || in.approved == nil {
		return src, c, err
	}
	return in.approved.source(src, c)
}

// openChanges reads an input of changes (not an undo file) from the start.
func (in *input) openChanges() (*reader.Reader, io.Closer, error) {
	if in.snap == nil {
		return reader.Open(in.path, in.opts)
	}
	r, err := reader.New(in.snap.Reader(), in.opts)
	if err != nil {
		return nil, nil, err
	}
	return r, noClose{}, nil
}

// noClose is the Closer of a pass over the snapshot, which the job closes.
type noClose struct{}

func (noClose) Close() error { return nil }

// changedSince says, for an input read from a file, whether the file no
// longer holds the bytes of the snapshot the run worked from.
func (in *input) changedSince() bool {
	if in.snap == nil || in.path == "-" {
		return false
	}
	sum, err := snapshot.HashFile(in.path)
	return err != nil || sum != in.sha256
}

// changedLater runs changedSince on a goroutine, beside the end of the
// run's other work (the input is hashed again, as large as the report);
// the function it returns waits for the answer, and must be called.
func (in *input) changedLater() func() bool {
	ch := make(chan bool, 1)
	go func() { ch <- in.changedSince() }()
	var changed, waited bool
	return func() bool {
		if !waited {
			changed, waited = <-ch, true
		}
		return changed
	}
}

// opener is open for the engine, which reads the input once per pass.
func (in *input) opener() batch.Opener {
	return in.open
}
