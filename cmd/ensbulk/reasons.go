package main

import (
	"errors"
	"fmt"

	"github.com/ensbulk/ensbulk/internal/lock"
)

// The packages under internal/ return typed reasons; the functions here
// turn them into the words, flag names and kinds (exit codes) an operator
// reads.

// acquireLock takes the lock of report (REPORT.lock), or says who holds it
// (errLocked).
func acquireLock(report string) (*lock.Lock, error) {
	l, err := lock.Acquire(report + ".lock")
	var held *lock.HeldError
	switch {
	case err == nil:
		return l, nil
	case errors.As(err, &held):
		pid := "unknown"
		if held.PID > 0 {
			pid = fmt.Sprint(held.PID)
		}
		return nil, withKind(errLocked, fmt.Errorf("another ensbulk run (PID %s) holds the lock on report %s; wait for it to end", pid, report))
	case errors.Is(err, lock.ErrSymlink):
		return nil, fileErr(fmt.Errorf("%w (remove it if no run is going)", err))
	}
	return nil, fileErr(err)
}
