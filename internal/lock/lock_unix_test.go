//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package lock

import (
	"errors"
	"os"
	"path/filepath"
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
	path := filepath.Join(dir, "changes.report.csv.lock")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(path)
	if err == nil {
		l.Release()
		t.Fatal("lock taken through a symbolic link")
	}
	if !errors.Is(err, ErrSymlink) {
		t.Errorf("error %q, want ErrSymlink", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me\n" {
		t.Errorf("target now holds %q", b)
	}
}
