//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package lock

import (
	"errors"
	"os"
	"syscall"
)

func openLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	// O_NOFOLLOW fails with ELOOP on a symbolic link (EMLINK on the BSDs).
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) {
		return nil, ErrSymlink
	}
	return f, err
}

// tryLock takes an exclusive flock without waiting; false when another
// open file holds it.
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// removeAndClose removes the lock file while still holding the lock, so a
// run that opened it in the meantime finds its inode orphaned (see
// Acquire) instead of sharing it with a third run.
func removeAndClose(path string, f *os.File) {
	os.Remove(path)
	f.Close()
}
