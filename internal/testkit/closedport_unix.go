//go:build unix

package testkit

import (
	"fmt"
	"syscall"
	"testing"
)

// ClosedPort returns an address of 127.0.0.1 on which nothing listens
// and nothing will until the test ends: a socket is bound there and never
// listens, so a connection is refused and the port cannot be given to a
// server of a test running beside it (a port freed at once once was).
func ClosedPort(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	in, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("bound to %T", sa)
	}
	return fmt.Sprintf("127.0.0.1:%d", in.Port)
}
