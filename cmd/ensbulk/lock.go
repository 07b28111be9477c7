package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// runLock is an exclusive flock on REPORT.lock: two runs never write one
// report. The kernel drops a flock when its process dies, so a lock left by
// a killed run never blocks the next one.
type runLock struct {
	path string
	f    *os.File
}

func acquireLock(report string) (*runLock, error) {
	path := report + ".lock"
	for range 5 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fileErr(fmt.Errorf("lock %s: %w", path, err))
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			b, _ := os.ReadFile(path)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				holder := strings.TrimSpace(string(b))
				if _, perr := strconv.Atoi(holder); perr != nil || holder == "" {
					holder = "unknown"
				}
				return nil, withKind(errLocked, fmt.Errorf("another ensbulk run (PID %s) holds the lock on report %s; wait for it to end", holder, report))
			}
			return nil, fileErr(fmt.Errorf("lock %s: %w", path, err))
		}
		// The holder before us may have removed the file after we opened
		// it: then our lock is on an orphan inode. Check and try again.
		st1, err1 := f.Stat()
		st2, err2 := os.Stat(path)
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

func (l *runLock) release() {
	if l == nil {
		return
	}
	os.Remove(l.path) // while still holding it, see acquireLock
	l.f.Close()
}
