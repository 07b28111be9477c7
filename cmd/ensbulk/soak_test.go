package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/internal/summaryfile"
	"github.com/ensbulk/ensbulk/simulator"
)

// soak selects the soak tests (make soak, which CI runs after make test):
// a minute and more each, too long for make test.
var soak = flag.Bool("soak", false, "run the soak tests (10,000 rows; make soak)")

// soakRows writes n changes over m mailboxes of the generated world
// (mailbox 1001+i is customer 100 for even i, 101 for odd i). Every m-th
// row comes back to a mailbox already changed, so the final state also
// proves per-mailbox order under retries. Canary-free, varied fields: a
// description unique per row, a PIN, a time zone and a 0/1 flag.
func soakRows(n, m int) string {
	zones := []string{"Europe/London", "Europe/Oslo", "America/New_York", "Asia/Tokyo"}
	var b strings.Builder
	b.WriteString("mailbox,customer,description,pin,timezone,envelope\n")
	for i := range n {
		box := i % m
		fmt.Fprintf(&b, "%d,%d,soak row %d,%d,%s,%d\n", 1001+box, 100+box%2, i+1, 1000+i%9000, zones[i%len(zones)], i%2)
	}
	return b.String()
}

// soakFaults is every fault at once: 5% 500/502/503 with HTML pages, 2%
// resets, 1% hangs shorter than the client's timeout, 2% updates applied
// and then answered with a reset, 1% truncated JSON, and a 429 rate limit
// below the rate the run asks for.
func soakFaults(limit float64) simulator.Faults {
	return simulator.Faults{
		Jitter:       2 * time.Millisecond,
		ErrorRate:    0.05,
		ResetRate:    0.02,
		HangRate:     0.01,
		HangFor:      300 * time.Millisecond,
		LostRate:     0.02,
		TruncateRate: 0.01,
		RateLimit:    limit,
	}
}

// Every fault at once over a whole run: every row ends ok, the simulator
// holds exactly what the report says, the report is complete, and the run
// ends in bounded time. 10,000 rows, with -soak only (make soak).
func TestFaultSoak(t *testing.T) {
	if !*soak {
		t.Skip("10,000 rows under every fault (minutes): make soak runs it with -soak")
	}
	rows, mailboxes, deadline := 10000, 8000, 25*time.Minute
	const rate, limit = 1000, 400 // the server allows less than the run asks for
	sim := startSim(t, simulator.Config{Seed: 7, Mailboxes: mailboxes, Faults: soakFaults(limit)})
	initial := sim.State()
	in := writeFile(t, "soak.csv", soakRows(rows, mailboxes))
	summary := filepath.Join(t.TempDir(), "summary.json")

	// The deadline is a hang detector: a run that has not finished by
	// then is interrupted (exit 3) and the test fails with its figures.
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	// The default --max-attempts: what an operator gets must survive it.
	res := runCLI(t, ctx, simEnv(sim), "run", in, "--rate", fmt.Sprint(rate), "--workers", "8",
		"--timeout", "5s", "--summary-json", summary, "--progress", "none")
	elapsed := time.Since(start)

	st := sim.Stats()
	var sum summaryfile.Summary
	if b, err := os.ReadFile(summary); err != nil {
		t.Errorf("summary JSON: %v", err)
	} else if err := json.Unmarshal(b, &sum); err != nil {
		t.Errorf("summary JSON: %v", err)
	}
	t.Logf("soak: %d rows in %s (-race=%v): exit %d; requests %d (server saw %d), retries %d, throttles %d, achieved %.1f/s (target %d/s, server limit %d/s); faults injected %s; applied %d",
		rows, elapsed.Round(time.Millisecond), raceEnabled(), res.code, sum.Requests, st.Requests, sum.Retries, sum.Throttles,
		sum.AchievedRate, rate, limit, faultList(st.Faults), st.Applied)

	if res.code != exitOK {
		t.Fatalf("exit %d, want 0: every row must end ok under this fault mix\nstderr (tail):\n%s", res.code, tail(res.stderr, 40))
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if n := countRecords(t, rep); n != rows {
		t.Errorf("report has %d lines, want one per row (%d)", n, rows)
	}
	got := latest(t, rep)
	notOK := 0
	for r := 1; r <= rows; r++ {
		if rec, ok := got[r]; !ok || rec.Status != "ok" {
			if notOK++; notOK <= 10 {
				t.Errorf("row %d: %+v, want ok", r, rec)
			}
		}
	}
	if sum.Counts["ok"] != rows || sum.Rows != rows || sum.ExitCode != exitOK {
		t.Errorf("summary JSON says rows %d, ok %d, exit %d; want %d, %d, 0", sum.Rows, sum.Counts["ok"], sum.ExitCode, rows, rows)
	}
	// Every kind of fault was really injected, or the soak proves nothing.
	for _, kind := range []string{simulator.FaultError, simulator.FaultReset, simulator.FaultHang,
		simulator.FaultLost, simulator.FaultTruncate, simulator.FaultRateLimit} {
		if st.Faults[kind] == 0 {
			t.Errorf("no %s fault was injected", kind)
		}
	}
	if sum.Retries == 0 || sum.Throttles == 0 {
		t.Errorf("retries %d, throttles %d: the faults did not reach the engine", sum.Retries, sum.Throttles)
	}
	// Lost answers were applied by the server and retried by the client:
	// the server applied more updates than there are rows, never fewer.
	if st.Applied < int64(rows) {
		t.Errorf("server applied %d updates for %d ok rows", st.Applied, rows)
	}
	checkState(t, sim, expectState(t, initial, in, rep))
}

// faultList formats fault counts in a stable order.
func faultList(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// raceEnabled reports whether the test binary was built with -race (for
// the figures logged with each soak).
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}
