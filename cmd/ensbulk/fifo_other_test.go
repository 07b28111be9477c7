//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package main

import "testing"

// mkfifo: there are no named pipes in the file system here.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	t.Skip("no named pipes on this platform")
}
