package resume

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ensbulk/ensbulk/report"
)

// The files a run would write: whether they may be written, and the
// removal of a report a new one replaces.

// removeReport removes a report and its sidecar, the sidecar last: a
// report without a sidecar is not taken for one.
func removeReport(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &Refusal{Reason: ReplaceFailed, Path: path, Err: err}
	}
	if err := os.Remove(report.MetaPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &Refusal{Reason: ReplaceFailed, Path: path, Sidecar: true, Err: err}
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

// checkOwnFile says whether the file a run would write at path (the
// report or its sidecar) exists, and refuses one it must not write: a
// symbolic link (in a shared directory, another user could aim it at any
// file the run may write) or anything but a regular file.
func checkOwnFile(path string, sidecar bool) (bool, error) {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, &Refusal{Reason: FileUnusable, Path: path, Sidecar: sidecar, Err: err}
	case st.Mode()&fs.ModeSymlink != 0:
		return false, &Refusal{Reason: FileLink, Path: path, Sidecar: sidecar}
	case !st.Mode().IsRegular():
		return false, &Refusal{Reason: FileIrregular, Path: path, Sidecar: sidecar}
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
