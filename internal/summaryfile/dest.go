// Package summaryfile is the machine-readable summary of a run, for
// monitoring, and the file it is written to.
package summaryfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/ensbulk/ensbulk/report"
)

// Dest is where a summary goes, checked before anything is sent.
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
type Dest struct {
	path    string
	w       io.Writer // "-": standard output
	through bool      // write the existing file in place
}

// DestError is a destination that cannot or must not be written: Reason
// says why.
type DestError struct {
	Path   string
	Reason string
}

func (e *DestError) Error() string { return fmt.Sprintf("summary %s: %s", e.Path, e.Reason) }

// CheckDest refuses, with a *DestError, a destination that cannot or must
// not be written; nil for "" (no summary). "-" is stdout.
func CheckDest(path string, stdout io.Writer) (*Dest, error) {
	switch path {
	case "":
		return nil, nil
	case "-":
		return &Dest{path: path, w: stdout}, nil
	}
	d, reason := checkPath(path)
	if reason != "" {
		return nil, &DestError{Path: path, Reason: reason}
	}
	return d, nil
}

// checkPath is CheckDest for a name on disk: the destination, or why it
// is refused.
func checkPath(path string) (*Dest, string) {
	lst, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Sprintf("directory %s does not exist", dir)
		}
		return &Dest{path: path}, ""
	}
	if err != nil {
		return nil, err.Error()
	}
	linked := lst.Mode()&fs.ModeSymlink != 0
	st := lst
	if linked {
		if linkOfAnotherUser(lst) {
			return nil, "is a symbolic link owned by another user; refusing to write through it (name the file itself)"
		}
		if st, err = os.Stat(path); err != nil {
			return nil, fmt.Sprintf("is a symbolic link to nothing (%v); refusing to create its target (name the file itself)", err)
		}
	}
	return checkKind(path, st.Mode(), linked)
}

// checkKind is the destination an existing path of mode m makes (linked:
// named through a symbolic link), or why it is refused.
func checkKind(path string, m fs.FileMode, linked bool) (*Dest, string) {
	switch {
	case m.IsDir():
		return nil, "is a directory"
	case m.IsRegular() && linked:
		// A file is never written through a link: the link may have
		// been aimed at any file since the operator last looked.
		return nil, "is a symbolic link to a file; refusing to write through it (name the file itself)"
	case m.IsRegular() && !IsSummary(path):
		return nil, "exists and is not a summary of ensbulk's; refusing to overwrite it (is it the input or a report? name a file of its own)"
	case m.IsRegular():
		return &Dest{path: path}, ""
	case m&fs.ModeCharDevice != 0, m&fs.ModeNamedPipe != 0:
		return &Dest{path: path, through: true}, ""
	}
	return nil, "is not a file, a device or a pipe"
}

// IsSummary says whether the regular file at path holds nothing, or a
// summary this package wrote: a JSON object with its outcome and exit
// code. Anything else (an input, a report, a config file named by
// mistake) is not replaced.
func IsSummary(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return true
	}
	var s struct {
		Outcome  *string `json:"outcome"`
		ExitCode *int    `json:"exit_code"`
	}
	return json.Unmarshal(b, &s) == nil && s.Outcome != nil && s.ExitCode != nil
}

// Path is the destination as given.
func (d *Dest) Path() string { return d.path }

// Replaced says whether the destination is a file of its own, which a
// summary may overwrite more than once (the placeholder of a run going,
// then its outcome).
func (d *Dest) Replaced() bool { return d != nil && d.w == nil && !d.through }

// Write puts one summary at the destination.
func (d *Dest) Write(s Summary) error {
	b, err := encode(s)
	if err != nil {
		return err
	}
	return d.write(b)
}

func (d *Dest) write(b []byte) error {
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
