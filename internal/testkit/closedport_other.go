//go:build !unix

package testkit

import (
	"net"
	"testing"
)

// ClosedPort returns an address of 127.0.0.1 on which nothing listens:
// a port freed at once, which a server of a test running beside it may
// take (on unix systems it stays bound, see closedport_unix.go).
func ClosedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
