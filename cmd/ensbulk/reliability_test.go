package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ensbulk/ensbulk/simulator"
)

// Reliability: a server that fails everything, a server that hangs,
// signals while requests hang, and no goroutine left behind by run().

// uniqueRows writes n changes, one per mailbox of the generated world
// (1001+i, customer 100 or 101), so that the simulator's audit shows
// whether any row was applied twice.
func uniqueRows(n int) string {
	var b strings.Builder
	b.WriteString("mailbox,customer,description,notify_email\n")
	emails := []string{"owner", "owner_wav", "<empty>"}
	for i := range n {
		fmt.Fprintf(&b, "%d,%d,reliable %d,%s\n", 1001+i, 100+i%2, i+1, emails[i%len(emails)])
	}
	return b.String()
}

// appliedPerMailbox counts the simulator's applied updates by mailbox.
func appliedPerMailbox(sim *testSim) map[string]int {
	n := map[string]int{}
	for _, a := range sim.Audit() {
		n[fmt.Sprintf("%d/%s", a.Customer, a.Mailbox)]++
	}
	return n
}

// A server that fails every request: the circuit opens after a bounded
// number of attempts (exit 3), the report still has one line per row, and
// --resume finishes the job once the server is healthy, without applying
// any row twice.
// Not parallel: the bound on failed requests counts waves of answers,
// whose shape a machine loaded by other tests changes.
func TestFailingServerOpensCircuitThenResumeFinishes(t *testing.T) {
	const (
		rows      = 300
		workers   = 8
		threshold = 25 // batch.Options.CircuitThreshold default
	)
	tests := []struct {
		name   string
		codes  []int // nil: 500, 502 and 503
		midRun bool  // start healthy, fail every request once rows were applied
	}{
		{name: "from the start, 500/502/503"},
		{name: "from the start, 503 maintenance page only", codes: []int{503}},
		{name: "mid-run, 500/502/503", midRun: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failing := simulator.Faults{ErrorRate: 1, ErrorCodes: tt.codes}
			cfg := simulator.Config{Seed: 3, Mailboxes: rows}
			if tt.midRun {
				cfg.Faults.Latency = 2 * time.Millisecond
			} else {
				cfg.Faults = failing
			}
			sim := startSim(t, cfg)
			initial := sim.State()
			in := writeFile(t, "fail.csv", uniqueRows(rows))
			rep := strings.TrimSuffix(in, ".csv") + ".report.csv"

			flipped := make(chan int64, 1)
			finished := make(chan struct{})
			if tt.midRun {
				// Once 50 rows are applied, every request fails.
				go func() {
					defer close(flipped)
					for {
						select {
						case <-finished:
							return
						case <-time.After(time.Millisecond):
						}
						if st := sim.Stats(); st.Applied >= 50 {
							if sim.SetFaults(failing) == nil {
								flipped <- st.Applied
							}
							return
						}
					}
				}()
			}
			// A hang detector, not a timing assertion: without a circuit
			// the run would crawl on for hours at the slowest pace.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			// --rate 200: 503s halve the pace, at most twice a second; from
			// an unlimited start the engine guesses a pace of 2/s and the
			// circuit then takes half a minute to open.
			res := runCLI(t, ctx, simEnv(sim), "run", in, "--rate", "200", "--workers", fmt.Sprint(workers), "--progress", "none")
			close(finished)
			if res.code != exitAborted || !strings.Contains(res.stderr, "circuit open") {
				t.Fatalf("exit %d, want %d and a message that the circuit opened\nstderr:\n%s", res.code, exitAborted, tail(res.stderr, 30))
			}
			if tt.midRun {
				if n, ok := <-flipped; !ok || n == 0 {
					t.Fatal("the server was never switched to failing")
				}
			}
			// Bounded: the circuit counts every failed answer (a 503
			// answering a request sent before the previous one came back
			// is the same wave, counted once) and at most one request
			// per worker is in flight when it opens.
			st := sim.Stats()
			if got, max := st.Faults[simulator.FaultError], int64(threshold+2*workers); got > max {
				t.Errorf("%d failed requests before the run stopped, want at most %d (circuit threshold + two waves of workers)", got, max)
			}
			if n := countRecords(t, rep); n != rows {
				t.Errorf("report has %d lines after the abort, want one per row (%d)", n, rows)
			}
			t.Logf("stopped after %d failed requests; %d applied before", st.Faults[simulator.FaultError], st.Applied)

			// The server recovers; --resume finishes the job.
			if err := sim.SetFaults(simulator.Faults{}); err != nil {
				t.Fatal(err)
			}
			res = runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--rate", "0", "--workers", fmt.Sprint(workers), "--progress", "none")
			if res.code != exitOK {
				t.Fatalf("resume: exit %d, want 0\n%s", res.code, tail(res.stderr, 30))
			}
			if n := countRecords(t, rep); n != rows {
				t.Errorf("report has %d lines after resume, want %d", n, rows)
			}
			for r, rec := range latest(t, rep) {
				if rec.Status != "ok" {
					t.Errorf("row %d ended %s after resume: %s", r, rec.Status, rec.Message)
				}
			}
			checkState(t, sim, expectState(t, initial, in, rep))
			for box, n := range appliedPerMailbox(sim) {
				if n != 1 {
					t.Errorf("mailbox %s applied %d times, want once (resume must not redo finished rows)", box, n)
				}
			}
		})
	}
}

