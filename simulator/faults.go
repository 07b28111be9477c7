package simulator

import (
	"context"
	"errors"
	"fmt"
	"html"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Faults are the misbehaviours injected into /api/ requests (never into
// /__stats, /__state or /__audit). The zero value injects none. Every
// request draws the same random numbers from the server's seeded source
// whatever the settings, so a given seed and request order always give the
// same faults.
type Faults struct {
	// Latency delays every API answer; Jitter adds a uniformly random
	// extra in [0, Jitter).
	Latency time.Duration
	Jitter  time.Duration

	// The rates are fractions of API requests in [0, 1]. One draw per
	// request picks at most one of these faults, so their sum must be at
	// most 1.

	// ErrorRate answers HTTP 500, 502 or 503 with an HTML page, as a
	// broken backend or proxy does; nothing is applied.
	ErrorRate float64
	// ErrorCodes are the statuses ErrorRate picks from; nil means 500,
	// 502 and 503.
	ErrorCodes []int
	// EchoBody makes error pages quote the request body, credentials
	// included, as a careless server's debug page does: for testing that
	// clients never repeat a password from a response.
	EchoBody bool
	// ResetRate resets the connection before anything is done.
	ResetRate float64
	// HangRate holds a request until the client gives up, or HangFor has
	// passed (then it is answered normally), or Close is called.
	HangRate float64
	HangFor  time.Duration
	// TruncateRate answers normally (an update is applied) but cuts the
	// JSON body in half.
	TruncateRate float64
	// LostRate applies an update (not a validation), then resets the
	// connection: the change is made but the client never hears of it.
	// Other requests drawn for it are answered normally.
	LostRate float64
	// IgnoreRate answers an update (not a validation) 204 OK but changes
	// nothing, as a server that accepts a value and keeps another does:
	// only a read after the update (ensbulk's --verify, a canary) sees
	// it. Other requests drawn for it are answered normally.
	IgnoreRate float64

	// RateLimit is a token bucket in requests per second over all API
	// requests; a request that finds the bucket empty gets 429 with
	// Retry-After and counts as a rate-limit violation. 0 means no limit.
	RateLimit float64
	// RateBurst is the bucket size; 0 means 1 (no bursts at all: a client
	// pacing exactly at RateLimit may still be refused now and then by
	// network jitter, as with a real server).
	RateBurst int
	// RetryAfter is sent with 429 and with the 503 of MaxConcurrent,
	// rounded up to whole seconds; 0 means 1s.
	RetryAfter time.Duration
	// MaxConcurrent answers 503 with Retry-After to a request that finds
	// this many already in flight; 0 means no limit.
	MaxConcurrent int

	// RedirectTo, when set, answers every API request with a 308
	// redirect to this base URL plus the request's path, as an
	// http-to-https redirect would.
	RedirectTo string
}

// Fault kinds, as counted in Stats.Faults.
const (
	FaultLatency   = "latency"
	FaultError     = "error"
	FaultReset     = "reset"
	FaultHang      = "hang"
	FaultTruncate  = "truncate"
	FaultLost      = "lost"
	FaultIgnore    = "ignore"
	FaultRateLimit = "rate_limit"
	FaultOverload  = "overload"
	FaultRedirect  = "redirect"
)

var defaultErrorCodes = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// validate checks the settings: rates, durations, limits, error codes
// and the redirect target, in that order.
func (f *Faults) validate() error {
	for _, check := range []func() error{f.validateRates, f.validateDurations, f.validateLimits, f.validateErrorCodes, f.validateRedirect} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateRates checks that each rate is in [0, 1] and that they add up
// to at most 1 (one draw picks at most one fault).
func (f *Faults) validateRates() error {
	var sum float64
	for _, r := range []struct {
		name string
		v    float64
	}{{"ErrorRate", f.ErrorRate}, {"ResetRate", f.ResetRate}, {"HangRate", f.HangRate}, {"TruncateRate", f.TruncateRate}, {"LostRate", f.LostRate}, {"IgnoreRate", f.IgnoreRate}} {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			return fmt.Errorf("simulator: %s %v is not in [0, 1]", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("simulator: fault rates add up to %v; at most one fault hits a request, so they must add up to at most 1", sum)
	}
	return nil
}

func (f *Faults) validateDurations() error {
	if f.Latency < 0 || f.Jitter < 0 || f.HangFor < 0 || f.RetryAfter < 0 {
		return errors.New("simulator: fault durations must not be negative")
	}
	return nil
}

func (f *Faults) validateLimits() error {
	if math.IsNaN(f.RateLimit) || math.IsInf(f.RateLimit, 0) || f.RateLimit < 0 || f.RateBurst < 0 || f.MaxConcurrent < 0 {
		return errors.New("simulator: RateLimit, RateBurst and MaxConcurrent must not be negative")
	}
	return nil
}

func (f *Faults) validateErrorCodes() error {
	for _, c := range f.ErrorCodes {
		if c < 500 || c > 599 {
			return fmt.Errorf("simulator: ErrorCodes: %d is not a 5xx status", c)
		}
	}
	return nil
}

func (f *Faults) validateRedirect() error {
	if f.RedirectTo == "" {
		return nil
	}
	u, err := url.Parse(f.RedirectTo)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("simulator: RedirectTo %q is not an absolute URL", f.RedirectTo)
	}
	return nil
}

// SetFaults replaces the faults injected from now on. Requests already
// past their fault draw are not affected. The rate-limit bucket starts
// full again.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	f.ErrorCodes = append([]int(nil), f.ErrorCodes...)
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = f
	s.tokens = float64(max(f.RateBurst, 1))
	s.last = time.Now()
	return nil
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	f := s.faults
	f.ErrorCodes = append([]int(nil), f.ErrorCodes...)
	return f
}

// decision is what the faults do to one request.
type decision struct {
	f       Faults
	kind    string // "" or one of FaultError, FaultReset, FaultHang, FaultTruncate, FaultLost, FaultIgnore
	status  int    // for FaultError
	delay   time.Duration
	limited bool // the token bucket was empty
}

func (s *Server) decide(now time.Time) decision {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	f := s.faults
	// Always three draws, whatever the settings: the sequence must not
	// shift when a fault is switched on or off.
	roll, jit, pick := s.rng.float(), s.rng.float(), s.rng.next()
	d := decision{f: f, delay: f.Latency}
	if f.Jitter > 0 {
		d.delay += time.Duration(jit * float64(f.Jitter))
	}
	x := roll
	for _, c := range []struct {
		rate float64
		kind string
	}{{f.ErrorRate, FaultError}, {f.ResetRate, FaultReset}, {f.HangRate, FaultHang}, {f.TruncateRate, FaultTruncate}, {f.LostRate, FaultLost}, {f.IgnoreRate, FaultIgnore}} {
		if x < c.rate {
			d.kind = c.kind
			break
		}
		x -= c.rate
	}
	if d.kind == FaultError {
		codes := f.ErrorCodes
		if len(codes) == 0 {
			codes = defaultErrorCodes
		}
		d.status = codes[pick%uint64(len(codes))]
	}
	if f.RateLimit > 0 {
		burst := float64(max(f.RateBurst, 1))
		s.tokens = min(burst, s.tokens+now.Sub(s.last).Seconds()*f.RateLimit)
		s.last = now
		if s.tokens >= 1 {
			s.tokens--
		} else {
			d.limited = true
		}
	}
	return d
}

// retryAfter is the Retry-After header value: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	if d <= 0 {
		d = time.Second
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// errorPage writes an HTML error page, optionally quoting the request as
// a debug page would.
func (s *Server) errorPage(w http.ResponseWriter, status int, headline, detail string, echo []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	s.countStatus(status)
	text := http.StatusText(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n<body>\n<h1>%s</h1>\n<p>%s</p>\n",
		status, html.EscapeString(text), html.EscapeString(headline), html.EscapeString(detail))
	if echo != nil {
		// Deliberately raw: the fault plays a server that leaks the request.
		fmt.Fprintf(w, "<h2>Request</h2>\n<pre>%s</pre>\n", echo)
	}
	fmt.Fprint(w, "<hr><address>enswitch-sim</address>\n</body></html>\n")
}

// resetConn drops the connection without an answer: a TCP reset on
// HTTP/1, a stream reset on HTTP/2.
func resetConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			raw := conn
			if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
				raw = nc.NetConn()
			}
			if tc, ok := raw.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST rather than FIN
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// wait sleeps for d (d <= 0: until ctx ends or Close) and reports whether
// the request should go on: false when its client has gone.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	var tc <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-tc:
		return true
	case <-s.closing:
		return true
	case <-ctx.Done():
		return false
	}
}
