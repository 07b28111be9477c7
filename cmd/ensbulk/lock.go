package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// runLock is an exclusive lock on REPORT.lock, held by the operating
// system for the open file: two runs never write one report, and a lock
// left by a killed run never blocks the next one, since the OS drops it
// with the process. The file holds the holder's PID, for the refusal.
type runLock struct {
	path string
	f    *os.File
}

// acquireLock takes the lock of report, or says who holds it (errLocked).
// The lock file is never followed through a symbolic link: a link planted
// at REPORT.lock would otherwise have the run truncate its target.
func acquireLock(report string) (*runLock, error) {
	path := report + ".lock"
	for range 5 {
		f, err := openLockFile(path)
		if err != nil {
			return nil, fileErr(fmt.Errorf("lock %s: %w", path, err))
		}
		held, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fileErr(fmt.Errorf("lock %s: %w", path, err))
		}
		if !held {
			holder := lockHolder(f)
			f.Close()
			return nil, withKind(errLocked, fmt.Errorf("another ensbulk run (PID %s) holds the lock on report %s; wait for it to end", holder, report))
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
		return &runLock{path: path, f: f}, nil
	}
	return nil, fileErr(fmt.Errorf("lock %s: could not be taken", path))
}

// lockHolder reads the PID written by the run that holds the lock.
func lockHolder(f *os.File) string {
	b, _ := io.ReadAll(io.NewSectionReader(f, 0, 32))
	holder := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(holder); err != nil {
		return "unknown"
	}
	return holder
}

func (l *runLock) release() {
	if l == nil {
		return
	}
	removeAndClose(l.path, l.f)
}
