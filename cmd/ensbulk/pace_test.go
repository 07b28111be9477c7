package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// clockedSim is a simulator on loopback that notes when each update
// request (validate or apply) arrived.
type clockedSim struct {
	*testSim
	mu      sync.Mutex
	times   []time.Time
	waiters []countWaiter
}

// countWaiter is a channel closed once n update requests have arrived.
type countWaiter struct {
	n  int
	ch chan struct{}
}

// arrived returns a channel closed once n update requests have arrived.
func (c *clockedSim) arrived(n int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if len(c.times) >= n {
		close(ch)
	} else {
		c.waiters = append(c.waiters, countWaiter{n, ch})
	}
	return ch
}

func startClockedSim(t *testing.T, cfg simulator.Config) *clockedSim {
	t.Helper()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &clockedSim{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "mailboxes/update") {
			c.mu.Lock()
			c.times = append(c.times, time.Now())
			kept := c.waiters[:0]
			for _, w := range c.waiters {
				if len(c.times) >= w.n {
					close(w.ch)
				} else {
					kept = append(kept, w)
				}
			}
			c.waiters = kept
			c.mu.Unlock()
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		sim.Close()
	})
	c.testSim = &testSim{Server: sim, URL: ts.URL}
	return c
}

// busiestSecond is the most update requests that arrived within any one
// second (a closed window), and when that second began.
func (c *clockedSim) busiestSecond() (n int, from time.Time) {
	c.mu.Lock()
	ts := append([]time.Time(nil), c.times...)
	c.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	j := 0
	for i := range ts {
		for ts[i].Sub(ts[j]) > time.Second {
			j++
		}
		if i-j+1 > n {
			n, from = i-j+1, ts[j]
		}
	}
	return n, from
}

// The real binary at --rate 50: no second at the server holds more than
// 51 requests.
func TestPaceWindowAtServer(t *testing.T) {
	sim := startClockedSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "pace.csv", crashInput(rand.New(rand.NewPCG(1, 2)), 60, 20))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "run", in, "--rate", "50", "--workers", "32", "--progress", "none", "--log-level", "error")
	cmd.Env = binaryEnv(sim.testSim)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if n := len(sim.times); n != 120 {
		t.Errorf("%d update requests, want 120 (60 rows, validated and applied)", n)
	}
	if n, from := sim.busiestSecond(); n > 51 {
		t.Errorf("%d requests in the second from %s, want at most the rate plus one (51)", n, from.Format("15:04:05.000"))
	}
}

// A Retry-After longer than what is left of --max-duration stops the run
// at once, resumably (exit 5), instead of waiting past the budget.
func TestRetryAfterPastMaxDurationStops(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1, Faults: simulator.Faults{RateLimit: 0.01, RetryAfter: time.Minute}})
	in := sample(t, "changes.csv")
	// Cancelled well before the Retry-After ends: a run that waits for it
	// is interrupted (exit 3), not stopped by its budget.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := runCLI(t, ctx, simEnv(sim), "run", in, "--rate", "0", "--workers", "4", "--max-duration", "30s", "--progress", "none")
	if res.code != exitStopped {
		t.Fatalf("exit %d, want %d (stopped by --max-duration, resumable)\n%s", res.code, exitStopped, res.stderr)
	}
	if !strings.Contains(res.stderr, "Retry-After") {
		t.Errorf("stderr does not say the Retry-After stopped the run:\n%s", res.stderr)
	}
	if got := len(latest(t, strings.TrimSuffix(in, ".csv")+".report.csv")); got != 58 {
		t.Errorf("report rows = %d, want 58", got)
	}
}

func TestRateRefused(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	for _, rate := range []string{"NaN", "Inf", "-Inf", "-1", "1e-9", "0.001", "1e12"} {
		t.Run(rate, func(t *testing.T) {
			res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", rate)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, "--rate") {
				t.Errorf("stderr does not name --rate:\n%s", res.stderr)
			}
		})
	}
	if n := sim.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
