package batch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// paceSim drives a governor with workers on a virtual clock, as the engine
// does with real ones: each worker waits on the pace, sends (taking
// service), hands the answer to the governor, and waits again. Nothing
// sleeps: the clock jumps from one event to the next.
type paceSim struct {
	t       *testing.T
	g       *governor
	now     time.Time
	service time.Duration
	late    func() time.Duration // how late a timer fires; nil = on time
	// answer says what the server answers a request sent at sent: a
	// Retry-After (throttled) or nothing.
	answer  func(sent time.Time) (retryAfter time.Duration, throttled bool)
	events  []paceEvent // at given times, in order
	grants  []time.Time
	stopped error
}

type paceEvent struct {
	at time.Duration // from the start
	do func(s *paceSim)
}

type paceWorker struct {
	s       slot
	sending bool
	at      time.Time     // when it next acts
	wake    chan struct{} // the epoch's channel it sleeps on
}

var epoch0 = time.Unix(1_000_000, 0)

func newPaceSim(t *testing.T, rate float64, deadline time.Duration) *paceSim {
	s := &paceSim{t: t, now: epoch0, service: 10 * time.Millisecond}
	var dl time.Time
	if deadline > 0 {
		dl = epoch0.Add(deadline)
	}
	s.g = newGovernor(rate, func() time.Time { return s.now }, dl)
	s.g.sleep = func(context.Context, time.Duration, <-chan struct{}) error {
		t.Fatal("the simulated governor slept for real")
		return nil
	}
	return s
}

// run drives workers until the clock passes end or the governor stops
// the run.
func (s *paceSim) run(workers int, end time.Duration) {
	ws := make([]*paceWorker, workers)
	for i := range ws {
		ws[i] = &paceWorker{at: s.now}
	}
	for {
		// The next thing to happen: an event, or a worker acting (a
		// sleeper acts at once when its epoch's channel was closed).
		next, w := time.Time{}, (*paceWorker)(nil)
		for _, x := range ws {
			at := x.at
			if !x.sending && x.wake != nil && closed(x.wake) {
				at = s.now
			}
			if w == nil || at.Before(next) {
				next, w = at, x
			}
		}
		if len(s.events) > 0 && !epoch0.Add(s.events[0].at).After(next) {
			ev := s.events[0]
			s.events = s.events[1:]
			s.now = later(s.now, epoch0.Add(ev.at))
			ev.do(s)
			continue
		}
		s.now = later(s.now, next)
		if s.now.Sub(epoch0) > end {
			return
		}
		if w.sending {
			w.sending = false
			if s.answer != nil {
				if ra, th := s.answer(w.at.Add(-s.service)); th {
					s.g.throttle(ra)
				} else {
					s.g.success()
				}
			}
		}
		s.g.mu.Lock()
		d, err := s.g.step(s.now, &w.s)
		w.wake = s.g.wake
		s.g.mu.Unlock()
		if err != nil {
			s.stopped = err
			return
		}
		if d == 0 {
			s.grants = append(s.grants, s.now)
			w.sending, w.at = true, s.now.Add(s.service)
			continue
		}
		w.at = s.now.Add(d)
		if s.late != nil {
			w.at = w.at.Add(s.late())
		}
	}
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// busiest is the most requests in any closed window of length w, and
// where it starts.
func busiest(times []time.Time, w time.Duration) (n int, from time.Time) {
	ts := append([]time.Time(nil), times...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	j := 0
	for i := range ts {
		for ts[i].Sub(ts[j]) > w {
			j++
		}
		if i-j+1 > n {
			n, from = i-j+1, ts[j]
		}
	}
	return n, from
}

func (s *paceSim) checkWindows(rate float64) {
	s.t.Helper()
	limit := int(math.Floor(rate)) + 1
	if n, from := busiest(s.grants, time.Second); n > limit {
		s.t.Errorf("%d requests in the second from %s, want at most the rate plus one (%d)", n, from.Sub(epoch0), limit)
	}
}

// Timers that fire late (a loaded machine) must not let two requests go
// closer than the pace: no second holds more than the rate plus one.
func TestGovernorPaceNeverBursts(t *testing.T) {
	for _, rate := range []float64{5, 50, 0.5} {
		s := newPaceSim(t, rate, 0)
		rng := rand.New(rand.NewPCG(1, uint64(rate*10)))
		s.late = func() time.Duration { // mostly a little late, now and then a lot
			if rng.IntN(20) == 0 {
				return time.Duration(rng.Int64N(int64(150 * time.Millisecond)))
			}
			return time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
		}
		s.run(64, 20*time.Second)
		s.checkWindows(rate)
		if want := int(rate * 20 * 0.9); len(s.grants) < want {
			t.Errorf("rate %g: %d requests in 20s, want at least %d (the pace must still be kept)", rate, len(s.grants), want)
		}
	}
}

// At high rates the pace must be kept although timers fire late by more
// than an interval: a slack of half an interval restarted the pace on
// every such timer, and --rate 1000 achieved 727/s. A second still holds
// at most 0.5% more than the rate, plus one (the rate plus one below
// 200/s).
func TestGovernorKeepsHighRates(t *testing.T) {
	for _, rate := range []float64{100, 200, 1000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			s := newPaceSim(t, rate, 0)
			s.service = 2 * time.Millisecond
			rng := rand.New(rand.NewPCG(2, uint64(rate)))
			s.late = func() time.Duration { // 0-2ms late, 1% 4ms, now and then 30ms
				switch n := rng.IntN(10000); {
				case n == 0:
					return 30 * time.Millisecond
				case n < 100:
					return 4 * time.Millisecond
				}
				return time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
			}
			const d = 20 * time.Second
			s.run(64, d)
			if got, want := float64(len(s.grants))/d.Seconds(), rate*0.99; got < want {
				t.Errorf("achieved %.1f/s, want at least %.1f (99%% of the rate)", got, want)
			}
			limit := int(math.Floor(rate*1.005)) + 1
			if rate < 200 {
				limit = int(rate) + 1
			}
			if n, from := busiest(s.grants, time.Second); n > limit {
				t.Errorf("%d requests in the second from %s, want at most %d", n, from.Sub(epoch0), limit)
			}
		})
	}
}

