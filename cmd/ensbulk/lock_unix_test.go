//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A symbolic link planted at REPORT.lock must not have the run truncate
// and write its PID into the link's target.
func TestLockRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "changes.report.csv")
	if err := os.Symlink(target, report+".lock"); err != nil {
		t.Fatal(err)
	}
	l, err := acquireLock(report)
	if err == nil {
		l.release()
		t.Fatal("lock taken through a symbolic link")
	}
	if !strings.Contains(err.Error(), "symbolic link") || exitCodeOf(err) != exitUsage {
		t.Errorf("error %q (exit %d), want a refusal naming the symbolic link (exit %d)", err, exitCodeOf(err), exitUsage)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me\n" {
		t.Errorf("target now holds %q", b)
	}
}
