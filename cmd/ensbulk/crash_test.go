package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// crashInput is a CSV of rows changes spread over boxes mailboxes of the
// demo world (1001.. of customers 100 and 101), several rows per mailbox
// interleaved at random. Every row's description names its row number,
// so the simulator's audit tells which row an applied update came from.
func crashInput(rng *rand.Rand, rows, boxes int) string {
	zones := []string{"Europe/London", "Europe/Oslo", "Europe/Berlin", "America/New_York", "Australia/Sydney"}
	var b strings.Builder
	b.WriteString("mailbox,customer,description,timezone,envelope\n")
	for n := 1; n <= rows; n++ {
		i := rng.IntN(boxes)
		fmt.Fprintf(&b, "%d,%d,crash row %d,%s,%d\n", 1001+i, 100+i%2, n, zones[rng.IntN(len(zones))], rng.IntN(2))
	}
	return b.String()
}

// auditRow is the input row an applied update came from.
func auditRow(t testing.TB, a simulator.AuditEntry) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(a.Params["description"], "crash row "))
	if err != nil {
		t.Fatalf("audit entry %d: description %q names no row", a.Seq, a.Params["description"])
	}
	return n
}

// binaryEnv is the environment of the real binary: the connection goes
// through the environment, never argv.
func binaryEnv(sim *testSim) []string {
	env := simEnv(sim)
	return append(os.Environ(), "ENSWITCH_URL="+env["ENSWITCH_URL"], "ENSWITCH_USER="+env["ENSWITCH_USER"], "ENSWITCH_PASSWORD="+env["ENSWITCH_PASSWORD"])
}

// drain waits until the simulator has finished every request, also those
// of a client that was killed (their updates may still land).
func drain(t testing.TB, sim *testSim) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); sim.Stats().InFlight > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("simulator still has %d requests in flight", sim.Stats().InFlight)
		}
		time.Sleep(time.Millisecond)
	}
}

// ackPoint is what was durable when a run was killed: the rows its report
// held as ok, and how many updates the simulator had applied by then.
type ackPoint struct {
	audit int
	ok    map[int]bool
}

