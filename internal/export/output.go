package export

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ensbulk/ensbulk/internal/job"
)

// output is --output: written to a temporary file beside it and
// renamed into place once complete, so a link planted at its name is
// replaced, never written through, and a file holding PINs is created
// 0600 whatever the file it replaces allowed.
type output struct {
	*os.File
	path string
	done bool
}

// createOutput refuses a path that holds anything but an export (a
// directory, a device, another kind of file): export writes only its own.
func createOutput(path string, secret bool) (*output, error) {
	if st, err := os.Lstat(path); err == nil {
		if st.Mode().IsRegular() && !looksExported(path) {
			return nil, usageErr("--output %s exists and is not an export of ensbulk (its first line is not mailbox,customer,...): name a new file or remove it", path)
		}
		if !st.Mode().IsRegular() && st.Mode()&os.ModeSymlink == 0 {
			return nil, usageErr("--output %s is not a regular file", path)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, job.Mark(job.File, fmt.Errorf("--output: %w", err))
	}
	perm := os.FileMode(0o644)
	if secret {
		perm = 0o600
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, job.Mark(job.File, fmt.Errorf("--output: %w", err))
	}
	return &output{File: tmp, path: path}, nil
}

// looksExported says whether the file at path starts as an export does.
func looksExported(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 32)
	n, _ := io.ReadFull(f, b)
	start := string(b[:n])
	return n == 0 || strings.HasPrefix(start, "mailbox,customer") || strings.HasPrefix(start, `{"mailbox":`)
}

func (e *output) commit() error {
	if err := e.Sync(); err != nil {
		return err
	}
	if err := e.Close(); err != nil {
		return err
	}
	if err := os.Rename(e.Name(), e.path); err != nil {
		return err
	}
	e.done = true
	return nil
}

// abandon removes the temporary file of an export that did not finish:
// the file at path is left as it was.
func (e *output) abandon() {
	if !e.done {
		e.Close()
		os.Remove(e.Name())
	}
}