// A process stopped for 40s (SIGSTOP, a laptop sleep) wakes with every
// worker's slot in the past; the pace restarts from now instead of
// sending them all at once (69 requests in one second at --rate 5).
func TestGovernorNoCatchUpAfterStop(t *testing.T) {
	s := newPaceSim(t, 5, 0)
	s.events = []paceEvent{{at: 5 * time.Second, do: func(s *paceSim) { s.now = s.now.Add(40 * time.Second) }}}
	s.run(64, 60*time.Second)
	s.checkWindows(5)
	after := 0
	for _, g := range s.grants {
		if g.Sub(epoch0) >= 45*time.Second && g.Sub(epoch0) < 50*time.Second {
			after++
		}
	}
	if after < 20 || after > 26 {
		t.Errorf("%d requests in the 5s after the stop, want the pace (25 or so)", after)
	}
}

// A Retry-After holds every request not yet sent, also those whose slots
// were handed to waiting workers before the 429 came.
func TestGovernorRetryAfterMovesQueuedSlots(t *testing.T) {
	s := newPaceSim(t, 5, 0)
	throttledAt := time.Time{}
	s.answer = func(sent time.Time) (time.Duration, bool) {
		if throttledAt.IsZero() && sent.Sub(epoch0) >= 2*time.Second {
			throttledAt = sent
			return 4 * time.Second, true
		}
		return 0, false
	}
	s.run(16, 12*time.Second)
	if throttledAt.IsZero() {
		t.Fatal("no request was throttled")
	}
	answered := throttledAt.Add(s.service)
	for _, g := range s.grants {
		if g.After(answered) && g.Before(answered.Add(4*time.Second)) {
			t.Errorf("a request went %s after a Retry-After: 4 (at %s), want none for 4s", g.Sub(answered), answered.Sub(epoch0))
		}
	}
	s.checkWindows(5)
	if n := len(s.grants); n < 20 {
		t.Errorf("%d requests in 12s, want the run to go on after the pause", n)
	}
}

