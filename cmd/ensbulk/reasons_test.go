package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A lock held by another run is exit 4 with the holder's PID; the same
// report's lock is free again once released.
func TestAcquireLockWords(t *testing.T) {
	report := filepath.Join(t.TempDir(), "changes.report.csv")
	first, err := acquireLock(report)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	_, err = acquireLock(report)
	if exitCodeOf(err) != exitLocked {
		t.Fatalf("second acquire: %v (exit %d), want exit %d", err, exitCodeOf(err), exitLocked)
	}
	want := fmt.Sprintf("another ensbulk run (PID %d) holds the lock on report %s; wait for it to end", os.Getpid(), report)
	if err.Error() != want {
		t.Errorf("refusal = %q, want %q", err, want)
	}
}

// A lock file that cannot be used is a file error (exit 2), not ours.
func TestAcquireLockFileError(t *testing.T) {
	report := filepath.Join(t.TempDir(), "no such dir", "changes.report.csv")
	_, err := acquireLock(report)
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "changes.report.csv.lock") {
		t.Errorf("err = %v (exit %d), want a file error naming the lock file (exit %d)", err, exitCodeOf(err), exitUsage)
	}
}

// A symbolic link at REPORT.lock is refused as a file error, with what to
// do about it.
func TestAcquireLockSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need a privilege on Windows")
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "changes.report.csv")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), report+".lock"); err != nil {
		t.Fatal(err)
	}
	_, err := acquireLock(report)
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "remove it if no run is going") {
		t.Errorf("err = %v (exit %d), want a refusal naming the link, with the remedy (exit %d)", err, exitCodeOf(err), exitUsage)
	}
}
