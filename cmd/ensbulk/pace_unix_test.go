//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// A process stopped for 3s (SIGSTOP, as a laptop sleep) does not catch up
// when it runs again: at --rate 5 with 16 workers (whose slots reach 3s
// ahead), the busiest second at the server holds at most 6 requests.
// --max-duration leaves 3-4 s after the stop on a loaded machine too (a
// slow start once left too few requests to tell).
func TestStoppedProcessDoesNotCatchUp(t *testing.T) {
	t.Parallel()
	sim := startClockedSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "stop.csv", crashInput(rand.New(rand.NewPCG(3, 4)), 40, 20))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "run", in, "--rate", "5", "--workers", "16", "--max-duration", "8s", "--progress", "none", "--log-level", "error")
	cmd.Env = binaryEnv(sim.testSim)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Stopped once the pace is running: 16 workers hold slots up to 3s
	// ahead by the time the 5th request has arrived.
	select {
	case <-sim.arrived(5):
	case <-ctx.Done():
		t.Fatalf("5 requests never arrived\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the stop itself (not a synchronisation)
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitStopped {
		t.Fatalf("exit %d (%v), want %d (--max-duration)\n%s", code, err, exitStopped, stderr.String())
	}
	if n, from := sim.busiestSecond(); n > 6 {
		t.Errorf("%d requests in the second from %s, want at most the rate plus one (6)", n, from.Format("15:04:05.000"))
	}
	if n := len(sim.times); n < 12 {
		t.Errorf("only %d requests: the run did not go on after SIGCONT", n)
	}
}
