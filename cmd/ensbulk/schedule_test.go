package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/internal/summaryfile"
	"github.com/ensbulk/ensbulk/simulator"
)

// Scheduled runs (cron, systemd timers): no prompt, no overlap, budgets,
// windows, and a machine-readable result.

func manyRows(n int) string {
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,%d,nightly %d\n", 1001+i%200, 100+(i%200)%2, i+1)
	}
	return b.String()
}

func TestNoPromptWithoutTerminal(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	var out, errb syncBuffer
	prompted := false
	e := &Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv:        func(k string) string { return map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin"}[k] },
		StdinTerminal: func() bool { return false },
		ReadPassword:  func() ([]byte, error) { prompted = true; return []byte("x"), nil },
	}
	code := exitCode(run(context.Background(), []string{"run", in}, e), e.Stderr)
	if prompted {
		t.Error("prompted for a password with stdin not a terminal")
	}
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	for _, want := range []string{"ENSWITCH_PASSWORD", "--password-file", "terminal"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("error does not name %q: %s", want, errb.String())
		}
	}
	if sim.Stats().Requests != 0 {
		t.Error("requests were sent")
	}
}

func TestPasswordFile(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	pwFile := writeFile(t, "pw", "admin-demo-pass\n")
	if err := os.Chmod(pwFile, 0o600); err != nil {
		t.Fatal(err)
	}
	env := simEnv(sim)
	delete(env, "ENSWITCH_PASSWORD")
	res := runCLI(t, context.Background(), env, "run", in, "--rate", "0", "--password-file", pwFile)
	if res.code != exitRows {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stderr, "readable by other users") {
		t.Error("warned about a 0600 password file")
	}
}

// startHolder starts the real binary on a slow simulator so that it holds
// the report's lock for a while.
func startHolder(t *testing.T, sim *testSim, in string, extra ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"run", in, "--rate", "0", "--workers", "2"}, extra...)...)
	cmd.Env = append(os.Environ(), "ENSWITCH_URL="+sim.URL, "ENSWITCH_USER=admin", "ENSWITCH_PASSWORD=admin-demo-pass")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// Wait until it holds the lock (its PID is in the lock file).
	lock := strings.TrimSuffix(in, ".csv") + ".report.csv.lock"
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(lock)
		if strings.TrimSpace(string(b)) == fmt.Sprint(cmd.Process.Pid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("holder never took the lock; stderr:\n%s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd, &errb
}

func TestSecondRunOnSameReportIsRefused(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1, Faults: simulator.Faults{Latency: 20 * time.Millisecond}})
	in := writeFile(t, "nightly.csv", manyRows(400))
	holder, _ := startHolder(t, sim, in)
	before := sim.Stats().Requests
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--rate", "0")
	if res.code != exitLocked {
		t.Fatalf("second run: exit %d, want %d (lock held)\n%s", res.code, exitLocked, res.stderr)
	}
	if want := fmt.Sprintf("PID %d", holder.Process.Pid); !strings.Contains(res.stderr, want) {
		t.Errorf("refusal does not name the holder (%s):\n%s", want, res.stderr)
	}
	// The refused run sent nothing of its own: the holder's two workers
	// send at most a couple of requests in the meantime, never a second
	// pool's worth.
	if d := sim.Stats().Requests - before; d > 20 {
		t.Errorf("%d requests while the second run was refused", d)
	}
}

func TestKilledHolderDoesNotBlock(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1, Faults: simulator.Faults{Latency: 10 * time.Millisecond}})
	in := writeFile(t, "nightly.csv", manyRows(300))
	initial := sim.State()
	holder, _ := startHolder(t, sim, in)
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--rate", "0", "--workers", "8")
	if res.code != exitOK {
		t.Fatalf("run after a killed holder: exit %d, want 0\n%s", res.code, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	checkState(t, sim, expectState(t, initial, in, rep))
	if n := countRecords(t, rep); n != 300 {
		t.Errorf("report lines = %d, want 300", n)
	}
}

func TestBudgetsStopAndResumeFinishes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"max-rows", []string{"--max-rows", "40"}},
		{"max-duration", []string{"--max-duration", "300ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 1, Faults: simulator.Faults{Latency: 5 * time.Millisecond}})
			initial := sim.State()
			in := writeFile(t, "nightly.csv", manyRows(300))
			rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
			sumPath := filepath.Join(t.TempDir(), "summary.json")
			args := append([]string{"run", in, "--rate", "0", "--workers", "2", "--summary-json", sumPath}, tc.args...)
			res := runCLI(t, context.Background(), simEnv(sim), args...)
			if res.code != exitStopped {
				t.Fatalf("exit %d, want %d (stopped, resumable)\n%s", res.code, exitStopped, res.stderr)
			}
			var s summaryfile.Summary
			b, _ := os.ReadFile(sumPath)
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			if s.ExitCode != exitStopped || s.Outcome != "stopped" || s.Counts["skipped"] == 0 {
				t.Errorf("summary: exit %d, outcome %q, skipped %d", s.ExitCode, s.Outcome, s.Counts["skipped"])
			}
			if n := countRecords(t, rep); n != 300 {
				t.Errorf("stopped report has %d lines, want one per row (300)", n)
			}
			if tc.name == "max-rows" && s.Counts["ok"] != 40 {
				t.Errorf("ok after --max-rows 40 = %d", s.Counts["ok"])
			}
			applied := sim.Stats().Applied
			res = runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--rate", "0", "--workers", "8")
			if res.code != exitOK {
				t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
			}
			if got := sim.Stats().Applied - applied; got != 300-int64(s.Counts["ok"]) {
				t.Errorf("resume applied %d rows, want the %d not done", got, 300-s.Counts["ok"])
			}
			checkState(t, sim, expectState(t, initial, in, rep))
		})
	}
}

