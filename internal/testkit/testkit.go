// Package testkit holds what the tests of the command's packages share:
// a buffer the client's goroutines may write to while a test reads it,
// and a simulator served on 127.0.0.1 for the length of a test.
package testkit

import (
	"bytes"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// Buffer is a bytes.Buffer safe for concurrent Write and String.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Serve serves sim on 127.0.0.1 until the test ends and returns its URL.
func Serve(t testing.TB, sim *simulator.Server) string {
	t.Helper()
	ts := httptest.NewServer(sim)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		sim.Close()
	})
	return ts.URL
}
