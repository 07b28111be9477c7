package batch

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// circuit holds the abort rules that look across rows: repeated 402
// answers, 403 refusals by customer, and consecutive transport failures
// across the pool (429/503 counted by wave). Its methods return the
// *StopError that ends the run, nil while it goes on; the engine stops the
// run with it.
type circuit struct {
	forbidLimit int // Options.ForbiddenAbortAfter
	failLimit   int // Options.CircuitThreshold
	// customers is how many distinct customers the rows to send name, 0
	// when unknown (too many to keep, or some rows name none).
	customers int

	mu          sync.Mutex
	forbidden   int            // rows in a row refused with 402
	failures    int            // transport failures since the last answer
	throttleSeq int64          // requests sent when the last 429/503 came back
	refused     map[string]int // customer -> the row whose 403 refused it
	accepted    bool           // some row got an answer other than 402/403
}

// answered records an answer from the server, which closes the transport
// circuit; forbidden marks a 402. The role is global for the user, so a
// repeat means every row will fail.
func (c *circuit) answered(forbidden bool) *StopError {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = 0
	if !forbidden {
		c.forbidden = 0
		c.accepted = true
		return nil
	}
	c.forbidden++
	if c.forbidden >= c.forbidLimit {
		return &StopError{Kind: StopAborted, Reason: fmt.Sprintf("%d rows in a row refused with 402: the user's role forbids mailbox updates", c.forbidden)}
	}
	return nil
}

// planRefused records a 403 for row, whose customer column is customer. A
// rate plan refuses per customer: that customer's remaining rows are not
// sent (see refusal). A row that names no customer is the login's own
// customer, whose rate plan is the user's privileges: it refuses every
// customer the user reaches, so the run stops. The run stops too when
// every customer it touches has refused, or forbidLimit customers have
// and no row was accepted.
func (c *circuit) planRefused(customer string, row int) *StopError {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = 0
	if customer == "" {
		return &StopError{Kind: StopAborted, Reason: fmt.Sprintf("row %d, which names no customer, was refused with 403: "+
			"the rate plan of the login's own customer forbids mailbox updates, for every customer it reaches", row)}
	}
	if c.refused == nil {
		c.refused = map[string]int{}
	}
	if _, seen := c.refused[customer]; !seen {
		c.refused[customer] = row
	}
	n := len(c.refused)
	if n == c.customers || (!c.accepted && n >= c.forbidLimit) {
		names := slices.Sorted(maps.Keys(c.refused))
		if len(names) > 5 {
			names = append(names[:5], "...")
		}
		return &StopError{Kind: StopAborted, Reason: fmt.Sprintf("%d customers refused with 403 (%s) and none accepted an update: "+
			"the rate plans forbid mailbox updates for every customer this run touches", n, strings.Join(names, ", "))}
	}
	return nil
}

// refusal says why a row of customer is not sent, "" when it may be: its
// customer's rate plan refused an earlier row.
func (c *circuit) refusal(customer string) string {
	if customer == "" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	row, ok := c.refused[customer]
	if !ok {
		return ""
	}
	return fmt.Sprintf("not sent: the rate plan of customer %s refuses mailbox updates (403 on row %d)", customer, row)
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