// reportRows reads a report's records in file order.
func reportRows(t testing.TB, path string) []report.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := report.NewDecoder(f, path)
	var out []report.Record
	for {
		r, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

// TestKill9ResumeLosesNothing kills the real binary with SIGKILL at random
// moments of a run against a simulator with latency, resuming each time,
// then lets a last --resume finish. Whatever the moments: the mailboxes
// end as the rows say, rows of one mailbox were applied in file order
// (a row in flight at a kill may be applied again, never after a later
// row), no row the report held as ok when a run died was ever sent
// again, and the report has one line per row, all ok.
//
// The kills are spread over rounds (a fresh simulator and input each):
// a run resumed often enough finishes before the next kill lands, and
// every round then checks its outcome.
func TestKill9ResumeLosesNothing(t *testing.T) {
	t.Parallel()
	seed := uint64(1)
	if s := os.Getenv("ENSBULK_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ENSBULK_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (ENSBULK_CRASH_SEED=n to change)", seed)
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	const (
		rows, boxes = 300, 60
		workers     = 16
		wantKills   = 24
	)
	// Bounded by count, not by the clock: every kill lands after a
	// request of its run was served, so a round ends in kills unless a
	// resume finishes first, and 8 rounds are plenty for 24 kills.
	const maxRounds = 8
	kills, inApply := 0, 0
	for round := 0; kills < wantKills; round++ {
		if round == maxRounds {
			t.Fatalf("only %d kills landed mid-run in %d rounds", kills, round)
		}
		k, a := crashRound(t, rng, round, rows, boxes, workers, wantKills-kills)
		kills += k
		inApply += a
	}
	if inApply == 0 {
		t.Errorf("none of the %d kills landed while updates were being applied", kills)
	}
	t.Logf("%d kills mid-run (%d while updates were being applied)", kills, inApply)
}

// crashRound runs one input to completion through at most maxKills kills
// and checks the outcome; it returns the kills that landed mid-run and
// how many of those interrupted the apply phase.
func crashRound(t *testing.T, rng *rand.Rand, round, rows, boxes, workers, maxKills int) (kills, inApply int) {
	// Lost answers (the update applied, the client told nothing) make the
	// apply phase longer than the validate phase, which each resume
	// repeats for the rows left: more kills land while rows are applied.
	// They are retried within a run; 10 attempts make a row that ends
	// with error (and is redone after later rows of its mailbox) a
	// one-in-10^10 event.
	watched := startWatchedSim(t, simulator.Config{Seed: int64(round + 1), Faults: simulator.Faults{Latency: time.Millisecond, Jitter: 2 * time.Millisecond, LostRate: 0.1}})
	sim := watched.testSim
	initial := sim.State()
	in := writeFile(t, "crash.csv", crashInput(rng, rows, boxes))
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	args := []string{"run", in, "--no-read", "--resume", "--rate", "0", "--workers", strconv.Itoa(workers), "--max-attempts", "10", "--progress", "none", "--log-level", "error"}

	var acks []ackPoint
	for attempt := 0; kills < maxKills && attempt < 3*maxKills; attempt++ {
		cmd := exec.Command(binary, args...)
		cmd.Env = binaryEnv(sim)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		before := sim.Stats()
		applied := before.Applied
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Killed at a random point of the run counted in requests it
		// had served (1 to 120: the validate phase, or into the apply
		// phase), or not at all when the run finishes first.
		served := before.Requests + 1 + int64(rng.IntN(120))
		var err error
		select {
		case err = <-done:
		case <-watched.when(func(st simulator.Stats) bool { return st.Requests >= served }):
			_ = cmd.Process.Kill()
			err = <-done
		}
		drain(t, sim)
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			if err != nil {
				t.Fatalf("round %d: run %d ended by itself: %v\n%s", round, attempt, err, stderr.String())
			}
			break // finished before the kill
		}
		kills++
		if sim.Stats().Applied != applied {
			inApply++
		}
		ack := ackPoint{audit: len(sim.Audit()), ok: map[int]bool{}}
		if _, err := os.Stat(rep); err == nil {
			for n, r := range latest(t, rep) {
				if r.Status == "ok" {
					ack.ok[n] = true
				}
			}
		}
		acks = append(acks, ack)
	}

	// The last resume, to completion.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = binaryEnv(sim)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("round %d: final --resume: %v\n%s", round, err, out)
	}

	// The report: one line per row, in row order, all ok.
	recs := reportRows(t, rep)
	if len(recs) != rows {
		t.Errorf("round %d: report has %d records, want %d", round, len(recs), rows)
	}
	for i, r := range recs {
		if r.Row != i+1 || r.Status != "ok" {
			t.Errorf("round %d: report line %d is row %d %s (%s), want row %d ok", round, i+1, r.Row, r.Status, r.Message, i+1)
			break
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(rep), ".*tmp*")); len(tmps) != 0 {
		t.Errorf("round %d: temporary files left: %v", round, tmps)
	}

	// The mailboxes: as the rows say, applied in file order.
	checkState(t, sim, expectState(t, initial, in, rep))
	audit := sim.Audit()
	last := map[string]int{}
	sent := map[int]int{} // applies whose answer reached the client, or would have but for a kill
	for _, a := range audit {
		n := auditRow(t, a)
		if !a.Lost {
			sent[n]++
		} else if _, ok := sent[n]; !ok {
			sent[n] = 0
		}
		k := fmt.Sprintf("%d/%s", a.Customer, a.Mailbox)
		if n < last[k] {
			t.Errorf("round %d: mailbox %s: row %d applied after row %d (audit seq %d)", round, k, n, last[k], a.Seq)
		}
		last[k] = n
	}
	if len(sent) != rows {
		t.Errorf("round %d: %d rows applied, want %d", round, len(sent), rows)
	}
	again := 0
	for _, c := range sent {
		again += max(c-1, 0)
	}
	// What a kill can cost: rows taken by the scheduler and not yet
	// released, i.e. sent or answered but not yet durable. The scheduler
	// holds at most 4 per worker.
	if again > kills*4*workers {
		t.Errorf("round %d: %d updates sent again after %d kills: more than the rows a run can have unrecorded (%d per kill)", round, again, kills, 4*workers)
	}

	// Nothing acknowledged before a kill was sent again after it.
	for i, ack := range acks {
		for _, a := range audit[ack.audit:] {
			if n := auditRow(t, a); ack.ok[n] {
				t.Errorf("round %d: row %d was ok in the report at kill %d and was applied again (audit seq %d)", round, n, i+1, a.Seq)
			}
		}
	}
	t.Logf("round %d: %d kills (%d in the apply phase), %d updates, %d sent again", round, kills, inApply, len(audit), again)
	return kills, inApply
}

// A run killed at any moment of its start (before the lock, between the
// report, its sidecar and the undo journal, into the validations) leaves
// files its --resume carries on from, and the undo file of the finished
// run takes every change back.
func TestKilledAtAnyMomentOfItsStartResumes(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1, Faults: simulator.Faults{Latency: 2 * time.Millisecond}})
	in := writeFile(t, "nightly.csv", manyRows(120))
	initial := sim.State()
	rng := rand.New(rand.NewPCG(20, 12))
	args := []string{"run", in, "--resume", "--rate", "0", "--progress", "none", "--log-level", "error"}
	for round := range 12 {
		cmd := exec.Command(binary, args...)
		cmd.Env = binaryEnv(sim)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		_ = cmd.Process.Kill()
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			if code := cmd.ProcessState.ExitCode(); code != exitOK && code != exitLocked {
				t.Fatalf("round %d: run ended by itself: %v\n%s", round, err, errb.String())
			}
		}
		drain(t, sim)
	}
	res := runCLI(t, context.Background(), simEnv(sim), args...)
	if res.code != exitOK {
		t.Fatalf("resume after the kills: exit %d, want 0\n%s", res.code, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	checkState(t, sim, expectState(t, initial, in, rep))
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(rep), ".*tmp*")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	res = runCLI(t, context.Background(), simEnv(sim), "run", rep[:len(rep)-len(".csv")]+".undo.jsonl", "--rate", "0")
	if res.code != exitOK {
		t.Fatalf("undo: exit %d, want 0\n%s", res.code, res.stderr)
	}
	sameWorld(t, sim, initial, nil)
}
