package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/simulator"
)

// The operator's day through the real binary: budgets that make progress,
// the README's sequence of commands, printed next steps, nightly files.

// binRun is one invocation of the built binary.
type binRun struct {
	stdout, stderr string
	code           int
}

// runBinary runs the ensbulk binary with env (added to this process's
// environment) in dir, bounded in time.
func runBinary(t *testing.T, env map[string]string, dir string, args ...string) binRun {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return binRun{stdout: out.String(), stderr: errb.String(), code: code}
}

// statusCounts counts a report's rows by status.
func statusCounts(t *testing.T, path string) map[batch.Status]int {
	t.Helper()
	c := map[batch.Status]int{}
	for _, r := range latest(t, path) {
		c[batch.Status(r.Status)]++
	}
	return c
}

// --max-rows N applies N rows, also when the pace holds rows back: a row
// counts against the budget when it is sent, not when a worker takes it.
func TestMaxRowsAppliesThatMany(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "budget.csv", manyRows(40))
	res := runBinary(t, simEnv(sim), "", "run", in, "--rate", "10", "--max-rows", "30")
	if res.code != exitStopped {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	c := statusCounts(t, rep)
	if c[batch.StatusOK] != 30 || c[batch.StatusSkipped] != 10 {
		t.Errorf("statuses %v, want 30 ok and 10 skipped", c)
	}
	if n := sim.Stats().Applied; n != 30 {
		t.Errorf("the server applied %d rows, want 30", n)
	}
}
