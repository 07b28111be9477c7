// Package lock is an exclusive lock on a file, held by the operating
// system for the open file: two runs never write one report, and a lock
// left by a killed run never blocks the next one, since the OS drops it
// with the process. The file holds the holder's PID, for the refusal.
package lock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ErrSymlink is a lock file that is a symbolic link: it is never followed,
// since a link planted at the lock's name would otherwise have the run
// truncate its target.
var ErrSymlink = errors.New("is a symbolic link; refusing to follow it")

// HeldError says that another process holds the lock.
type HeldError struct {
	Path string // the lock file
	PID  int    // the holder's, as it wrote it; 0 when not known
}

func (e *HeldError) Error() string {
	pid := "unknown"
	if e.PID > 0 {
		pid = strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("lock %s is held by PID %s", e.Path, pid)
}

// Lock is a lock taken by Acquire.
type Lock struct {
	path string
	f    *os.File
}

// Acquire takes the lock at path, creating the file, or returns a
// *HeldError naming the process that holds it. A symbolic link at path is
// refused with ErrSymlink.
func Acquire(path string) (*Lock, error) {
	for range 5 {
		f, err := openLockFile(path)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		held, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !held {
			pid := holder(f)
			f.Close()
			return nil, &HeldError{Path: path, PID: pid}
		}
		// The holder before us may have removed the file after we opened
		// it: then our lock is on an orphan inode. Check and try again.
		st1, err1 := f.Stat()
		st2, err2 := os.Lstat(path)
		if err1 != nil || err2 != nil || !os.SameFile(st1, st2) {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			_ = f.Sync()
		}
		return &Lock{path: path, f: f}, nil
	}
	return nil, fmt.Errorf("lock %s: could not be taken", path)
}

// holder reads the PID written by the process that holds the lock; 0 when
// it wrote none yet.
func holder(f *os.File) int {
	b, _ := io.ReadAll(io.NewSectionReader(f, 0, 32))
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Release removes the lock file and drops the lock. A nil Lock is
// released already.
func (l *Lock) Release() {
	if l == nil {
		return
	}
	removeAndClose(l.path, l.f)
}
