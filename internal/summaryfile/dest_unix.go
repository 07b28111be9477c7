//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package summaryfile

import (
	"io/fs"
	"os"
	"syscall"
)

// linkOfAnotherUser says whether a symbolic link belongs to neither this
// user nor root: in a shared directory, another user may have planted it.
func linkOfAnotherUser(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	return st.Uid != 0 && int(st.Uid) != os.Geteuid()
}