// ensbulkProc is the real binary running in the background.
type ensbulkProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
}

// startEnsbulk starts the real binary with env added to the environment.
func startEnsbulk(t *testing.T, env map[string]string, args ...string) *ensbulkProc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &ensbulkProc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to end, at most limit (a hang detector), and
// returns its exit code and how long it took.
func (p *ensbulkProc) wait(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump in stderr
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("ensbulk still running %s later: it hangs\nstderr:\n%s", limit, tail(p.stderr.String(), 60))
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

// waitFor polls cond every few milliseconds for at most limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A server that never answers: per-request timeouts fire and rows are
// retried; Ctrl-C stops dispatching, the requests in flight end at their
// timeout, the report gets every row, and the process exits 3.
func TestHangingServerCtrlCDrains(t *testing.T) {
	t.Parallel()
	const rows, workers = 40, 4
	sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: rows, Faults: simulator.Faults{HangRate: 1}})
	in := writeFile(t, "hang.csv", uniqueRows(rows))
	p := startEnsbulk(t, simEnv(sim), "run", in, "--rate", "0", "--workers", fmt.Sprint(workers), "--timeout", "1s", "--progress", "none")

	// More requests than workers: a timeout fired and its row was retried.
	waitFor(t, 20*time.Second, "a retry after a timeout", func() bool { return sim.Stats().Requests > workers })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code, took := p.wait(t, 15*time.Second)
	t.Logf("exited %d %s after SIGINT; %d requests, all hung", code, took.Round(time.Millisecond), sim.Stats().Requests)
	if code != exitAborted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitAborted, tail(p.stderr.String(), 30))
	}
	stderr := p.stderr.String()
	if !strings.Contains(stderr, "finishing requests in flight") || !strings.Contains(stderr, "interrupted") {
		t.Errorf("stderr does not say it was interrupted:\n%s", tail(stderr, 30))
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if n := countRecords(t, rep); n != rows {
		t.Errorf("report has %d lines, want one per row (%d)", n, rows)
	}
	timeouts := 0
	for _, rec := range latest(t, rep) {
		if rec.Status == "ok" {
			t.Errorf("row %d ok from a server that never answers", rec.Row)
		}
		if strings.Contains(rec.Message, "timeout") {
			timeouts++
		}
	}
	if timeouts == 0 {
		t.Error("no row's message names the timeout that stopped it")
	}
}

