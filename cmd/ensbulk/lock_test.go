package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockRefusesSecondHolder(t *testing.T) {
	report := filepath.Join(t.TempDir(), "changes.report.csv")
	first, err := acquireLock(report)
	if err != nil {
		t.Fatal(err)
	}
	_, err = acquireLock(report)
	if !errors.Is(err, errLocked) || exitCodeOf(err) != exitLocked {
		t.Fatalf("second acquire: %v (exit %d), want the lock refused (exit %d)", err, exitCodeOf(err), exitLocked)
	}
	if want := fmt.Sprintf("PID %d", os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("refusal %q does not name the holder (%s)", err, want)
	}
	first.release()
	if _, err := os.Stat(report + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after release: %v", err)
	}
	again, err := acquireLock(report)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	again.release()
}
