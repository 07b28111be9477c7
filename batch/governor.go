package batch

import (
	"context"
	"sync"
	"time"
)

// governor paces every request of a run: one shared pace (burst 1, so
// never a burst above the rate), slowed down when the server says it is
// overloaded (429/503, Retry-After) and recovered gradually.
//
// The pace is kept as the time of the next free slot rather than in a
// rate.Limiter: a Limiter counts the debt of waiting reservations in
// requests, so raising its limit while workers wait lets a new reservation
// land on an old one's time (two requests at once). Against a server whose
// limit allows no burst that is a 429, a pause of the whole pool, a raise,
// and again: the run crawled at a twentieth of the server's limit. Slots
// handed out never move and are never closer than the pace in force when
// they were taken.
//
// The pace is AIMD-like: a throttle response halves the current rate (at
// most once per cooldown, so a wave of 429s from requests already in
// flight counts once) and pauses every worker until Retry-After; each
// second without a throttle raises the rate by 10% of the target (or of the
// rate throttling began at, when the run has no target) until the target is
// reached again.
type governor struct {
	target float64 // requests/s asked for; 0 = no limit
	now    func() time.Time

	mu           sync.Mutex
	interval     time.Duration // between slots; 0 while unlimited
	next         time.Time     // the next free slot
	current      float64       // current pace; 0 = unlimited
	ceiling      float64       // with no target: pace at which throttling began
	pauseUntil   time.Time
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
)

func newGovernor(target float64, now func() time.Time) *governor {
	g := &governor{target: target, now: now}
	g.setRate(target)
	return g
}

// wait blocks until the next request may go, or ctx is done.
func (g *governor) wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		pause := g.pauseUntil.Sub(g.now())
		g.mu.Unlock()
		if pause <= 0 {
			break
		}
		if err := Sleep(ctx, pause); err != nil {
			return err
		}
	}
	g.mu.Lock()
	g.count()
	var d time.Duration
	if g.interval > 0 {
		// Real time, as the timers: g.now may be a test's clock.
		now := time.Now()
		slot := g.next
		if slot.Before(now) {
			slot = now
		}
		g.next = slot.Add(g.interval)
		d = slot.Sub(now)
	}
	g.mu.Unlock()
	return Sleep(ctx, d)
}

// count records one request in the one-second window (mu held).
func (g *governor) count() {
	now := g.now()
	if now.Sub(g.window) >= time.Second {
		g.lastCount = g.inWindow
		g.inWindow = 0
		g.window = now
	}
	g.inWindow++
}

// throttle slows the pool after a 429 or 503.
func (g *governor) throttle(retryAfter time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if retryAfter > 0 {
		if until := now.Add(retryAfter); until.After(g.pauseUntil) {
			g.pauseUntil = until
		}
	}
	if !g.lastThrottle.IsZero() && now.Sub(g.lastThrottle) < throttleCooldown {
		return
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
	next := max(cur/2, minRate)
	if g.slowSince.IsZero() {
		g.slowSince = now
	}
	g.setRate(next)
}

// success lets the pace recover after a response that was not a throttle.
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