// A second Ctrl-C exits at once, even while requests hang for much longer
// than the bound, and --resume then finishes the job.
func TestSecondCtrlCExitsAtOnce(t *testing.T) {
	t.Parallel()
	const rows, workers = 40, 4
	sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: rows, Faults: simulator.Faults{HangRate: 1}})
	initial := sim.State()
	in := writeFile(t, "hang.csv", uniqueRows(rows))
	// Password authentication: a hung login is one request in flight
	// (the others wait for its token), and this test needs one per worker.
	env := simEnv(sim)
	env["ENSWITCH_AUTH"] = "password"
	// --read get: a list before the first phase would be the one request
	// that hangs, and this test needs one per worker.
	p := startEnsbulk(t, env, "run", in, "--rate", "0", "--workers", fmt.Sprint(workers), "--timeout", "5m", "--progress", "none", "--read", "get")

	waitFor(t, 20*time.Second, "every worker's request to hang", func() bool { return sim.Stats().InFlight == workers })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first signal to be taken", func() bool {
		return strings.Contains(p.stderr.String(), "finishing requests in flight")
	})
	select {
	case <-p.done:
		t.Fatalf("exited on the first signal while requests were in flight (they hang for 5m)\nstderr:\n%s", p.stderr.String())
	case <-time.After(200 * time.Millisecond):
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// The requests hang for up to --timeout 5m: ending within the bound
	// means the second signal did not wait for them.
	code, took := p.wait(t, 15*time.Second)
	t.Logf("exited %d %s after the second SIGINT", code, took.Round(time.Millisecond))
	if code != exitAborted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitAborted, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "again") {
		t.Errorf("stderr does not say the second signal exits at once:\n%s", p.stderr.String())
	}

	// Nothing was acknowledged; resume against a healthy server finishes.
	sim.Close() // end the hung handlers
	if err := sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--rate", "0", "--progress", "none")
	if res.code != exitOK {
		t.Fatalf("resume: exit %d, want 0\n%s", res.code, tail(res.stderr, 30))
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if n := countRecords(t, rep); n != rows {
		t.Errorf("report has %d lines after resume, want %d", n, rows)
	}
	checkState(t, sim, expectState(t, initial, in, rep))
}

// run() leaves no goroutine behind: not after a clean run, nor after a
// run interrupted while requests hang, nor after the circuit opened. The
// test's own server closes its connections before the check, so the
// server's goroutines do not count; the client's idle connections do.
func TestNoGoroutineLeakAfterRun(t *testing.T) {
	tests := []struct {
		name      string
		faults    simulator.Faults
		interrupt bool
		want      int
	}{
		{name: "clean", faults: simulator.Faults{ResetRate: 0.05, TruncateRate: 0.05, LostRate: 0.05}, want: exitOK},
		{name: "interrupted while requests hang", faults: simulator.Faults{HangRate: 1}, interrupt: true, want: exitAborted},
		{name: "circuit open", faults: simulator.Faults{ErrorRate: 1, ErrorCodes: []int{500}}, want: exitAborted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, err := simulator.New(simulator.Config{Seed: 5, Mailboxes: 100, Faults: tt.faults})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(sim)
			defer ts.Close()
			defer sim.Close()
			in := writeFile(t, "leak.csv", uniqueRows(100))
			// Password authentication: the interrupted case waits for one
			// hung request per worker, and a hung login would be only one.
			env := map[string]string{"ENSWITCH_URL": ts.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass", "ENSWITCH_AUTH": "password"}

			ignore := goleak.IgnoreCurrent()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.interrupt {
				go func() {
					defer cancel() // at the latest after 10s: the check then fails on the exit code
					for deadline := time.Now().Add(10 * time.Second); sim.Stats().InFlight < 4 && time.Now().Before(deadline); {
						time.Sleep(5 * time.Millisecond)
					}
				}()
			}
			res := runCLI(t, ctx, env, "run", in, "--rate", "0", "--workers", "8", "--timeout", "1s", "--progress", "none")
			if res.code != tt.want {
				t.Fatalf("exit %d, want %d\n%s", res.code, tt.want, tail(res.stderr, 20))
			}
			sim.Close()
			ts.CloseClientConnections()
			goleak.VerifyNone(t, ignore)
		})
	}
}
