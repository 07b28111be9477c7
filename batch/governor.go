package batch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// governor paces every request of a run: one shared pace, slowed down when
// the server says it is overloaded (429/503, Retry-After) and recovered
// gradually.
//
// The pace is kept as the time of the next free slot rather than in a
// rate.Limiter: a Limiter counts the debt of waiting reservations in
// requests, so raising its limit while workers wait lets a new reservation
// land on an old one's time (two requests at once). Against a server whose
// limit allows no burst that is a 429, a pause of the whole pool, a raise,
// and again: the run crawled at a twentieth of the server's limit.
//
// The rules, each one a promise of the README ("Faults and retries"):
//
//   - Slots on a grid, one interval apart, so that a timer firing a
//     little late costs no rate: the next slot is counted from the last
//     slot, not from when its request went. A worker may go late on its
//     slot by at most the slack, 5ms; so any second of sending holds the
//     slots of at most a second and a slack: the rate plus one request
//     below 200/s (the slack is less than an interval), at most 0.5% more
//     from 200/s (rate × 5ms), which leaves the other half of the 1% the
//     README allows for the network's own bunching on the way to the
//     server. The slack is in time, not in
//     intervals: timers on a loaded machine fire a few milliseconds late
//     whatever the rate, and a slack of half an interval (0.5ms at --rate
//     1000) restarted the pace so often that --rate 1000 achieved 727/s.
//   - No catch-up. A worker that wakes past its slot by more than the
//     slack (SIGSTOP, a laptop sleep, a starved machine) restarts the pace
//     from now, and every slot handed out before is taken again behind
//     it: time the process did not run is no credit.
//   - A pause moves every request not yet sent. A throttle (Retry-After,
//     or a halved pace) starts a new epoch: slots of the old one are void,
//     and their sleeping workers are woken to queue again from the end of
//     the pause at the new pace.
//   - The deadline. A pause that would end after the run's deadline stops
//     the run at once, resumably; a slot after it is never sent (its worker
//     stops the run when the deadline comes).
//
// The pace is AIMD-like: a throttle response halves the current rate (at
// most once per cooldown, so a wave of 429s from requests already in
// flight counts once) and pauses every worker until Retry-After; each
// second without a throttle raises the rate by 10% of the target (or of the
// rate throttling began at, when the run has no target) until the target is
// reached again.
type governor struct {
	target   float64 // requests/s asked for; 0 = no limit
	deadline time.Time
	now      func() time.Time
	// sleep waits for d, until wake is closed, or until ctx is done
	// (returning its error); tests replace it with their clock's.
	sleep  func(ctx context.Context, d time.Duration, wake <-chan struct{}) error
	timers sync.Pool // of *time.Timer, for sleepOrWake

	mu           sync.Mutex
	interval     time.Duration // between requests; 0 while unlimited
	next         time.Time     // the next free slot of this epoch
	epoch        uint64        // slots of another epoch are void
	wake         chan struct{} // closed (and replaced) when the epoch changes
	current      float64       // current pace; 0 = unlimited
	ceiling      float64       // with no target: pace at which throttling began
	pauseUntil   time.Time
	pauseAsked   time.Duration // the Retry-After that set pauseUntil
	lastThrottle time.Time
	lastRaise    time.Time
	slowSince    time.Time // when current dropped below target; zero when at target
	throttled    time.Duration

	// recent counts requests in the last second, to estimate the pace to
	// halve when an unlimited run is first throttled.
	window    time.Time
	inWindow  int
	lastCount int
}

const (
	throttleCooldown = 500 * time.Millisecond
	minRate          = 0.5
	// maxSlack bounds how late past its slot a worker may still go on it
	// (see slack): timers on a loaded machine are a little late; a
	// stopped process is seconds late.
	maxSlack = 5 * time.Millisecond
)

// MinRate and MaxRate bound a run's rate (requests per second), 0 aside.
// Below MinRate a run would send less than one request a minute (a value
// typed in the wrong unit); above MaxRate the interval between requests is
// too small to be kept.
const (
	MinRate = 1.0 / 60
	MaxRate = 100000
)

// RateProblem says what is wrong with a rate CheckRate refuses.
type RateProblem int

// Rate problems.
const (
	RateNotANumber RateProblem = iota + 1 // NaN or infinite
	RateNegative
	RateTooLow  // below MinRate
	RateTooHigh // above MaxRate
)

