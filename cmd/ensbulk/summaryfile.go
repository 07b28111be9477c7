package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// summaryDest is where --summary-json goes, checked before anything is
// sent.
//
// "-" is standard output. A regular file (or a new one) is replaced
// atomically, so monitoring never reads half a summary. A device or a
// named pipe is written through, never replaced by a regular file: that
// is what /dev/stdout or /dev/fd/3 asks for. A symbolic link is followed
// only when it belongs to this user or root: an operator's own link (and
// /dev/stdout, root's link to the descriptor) is written through in place,
// while a link another user planted in a shared directory, which would
// have this run (often root's cron) overwrite whatever it points at, is
// refused, as is a link that points nowhere (writing would create its
// target).
type summaryDest struct {
	path    string
	w       io.Writer // "-": standard output
	through bool      // write the existing file in place
}

// checkSummaryDest refuses a --summary-json that cannot or must not be
// written; nil for none.
func checkSummaryDest(path string, stdout io.Writer) (*summaryDest, error) {
	if path == "" {
		return nil, nil
	}
	if path == "-" {
		return &summaryDest{path: path, w: stdout}, nil
	}
	refuse := func(format string, args ...any) error {
		return fileErr(fmt.Errorf("--summary-json %s: "+format, append([]any{path}, args...)...))
	}
	lst, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, refuse("directory %s does not exist", dir)
		}
		return &summaryDest{path: path}, nil
	}
	if err != nil {
		return nil, refuse("%v", err)
	}
	st := lst
	if lst.Mode()&fs.ModeSymlink != 0 {
		if linkOfAnotherUser(lst) {
			return nil, refuse("is a symbolic link owned by another user; refusing to write through it (name the file itself)")
		}
		if st, err = os.Stat(path); err != nil {
			return nil, refuse("is a symbolic link to nothing (%v); refusing to create its target (name the file itself)", err)
		}
	}
	switch m := st.Mode(); {
	case m.IsDir():
		return nil, refuse("is a directory")
	case m.IsRegular() && st == lst:
		return &summaryDest{path: path}, nil
	case m.IsRegular(), m&fs.ModeCharDevice != 0, m&fs.ModeNamedPipe != 0:
		return &summaryDest{path: path, through: true}, nil
	}
	return nil, refuse("is not a file, a device or a pipe")
}

// replaced says whether the destination is a file of its own, which a
// summary may overwrite more than once (the placeholder of a run going,
// then its outcome).
func (d *summaryDest) replaced() bool { return d != nil && d.w == nil && !d.through }

// write puts one summary at the destination.
func (d *summaryDest) write(b []byte) error {
	switch {
	case d.w != nil:
		_, err := d.w.Write(b)
		return err
	case !d.through:
		return report.WriteFileAtomic(d.path, b, 0o644)
	}
	// No O_CREATE: a link that now points nowhere is not followed into
	// creating a file. O_NONBLOCK: a pipe nobody reads fails instead of
	// holding the exit forever.
	f, err := os.OpenFile(d.path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err == nil && st.Mode().IsRegular() {
		if _, err = f.WriteAt(b, 0); err == nil {
			err = f.Truncate(int64(len(b)))
		}
	} else if err == nil {
		_, err = f.Write(b)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// runRecord is what the summary of a run says, filled in as the run
// goes. A second signal writes it from the signal handler while the run's
// goroutine may be filling it in, hence the mutex.
type runRecord struct {
	mu         sync.Mutex
	o          *runOptions
	dest       *summaryDest
	input      string
	started    time.Time
	reportPath string
	sum        *batch.Summary
	counts     *report.Counts
}

func (r *runRecord) setReport(path string) {
	r.mu.Lock()
	r.reportPath = path
	r.mu.Unlock()
}

func (r *runRecord) setOutcome(sum *batch.Summary, c *report.Counts) {
	r.mu.Lock()
	r.sum, r.counts = sum, c
	r.mu.Unlock()
}

// write writes the summary of a run that ends with code (-1: going).
func (r *runRecord) write(code int, runErr error) error {
	if r.dest == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := encodeSummary(summaryOf(r.o, r.sum, r.counts, r.reportPath, r.input, code, r.started, r.o.now(), runErr))
	if err != nil {
		return err
	}
	return r.dest.write(b)
}

// final writes the summary of a run that returns err, and returns what
// the run then returns: a summary that cannot be written turns success
// (or rows not ok) into an internal error, since monitoring would read an
// older one; a run that failed otherwise says so first.
func (r *runRecord) final(stderr io.Writer, err error) error {
	werr := r.write(exitCodeOf(err), err)
	switch {
	case werr == nil:
		return err
	case err == nil || errors.Is(err, errRows):
		return internalErr(fmt.Errorf("--summary-json %s not written: %w", r.dest.path, werr))
	}
	fmt.Fprintf(stderr, "ensbulk: --summary-json %s not written: %v\n", r.dest.path, werr)
	return err
}