// A Retry-After that ends after the run's deadline stops the run at
// once, resumably; a slot after the deadline is never sent.
func TestGovernorDeadline(t *testing.T) {
	t.Run("Retry-After past the deadline", func(t *testing.T) {
		s := newPaceSim(t, 5, 10*time.Second)
		s.answer = func(sent time.Time) (time.Duration, bool) {
			return time.Minute, sent.Sub(epoch0) >= time.Second
		}
		s.run(8, time.Hour)
		var se *StopError
		if !errors.As(s.stopped, &se) || se.Kind != StopBudget {
			t.Fatalf("stopped with %v, want a budget stop", s.stopped)
		}
		if at := s.now.Sub(epoch0); at > 2*time.Second {
			t.Errorf("stopped at %s, want at once after the 429 (about 1s)", at)
		}
		if !strings.Contains(se.Reason, "Retry-After") {
			t.Errorf("reason %q does not say why", se.Reason)
		}
		if last := s.grants[len(s.grants)-1].Sub(epoch0); last > 1500*time.Millisecond {
			t.Errorf("a request went at %s, after the 429 that ends past the deadline", last)
		}
	})
	t.Run("slot past the deadline", func(t *testing.T) {
		s := newPaceSim(t, 1, 2500*time.Millisecond)
		s.run(4, time.Hour)
		var se *StopError
		if !errors.As(s.stopped, &se) || se.Kind != StopBudget {
			t.Fatalf("stopped with %v, want a budget stop", s.stopped)
		}
		if got := s.now.Sub(epoch0); got != 2500*time.Millisecond {
			t.Errorf("stopped at %s, want the deadline 2.5s", got)
		}
		if len(s.grants) != 3 {
			t.Errorf("%d requests, want 3 (at 0, 1s, 2s)", len(s.grants))
		}
	})
	t.Run("Retry-After within the deadline", func(t *testing.T) {
		s := newPaceSim(t, 5, time.Minute)
		once := false
		s.answer = func(time.Time) (time.Duration, bool) {
			if once {
				return 0, false
			}
			once = true
			return 5 * time.Second, true
		}
		s.run(8, 20*time.Second)
		if s.stopped != nil {
			t.Errorf("stopped with %v, want the run to wait out the pause", s.stopped)
		}
	})
}

// The real wait, on the bubble's fake clock (testing/synctest): a pause
// wakes a sleeping worker, which goes at the end of the pause rather than
// at its old slot, and ctx ends a wait.
func TestGovernorWaitWakesOnPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		g := newGovernor(0.5, time.Now, time.Time{}) // slots 2s apart
		if err := g.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		went := make(chan time.Time, 1)
		go func() {
			if err := g.wait(context.Background()); err != nil {
				t.Errorf("wait = %v", err)
			}
			went <- time.Now()
		}()
		synctest.Wait() // the worker holds the slot at 2s and sleeps on it
		g.throttle(time.Second)
		if got := (<-went).Sub(start); got != time.Second {
			t.Errorf("the sleeping worker went at %s, want 1s (the end of the pause, not its old slot at 2s)", got)
		}

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.wait(ctx) }()
		synctest.Wait() // asleep until its next slot, seconds away
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("wait cancelled while asleep = %v, want context.Canceled", err)
		}
		if err := g.wait(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("wait with a cancelled context = %v, want context.Canceled", err)
		}
	})
}

func TestCheckRate(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want RateProblem // 0: accepted
	}{
		{0, 0}, {0.1, 0}, {5, 0}, {MinRate, 0}, {MaxRate, 0},
		{math.NaN(), RateNotANumber}, {math.Inf(1), RateNotANumber}, {math.Inf(-1), RateNotANumber},
		{-1, RateNegative}, {1e-9, RateTooLow}, {0.001, RateTooLow}, {1e9, RateTooHigh},
	} {
		err := CheckRate(tc.rate)
		if (err == nil) != (tc.want == 0) {
			t.Errorf("CheckRate(%g) = %v, want ok %v", tc.rate, err, tc.want == 0)
		}
		if err == nil {
			continue
		}
		// The words with the flag's name are the command's (internal/job).
		var re *RateError
		if !errors.As(err, &re) || re.Problem != tc.want || (re.Rate != tc.rate && !math.IsNaN(tc.rate)) {
			t.Errorf("CheckRate(%g) = %#v, want a *RateError with rate %g and problem %v", tc.rate, err, tc.rate, tc.want)
		}
	}
}

// Through Run: a 429 whose Retry-After ends past Options.Deadline stops
// the run with StopBudget at once, not after the pause.
func TestRunStopsForRetryAfterPastDeadline(t *testing.T) {
	rows := mkRows(20, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(func(ps []Param, v bool, a int) (Response, error) {
		return Response{}, &Error{Kind: KindTransient, Code: "429", Throttle: true, RetryAfter: time.Hour}
	})
	// A run that waited for the pause would be cancelled (interrupted).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Run(ctx, opener(rows), s, &memSink{}, fast(Options{Workers: 4, Deadline: time.Now().Add(time.Minute)}))
	var se *StopError
	if !errors.As(err, &se) || se.Kind != StopBudget {
		t.Fatalf("Run = %v, want a budget stop", err)
	}
}