// String says what a rate with the problem should be instead.
func (p RateProblem) String() string {
	switch p {
	case RateNotANumber:
		return "want a number of requests per second (0 = no limit)"
	case RateNegative:
		return "want 0 (no limit) or more"
	case RateTooLow:
		return fmt.Sprintf("less than one request a minute; want 0 (no limit) or at least %.4f", MinRate)
	case RateTooHigh:
		return fmt.Sprintf("more than %d requests per second cannot be paced; use 0 for no limit", MaxRate)
	}
	return fmt.Sprintf("RateProblem(%d)", int(p))
}

// RateError is CheckRate's refusal of Rate.
type RateError struct {
	Rate    float64
	Problem RateProblem
}

func (e *RateError) Error() string { return fmt.Sprintf("rate %g: %s", e.Rate, e.Problem) }

// CheckRate refuses a rate the engine cannot keep as asked (a *RateError):
// NaN, infinite, negative, or outside [MinRate, MaxRate] (0, no limit, is
// accepted).
func CheckRate(r float64) error {
	var p RateProblem
	switch {
	case r == 0:
		return nil
	case math.IsNaN(r) || math.IsInf(r, 0):
		p = RateNotANumber
	case r < 0:
		p = RateNegative
	case r < MinRate:
		p = RateTooLow
	case r > MaxRate:
		p = RateTooHigh
	default:
		return nil
	}
	return &RateError{Rate: r, Problem: p}
}

// newGovernor paces at target requests/s (0 = no limit) on the clock now;
// deadline, when not zero, is when the run must have stopped.
func newGovernor(target float64, now func() time.Time, deadline time.Time) *governor {
	g := &governor{target: target, now: now, deadline: deadline, wake: make(chan struct{})}
	g.sleep = g.sleepOrWake
	g.setRate(target)
	return g
}

// sleepOrWake is the governor's real sleep. Its timers are reused: at a
// steady rate every request sleeps once, and a new timer each time was a
// tenth of the process's CPU at --rate 1000. (A stopped or fired timer is
// safe to Reset: since Go 1.23 neither leaves a stale value in its
// channel.)
func (g *governor) sleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	t, _ := g.timers.Get().(*time.Timer)
	if t == nil {
		t = time.NewTimer(d)
	} else {
		t.Reset(d)
	}
	defer func() {
		t.Stop()
		g.timers.Put(t)
	}()
	select {
	case <-t.C:
		return nil
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// slot is a time handed to one waiting worker, valid in its epoch only.
type slot struct {
	at    time.Time
	epoch uint64
	held  bool
}

// wait blocks until the next request may go, or ctx is done, or the run
// must stop for its deadline (a *StopError).
func (g *governor) wait(ctx context.Context) error {
	var s slot
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		g.mu.Lock()
		d, err := g.step(g.now(), &s)
		wake := g.wake
		g.mu.Unlock()
		if err != nil || d <= 0 {
			return err
		}
		if err := g.sleep(ctx, d, wake); err != nil {
			return err
		}
	}
}

// step is one look at the pace, at now, by the worker holding s (mu
// held): 0 when its request may go now, else how long to sleep before
// looking again, or a *StopError for the deadline.
func (g *governor) step(now time.Time, s *slot) (time.Duration, error) {
	if !g.deadline.IsZero() && g.pauseUntil.After(g.deadline) {
		return 0, &StopError{Kind: StopBudget, Reason: fmt.Sprintf(
			"the server asked to wait %s (Retry-After), longer than the %s left before the deadline",
			g.pauseAsked, max(g.deadline.Sub(now), 0).Round(time.Second))}
	}
	if s.held && s.epoch != g.epoch {
		s.held = false
	}
	if s.held && g.interval > 0 && now.Sub(s.at) > g.slack() {
		// The process did not run for a while: the slots handed out
		// before are all past, and going on them would send at once
		// what the pause did not.
		late := now.Sub(s.at)
		g.newEpoch()
		if late > g.interval {
			// A stall of a whole slot or more (a stopped process, a
			// laptop asleep): a request released just before it goes
			// out only now, so the new pace starts one interval later
			// rather than sending a second with it.
			g.next = now.Add(g.interval)
		}
		s.held = false
	}
	if !s.held {
		at := later(now, g.pauseUntil)
		if g.interval > 0 {
			at = later(at, g.next)
			g.next = at.Add(g.interval)
		}
		*s = slot{at: at, epoch: g.epoch, held: true}
	}
	when := s.at
	if when.After(now) {
		if !g.deadline.IsZero() && when.After(g.deadline) {
			if !now.Before(g.deadline) {
				return 0, &StopError{Kind: StopBudget, Reason: "deadline reached"}
			}
			return g.deadline.Sub(now), nil
		}
		return when.Sub(now), nil
	}
	s.held = false

	g.count(now)
	return 0, nil
}