func TestWindowExitOutsideWindow(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	// A one-minute window twelve hours from now is surely closed.
	now := time.Now().UTC()
	start := now.Add(12 * time.Hour)
	spec := fmt.Sprintf("%02d:%02d-%02d:%02d UTC", start.Hour(), start.Minute(), start.Add(time.Minute).Hour(), start.Add(time.Minute).Minute())
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--window", spec, "--window-exit")
	if res.code != exitStopped {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	if n := sim.Stats().Requests; n != 0 {
		t.Errorf("%d requests outside the window", n)
	}
}

// The summary JSON is a contract for monitoring: its keys are fixed.
func TestSummaryJSONSchema(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	p := filepath.Join(t.TempDir(), "s.json")
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0", "--summary-json", p)
	if res.code != exitRows {
		t.Fatalf("exit %d", res.code)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"achieved_rate", "command", "counts", "duration_seconds", "estimate", "exit_code", "finished", "input", "outcome", "report", "requests", "retries", "rows", "rows_this_run", "started", "target_rate", "throttles", "version"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys = %v\nwant %v", keys, want)
	}
	counts := m["counts"].(map[string]any)
	wantCounts := map[string]any{"ok": 52.0, "valid": 0.0, "invalid": 4.0, "failed": 2.0, "error": 0.0, "skipped": 0.0, "applied-unvalidated": 0.0, "unchanged": 0.0, "change": 0.0, "conflict": 0.0, "mismatch": 0.0}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("counts = %v, want %v", counts, wantCounts)
	}
	if m["exit_code"].(float64) != exitRows || m["outcome"] != "rows_not_ok" || m["rows"].(float64) != 58 {
		t.Errorf("exit_code %v outcome %v rows %v", m["exit_code"], m["outcome"], m["rows"])
	}
}

// --summary-json carries the estimate the run printed before it started,
// beside what it sent: a night's watcher compares the two. With nothing
// retried, they agree to the request.
func TestSummaryJSONCarriesTheEstimate(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "nightly.csv", manyRows(60))
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "1000", "--summary-json", sumPath)
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	var s summaryfile.Summary
	b, _ := os.ReadFile(sumPath)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Estimate == nil {
		t.Fatalf("summary has no estimate:\n%s", b)
	}
	if s.Estimate.Requests != s.Requests || s.Requests == 0 {
		t.Errorf("estimate %d requests, sent %d: want them equal", s.Estimate.Requests, s.Requests)
	}
	// The two lists went before the estimate; the rest is paced at 1000/s.
	if want := float64(s.Requests-2) / 1000; s.Estimate.DurationSec < want-1e-6 || s.Estimate.DurationSec > want+1e-6 {
		t.Errorf("estimate %.4f s at --rate 1000, want %.4f s for %d requests after the two lists", s.Estimate.DurationSec, want, s.Requests-2)
	}
	if !strings.Contains(res.stderr, fmt.Sprintf("%d requests", s.Estimate.Requests)) {
		t.Errorf("the estimate line does not say %d requests:\n%s", s.Estimate.Requests, res.stderr)
	}
}

// A resume of a --verify run reads its rows back too, with or without
// the flag: a server that keeps nothing is caught in the rows the first
// invocation left as in those it did.
func TestResumeOfAVerifiedRunVerifies(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1, Faults: simulator.Faults{IgnoreRate: 1}})
	in := writeFile(t, "nightly.csv", manyRows(30))
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--verify", "--max-rows", "5", "--rate", "0")
	if res.code != exitStopped {
		t.Fatalf("first invocation: exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	res = runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--rate", "0")
	if res.code != exitRows {
		t.Fatalf("resume: exit %d, want %d (every row mismatch)\n%s", res.code, exitRows, res.stderr)
	}
	if !strings.Contains(res.stderr, "was run with --verify") {
		t.Errorf("the resume does not say it verifies:\n%s", res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if got := statusCounts(t, rep); got["mismatch"] != 30 {
		t.Errorf("statuses %v, want all 30 rows mismatch (the server kept nothing)", got)
	}
}
