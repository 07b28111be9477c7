package simulator

import (
	"iter"
	"maps"
	"strconv"
	"time"
)

// Stats counts what the server has seen since New or ResetStats. Only
// /api/ requests count.
type Stats struct {
	// Requests is the number of API requests received.
	Requests int64 `json:"requests"`
	// ByCode counts answered envelopes by their (first) code.
	ByCode map[string]int64 `json:"by_code"`
	// ByHTTPStatus counts answers by HTTP status; resets and abandoned
	// hangs have none.
	ByHTTPStatus map[string]int64 `json:"by_http_status"`
	// ByFunction counts requests by API function ("unknown" for others).
	ByFunction map[string]int64 `json:"by_function"`
	// InFlight is the number of API requests being served now;
	// PeakConcurrency the highest it has been.
	InFlight        int64 `json:"in_flight"`
	PeakConcurrency int64 `json:"peak_concurrency"`
	// RateLimitViolations counts requests refused with 429 because the
	// token bucket was empty.
	RateLimitViolations int64 `json:"rate_limit_violations"`
	// Applied counts updates applied (204, and those whose answer a
	// fault then lost or truncated); Validated counts 201 answers.
	Applied   int64 `json:"applied"`
	Validated int64 `json:"validated"`
	// Faults counts injected faults by kind (see the Fault constants).
	Faults map[string]int64 `json:"faults"`
}

func newStats() Stats {
	return Stats{
		ByCode:       map[string]int64{},
		ByHTTPStatus: map[string]int64{},
		ByFunction:   map[string]int64{},
		Faults:       map[string]int64{},
	}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.smu.Lock()
	defer s.smu.Unlock()
	out := s.stats
	out.ByCode = maps.Clone(s.stats.ByCode)
	out.ByHTTPStatus = maps.Clone(s.stats.ByHTTPStatus)
	out.ByFunction = maps.Clone(s.stats.ByFunction)
	out.Faults = maps.Clone(s.stats.Faults)
	return out
}

// ResetStats zeroes the counters; the peak restarts from the requests in
// flight now. The audit log and the mailboxes are kept.
func (s *Server) ResetStats() {
	s.smu.Lock()
	defer s.smu.Unlock()
	inflight := s.stats.InFlight
	s.stats = newStats()
	s.stats.InFlight = inflight
	s.stats.PeakConcurrency = inflight
}

// enter counts a request in and returns how many are in flight with it.
func (s *Server) enter(function string) int64 {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.stats.Requests++
	s.stats.ByFunction[function]++
	s.stats.InFlight++
	s.stats.PeakConcurrency = max(s.stats.PeakConcurrency, s.stats.InFlight)
	return s.stats.InFlight
}

func (s *Server) leave() {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.stats.InFlight--
}

func (s *Server) countFault(kind string) {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.stats.Faults[kind]++
	if kind == FaultRateLimit {
		s.stats.RateLimitViolations++
	}
}

func (s *Server) countStatus(status int) {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.stats.ByHTTPStatus[strconv.Itoa(status)]++
}

func (s *Server) countCode(code string) {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.stats.ByCode[code]++
}

// countOutcome counts an update that was applied or validated, whether or
// not its answer reaches the client.
func (s *Server) countOutcome(applied bool) {
	s.smu.Lock()
	defer s.smu.Unlock()
	if applied {
		s.stats.Applied++
	} else {
		s.stats.Validated++
	}
}

// AuditEntry records one applied update.
type AuditEntry struct {
	// Seq counts applied updates from 1, in the order they were applied.
	Seq      int       `json:"seq"`
	Time     time.Time `json:"time"`
	User     string    `json:"user"`
	Customer int       `json:"customer"`
	Mailbox  string    `json:"mailbox"`
	// Params are the parameters the update sent, without mailbox and
	// customer; a non-empty pin is recorded as "***", never its value.
	Params map[string]string `json:"params"`
	// Lost is set when a fault dropped the answer after applying.
	Lost bool `json:"lost,omitempty"`
}

// Audit returns the applied updates in order (the most recent
// Config.AuditLimit of them).
func (s *Server) Audit() []AuditEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AuditEntry, 0, s.audit.len())
	for e := range s.audit.all() {
		e.Params = maps.Clone(e.Params)
		out = append(out, e)
	}
	return out
}

// auditRing keeps the most recent entries in a fixed slice: once full,
// an entry replaces the oldest in place, so the cost of logging an update
// does not grow with the limit.
type auditRing struct {
	buf  []AuditEntry
	next int // where the next entry goes once buf is full
}

func (r *auditRing) add(e AuditEntry, limit int) {
	if len(r.buf) < limit {
		r.buf = append(r.buf, e)
		return
	}
	r.buf[r.next] = e
	r.next = (r.next + 1) % len(r.buf)
}

func (r *auditRing) len() int { return len(r.buf) }

// all yields the entries oldest first.
func (r *auditRing) all() iter.Seq[AuditEntry] {
	return func(yield func(AuditEntry) bool) {
		for i := range r.buf {
			if !yield(r.buf[(r.next+i)%len(r.buf)]) {
				return
			}
		}
	}
}
