package lock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLockRefusesSecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "changes.report.csv.lock")
	first, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second acquire: %v, want a *HeldError", err)
	}
	if held.Path != path || held.PID != os.Getpid() {
		t.Errorf("held = %+v, want path %s and PID %d", *held, path, os.Getpid())
	}
	first.Release()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after release: %v", err)
	}
	again, err := Acquire(path)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	again.Release()
}

// A holder that has not yet written its PID (or wrote garbage) is named
// as unknown, not as PID 0.
func TestHeldErrorWithoutPID(t *testing.T) {
	for _, tt := range []struct {
		err  *HeldError
		want string
	}{
		{&HeldError{Path: "r.lock", PID: 42}, "lock r.lock is held by PID 42"},
		{&HeldError{Path: "r.lock"}, "lock r.lock is held by PID unknown"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestReleaseOfNilLock(t *testing.T) {
	var l *Lock
	l.Release() // a job that never took its lock releases it on the way out
}
