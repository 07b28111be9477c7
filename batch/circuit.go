package batch

import (
	"fmt"
	"sync"
)

// circuit holds the abort rules that look across rows: repeated 402/403
// answers, and consecutive transport failures across the pool (429/503
// counted by wave). Its methods return the *StopError that ends the run,
// nil while it goes on; the engine stops the run with it.
type circuit struct {
	forbidLimit int // Options.ForbiddenAbortAfter
	failLimit   int // Options.CircuitThreshold

	mu          sync.Mutex
	forbidden   int   // rows in a row refused with 402/403
	failures    int   // transport failures since the last answer
	throttleSeq int64 // requests sent when the last 429/503 came back
}

// answered records an answer from the server, which closes the transport
// circuit; forbidden marks a 402/403. Role and rate plan are global for
// the user, so a repeat means every row will fail.
func (c *circuit) answered(forbidden bool) *StopError {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = 0
	if !forbidden {
		c.forbidden = 0
		return nil
	}
	c.forbidden++
	if c.forbidden >= c.forbidLimit {
		return &StopError{Kind: StopAborted, Reason: fmt.Sprintf("%d rows in a row refused with 402/403: the user's role or rate plan forbids mailbox updates", c.forbidden)}
	}
	return nil
}

// transportFailed counts a transport failure; non-nil when the circuit
// opens.
func (c *circuit) transportFailed() *StopError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failedLocked()
}

func (c *circuit) failedLocked() *StopError {
	c.failures++
	if c.failures >= c.failLimit {
		return &StopError{Kind: StopAborted, Reason: fmt.Sprintf("circuit open: %d consecutive transport failures", c.failures)}
	}
	return nil
}

// throttled counts a 429/503 toward the circuit like any transport
// failure, unless the request went out before the previous throttle
// answer came back: the answers to requests already in flight are one
// wave, one piece of evidence (64 workers against a rate limit must not
// open the circuit at the first wave), while a server that answers
// nothing but 503 (a maintenance page) still opens it. seq is the
// request's number, sent the number of requests sent so far; non-nil when
// the circuit opens.
func (c *circuit) throttled(seq, sent int64) *StopError {
	c.mu.Lock()
	defer c.mu.Unlock()
	wave := seq <= c.throttleSeq
	c.throttleSeq = sent
	if wave {
		return nil
	}
	return c.failedLocked()
}

// abortFor returns the stop that a fault no retry can fix forces on the
// whole run (401, a fatal transport fault), nil for a fault of the row
// alone.
func abortFor(be *Error) *StopError {
	switch be.Kind {
	case KindUnauthorized:
		return &StopError{Kind: StopAborted, Reason: fmt.Sprintf("authentication refused (%s %s)", be.Code, be.Message)}
	case KindFatal:
		return &StopError{Kind: StopAborted, Reason: be.Error()}
	}
	return nil
}
