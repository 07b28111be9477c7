package lock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

func openLockFile(path string) (*os.File, error) {
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return nil, ErrSymlink
	}
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// lockOffsetHigh places the locked byte far past the PID, which a refused
// run must still be able to read (Windows locks are mandatory).
const lockOffsetHigh = 1 // 4 GiB

// tryLock takes an exclusive lock without waiting; false when another
// handle holds it.
func tryLock(f *os.File) (bool, error) {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

// removeAndClose closes first: Windows does not remove a file that is
// open. A run that opens it in between fails to remove it in turn, and
// the file left behind holds no lock.
func removeAndClose(path string, f *os.File) {
	f.Close()
	os.Remove(path)
}