// slack is how late past its slot a worker may still go on it: maxSlack,
// so that from 200/s a second holds at most 0.5% more, and below 200/s
// less than an interval, so that a second holds at most one more there.
func (g *governor) slack() time.Duration { return maxSlack }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// newEpoch voids every slot handed out and wakes their workers (mu held).
func (g *governor) newEpoch() {
	g.epoch++
	g.next = time.Time{}
	close(g.wake)
	g.wake = make(chan struct{})
}

// count records one request in the one-second window (mu held).
func (g *governor) count(now time.Time) {
	if now.Sub(g.window) >= time.Second {
		g.lastCount = g.inWindow
		g.inWindow = 0
		g.window = now
	}
	g.inWindow++
}

// throttle slows the pool after a 429 or 503: every request not yet sent
// waits for the end of Retry-After and goes at the new pace. It reports
// whether the pause is new or longer than the one under way.
func (g *governor) throttle(retryAfter time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	paused := g.pause(now, retryAfter)
	if slowed := g.slow(now); paused || slowed {
		g.newEpoch()
	}
	return paused
}

// pause holds every request until now+d (mu held); false when an earlier
// pause already lasts longer.
func (g *governor) pause(now time.Time, d time.Duration) bool {
	until := now.Add(d)
	if d <= 0 || !until.After(g.pauseUntil) {
		return false
	}
	g.pauseUntil, g.pauseAsked = until, d
	return true
}

// slow halves the pace (mu held); false within the cooldown of the last
// halving, so that a wave of throttles counts once.
func (g *governor) slow(now time.Time) bool {
	if !g.lastThrottle.IsZero() && now.Sub(g.lastThrottle) < throttleCooldown {
		return false
	}
	g.lastThrottle = now
	g.lastRaise = now
	cur := g.current
	if cur == 0 { // unlimited so far: start from the observed pace
		cur = float64(g.lastCount)
		// A throttle in the first milliseconds of a window still has a
		// pace to go by: the requests so far over at least 10ms (a floor
		// of 2/s here made a dead server take half a minute to open the
		// circuit of a --rate 0 run).
		el := max(now.Sub(g.window), 10*time.Millisecond)
		cur = max(cur, float64(g.inWindow)/el.Seconds(), 2)
		g.ceiling = cur
	}
	if g.slowSince.IsZero() {
		g.slowSince = now
	}
	g.setRate(max(cur/2, minRate))
	return true
}

// success lets the pace recover after a response that was not a throttle.
// Slots already handed out keep their (slower) times: a raise never
// brings a request closer to the one before it.
func (g *governor) success() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.slowSince.IsZero() {
		return
	}
	now := g.now()
	if now.Sub(g.lastRaise) < time.Second {
		return
	}
	g.lastRaise = now
	top := g.target
	if top == 0 {
		top = g.ceiling
	}
	next := g.current + top/10
	if next >= top {
		g.throttled += now.Sub(g.slowSince)
		g.slowSince = time.Time{}
		g.setRate(g.target)
		return
	}
	g.setRate(next)
}

// setRate applies a pace (mu held); 0 removes the limit.
func (g *governor) setRate(r float64) {
	g.current = r
	if r <= 0 {
		g.interval = 0
		return
	}
	g.interval = time.Duration(float64(time.Second) / r)
}

// throttledFor returns the total time spent below the target pace.
func (g *governor) throttledFor() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.throttled
	if !g.slowSince.IsZero() {
		d += g.now().Sub(g.slowSince)
	}
	return d
}

// stopOn stops the run when the governor refused a request for the run's
// deadline (err is then a *StopError); other errors are the run's own
// cancellation.
func (e *engine) stopOn(err error) {
	var se *StopError
	if errors.As(err, &se) {
		e.stop(se)
	}
}
