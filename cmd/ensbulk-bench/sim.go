package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/simulator"
)

// benchWorld is a simulator world in which every row that
// reader.WriteSyntheticCSV writes exists: row i is mailbox 100000+i of
// customer 1+i%10.
func benchWorld(rows int) *simulator.State {
	idx := make([]int, rows)
	for i := range idx {
		idx[i] = i
	}
	return benchWorldOf(idx)
}

// benchWorldOf is a world that holds only the synthetic rows idx (0-based):
// a resume of a million-row report touches a thousand mailboxes. The demo
// world has customers 1 and 10 only of those, so 2..9 are added under the
// operator (the admin user reaches them all), and the generated mailboxes
// are renumbered to match.
func benchWorldOf(idx []int) *simulator.State {
	st := simulator.Generate(len(idx), 1)
	for id := 2; id <= 9; id++ {
		st.Customers = append(st.Customers, simulator.Customer{
			ID: id, Name: fmt.Sprintf("Bench Customer %d", id), Parent: simulator.CustomerOperator, RatePlan: "business",
		})
	}
	for k, i := range idx {
		m := st.Mailboxes[k] // Generate puts the n generated mailboxes first
		m["mailbox"] = strconv.Itoa(100000 + i)
		m["customer"] = strconv.Itoa(1 + i%10)
	}
	return st
}

// Demo credentials of the simulator's administrator.
const (
	simUser     = "admin"
	simPassword = "admin-demo-pass"
)

// simServer is a simulator served over HTTP on 127.0.0.1.
type simServer struct {
	*simulator.Server
	url string
	srv *http.Server
	rec *arrivals
	// first and last API arrival (UnixNano): how much of a process's
	// life went into sending requests.
	first, last atomic.Int64
	requests    atomic.Int64 // API requests, of any tool
}

// startSim serves a fresh simulator for rows synthetic rows. rec, when not
// nil, timestamps every API request as it arrives.
func startSim(rows int, faults simulator.Faults, rec *arrivals) (*simServer, error) {
	return startSimWorld(benchWorld(rows), rows, faults, rec)
}

// startSimWorld serves st; updates is how many updates the runs against
// it will make.
func startSimWorld(st *simulator.State, updates int, faults simulator.Faults, rec *arrivals) (*simServer, error) {
	sim, err := simulator.New(simulator.Config{
		State:  st,
		Faults: faults,
		// Above the number of updates, so the audit log never shifts
		// (that would be a cost of the simulator, not of the client).
		AuditLimit: updates + 16,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &simServer{Server: sim, url: "http://" + ln.Addr().String(), rec: rec}
	var h http.Handler = sim
	if rec != nil {
		h = rec.wrap(sim)
	}
	s.srv = &http.Server{
		Handler:           s.spanOf(h),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0), // resets at shutdown are expected
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *simServer) spanOf(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			now := time.Now().UnixNano()
			s.first.CompareAndSwap(0, now)
			s.last.Store(now)
			s.requests.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

// span returns when the first and the last API request arrived.
func (s *simServer) span() (first, last time.Time) {
	return time.Unix(0, s.first.Load()), time.Unix(0, s.last.Load())
}

func (s *simServer) close() {
	s.Server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}

// checkAll verifies that every row was validated and applied exactly once
// and nothing else happened: a measurement of a run that did something
// else would measure the wrong thing.
func (s *simServer) checkAll(rows int) error {
	st := s.Stats()
	reqs := st.Requests - st.ByFunction["user/login"]
	gets := st.ByFunction["mailboxes/get"] // a read before each update, or none
	if st.Validated != int64(rows) || st.Applied != int64(rows) || (gets != 0 && gets != int64(rows)) || reqs != int64(2*rows)+gets {
		return fmt.Errorf("simulator saw %d requests besides logins, %d validated, %d read, %d applied; want %d, %d, %d or 0, %d (codes %v, HTTP %v, faults %v)",
			reqs, st.Validated, gets, st.Applied, 2*rows+int(gets), rows, rows, rows, st.ByCode, st.ByHTTPStatus, st.Faults)
	}
	return nil
}

// arrivals records when API requests reach the server, for measuring a
// rate where it matters: at the server. Bounded: past its capacity, later
// arrivals are counted but not kept.
type arrivals struct {
	mu      sync.Mutex
	at      []time.Time
	dropped int
}

func newArrivals(capacity int) *arrivals {
	return &arrivals{at: make([]time.Time, 0, capacity)}
}

func (a *arrivals) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			now := time.Now()
			a.mu.Lock()
			if len(a.at) < cap(a.at) {
				a.at = append(a.at, now)
			} else {
				a.dropped++
			}
			a.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// times returns the arrivals in order (handlers may append slightly out of
// order; sort to be safe).
func (a *arrivals) times() ([]time.Time, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := append([]time.Time(nil), a.at...)
	sortTimes(out)
	return out, a.dropped
}

// writeSynthetic writes a synthetic CSV of rows rows into dir.
func writeSynthetic(dir string, rows int) (string, error) {
	path := fmt.Sprintf("%s/synthetic-%d.csv", dir, rows)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := reader.WriteSyntheticCSV(f, rows); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
