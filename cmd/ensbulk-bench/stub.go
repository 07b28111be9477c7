package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// stubServer answers mailboxes/update like a server that accepts every
// row (201 to a validation, 204 to an update), and mailboxes/get with the
// same values for every mailbox (the one asked for, its PIN not shown),
// and keeps nothing: for runs
// of millions of rows, whose mailboxes would not fit in the simulator
// (it holds every mailbox, about a kilobyte each), and where only the
// client's memory and timing are measured.
type stubServer struct {
	url                 string
	srv                 *http.Server
	validated, applied  atomic.Int64
	read                atomic.Int64
	requests            atomic.Int64
	first, last         atomic.Int64 // UnixNano of the first and last API request
	validBody, doneBody []byte
}

func startStub() (*stubServer, error) { return startStubAt("127.0.0.1:0") }

// startStubAt starts the stub on addr (host:port).
func startStubAt(addr string) (*stubServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &stubServer{
		url:       "http://" + ln.Addr().String(),
		validBody: []byte(`{"responses":[{"code":"201","key":"","message":"Input validated"}]}`),
		doneBody:  []byte(`{"responses":[{"code":"204","key":"","message":"OK"}]}`),
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *stubServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		http.NotFound(w, r)
		return
	}
	now := time.Now().UnixNano()
	s.first.CompareAndSwap(0, now)
	s.last.Store(now)
	s.requests.Add(1)
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	fn := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(fn, "/mailboxes/get"):
		s.read.Add(1)
		b, _ := json.Marshal(map[string]any{
			"responses": []map[string]string{{"code": "200", "key": "", "message": "OK"}},
			"data": map[string]string{"mailbox": r.Form.Get("mailbox"), "customer": r.Form.Get("customer"),
				"description": "before", "envelope": "0", "notify_email": "owner", "pager": "", "timezone": "Europe/London"},
		})
		_, _ = w.Write(b)
	case !strings.HasSuffix(fn, "/mailboxes/update"):
		_, _ = w.Write([]byte(`{"responses":[{"code":"200","key":"","message":"OK"}],"data":{}}`))
	case r.Form.Get("validation") == "1":
		s.validated.Add(1)
		_, _ = w.Write(s.validBody)
	default:
		s.applied.Add(1)
		_, _ = w.Write(s.doneBody)
	}
}

// reset forgets what was counted, for the next measurement against the
// same server.
func (s *stubServer) reset() {
	for _, c := range []*atomic.Int64{&s.validated, &s.applied, &s.read, &s.requests, &s.first, &s.last} {
		c.Store(0)
	}
}

// check says what differs from validated, read and applied requests.
func (s *stubServer) check(validated, read, applied int) error {
	v, r, a := s.validated.Load(), s.read.Load(), s.applied.Load()
	if v != int64(validated) || r != int64(read) || a != int64(applied) {
		return fmt.Errorf("the stub saw %d validated, %d read, %d applied; want %d, %d, %d", v, r, a, validated, read, applied)
	}
	return nil
}

// span returns when the first and the last API request arrived.
func (s *stubServer) span() (first, last time.Time) {
	return time.Unix(0, s.first.Load()), time.Unix(0, s.last.Load())
}

func (s *stubServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}
