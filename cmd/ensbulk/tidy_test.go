package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// Plain http to a host that is not loopback is said once, at the default
// log level too (not a second time as a log line).
func TestPlainHTTPWarnsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeFile(t, "in.csv", smallInput(2))
	// An existing report ends the run after connecting, before any request.
	rep := writeFile(t, "exists.report.csv", "")
	env := map[string]string{"ENSWITCH_URL": "http://192.0.2.1:9/", "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "pw"}
	res := runBinaryIn(t, env, dir, "run", in, "--report", rep)
	if res.code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	if n := strings.Count(res.stderr, "plain http"); n != 1 {
		t.Errorf("plain http said %d times, want once:\n%s", n, res.stderr)
	}
}

// After Ctrl-C the summary says "interrupted" and ends with the exit
// line; nothing says it again after that line.
func TestInterruptSaidOnceBeforeExitLine(t *testing.T) {
	t.Parallel()
	sim := startWatchedSim(t, simulator.Config{Seed: 1, Mailboxes: 200})
	in := writeFile(t, "changes.csv", manyRows(60))
	p := startEnsbulk(t, simEnv(sim.testSim), "run", in, "--rate", "20", "--workers", "2")
	<-sim.when(func(s simulator.Stats) bool { return s.Requests >= 5 })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code, _ := p.wait(t, time.Minute)
	stderr := unstamp(p.stderr.String())
	if code != exitAborted {
		t.Fatalf("exit %d, want %d\n%s", code, exitAborted, stderr)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "exit 3" {
		t.Errorf("last line %q, want the summary's %q:\n%s", last, "exit 3", stderr)
	}
	if !strings.Contains(stderr, ": interrupted in ") {
		t.Errorf("the summary does not say the run was interrupted:\n%s", stderr)
	}
}
