package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// Every printed next: step runs as printed: a plan or validate with rows
// to fix says to plan or validate again, and doing so replaces its own
// earlier report instead of being refused.
func TestNextHintPlanAndValidateAgain(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	env := simEnv(sim)
	for _, verb := range []string{"plan", "validate"} {
		t.Run(verb, func(t *testing.T) {
			dir := t.TempDir()
			content := "mailbox,customer,description,timezone\n1001,100,a,Europe/London\n1003,100,b,Europe/Londn\n"
			in := filepath.Join(dir, "e.csv")
			if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			res := runBinaryIn(t, env, dir, verb, "e.csv")
			if res.code != exitRows {
				t.Fatalf("%s: exit %d, want %d\n%s", verb, res.code, exitRows, res.stderr)
			}
			next := nextCommand(t, res.stderr)
			if want := []string{verb, "e.csv"}; !slices.Equal(next, want) {
				t.Errorf("next: got %q, want %q", next, want)
			}
			// As printed, before the fix: it runs (the same rows not ok).
			again := runBinaryIn(t, env, dir, next...)
			if again.code != exitRows {
				t.Fatalf("%v as printed: exit %d, want %d\n%s", next, again.code, exitRows, again.stderr)
			}
			if !strings.Contains(again.stderr, "replaced the earlier "+verb+" report") {
				t.Errorf("%v does not say it replaced its earlier report:\n%s", next, again.stderr)
			}
			if err := os.WriteFile(in, []byte(strings.Replace(content, "Londn", "London", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			fixed := runBinaryIn(t, env, dir, next...)
			if fixed.code != exitOK {
				t.Fatalf("%v after the fix: exit %d, want 0\n%s", next, fixed.code, fixed.stderr)
			}
			// summary of the report says the same step.
			rep := filepath.Join(dir, "e."+verb+".report.csv")
			if verb == "plan" {
				rep = filepath.Join(dir, "e.plan.csv")
			}
			if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if res := runBinaryIn(t, env, dir, verb, "e.csv"); res.code != exitRows {
				t.Fatalf("%s: exit %d, want %d\n%s", verb, res.code, exitRows, res.stderr)
			}
			sum := runBinaryIn(t, env, dir, "summary", filepath.Base(rep))
			if got := adviceCommand(t, sum.stdout); !slices.Equal(got, next) {
				t.Errorf("summary advises %q, the %s printed %q", got, verb, next)
			}
		})
	}
}

// A plan never replaces a report it does not own: a run's report, or a
// file that is not a report at all; the refusal of the latter does not
// advise --resume, which could not work.
func TestNextHintNotAReport(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	env := simEnv(sim)
	dir := t.TempDir()
	in := filepath.Join(dir, "e.csv")
	if err := os.WriteFile(in, []byte("mailbox,customer,description\n1001,100,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"plan", "validate", "run"} {
		res := runBinaryIn(t, env, dir, verb, "e.csv", "--report", "notes.txt")
		if res.code != exitUsage {
			t.Fatalf("%s --report notes.txt: exit %d, want %d\n%s", verb, res.code, exitUsage, res.stderr)
		}
		if strings.Contains(res.stderr, "--resume") || !strings.Contains(res.stderr, "not a report") {
			t.Errorf("%s --report notes.txt: want a refusal that says it is not a report, without --resume:\n%s", verb, res.stderr)
		}
	}
	if b, _ := os.ReadFile(notes); string(b) != "my notes\n" {
		t.Errorf("notes.txt now holds %q", b)
	}
	// A run's report is not a plan's to replace.
	if res := runBinaryIn(t, env, dir, "run", "e.csv", "--rate", "0"); res.code != exitOK {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	res := runBinaryIn(t, env, dir, "plan", "e.csv", "--report", "e.report.csv")
	if res.code != exitUsage || !strings.Contains(res.stderr, "already exists") {
		t.Errorf("plan --report of a run's report: exit %d, want %d and a refusal\n%s", res.code, exitUsage, res.stderr)
	}
}

// After Ctrl-C, run and summary advise the same next step, and it runs.
func TestNextHintAfterCtrlCSameInSummary(t *testing.T) {
	t.Parallel()
	sim := startWatchedSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	in := filepath.Join(dir, "night.csv")
	if err := os.WriteFile(in, []byte(manyRows(20)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := simEnv(sim.testSim)
	p := startEnsbulk(t, env, "run", in, "--rate", "20", "--progress", "none")
	<-sim.when(func(s simulator.Stats) bool { return s.Applied >= 3 })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, time.Minute); code != exitAborted {
		t.Fatalf("exit %d, want %d\n%s", code, exitAborted, p.stderr.String())
	}
	next := nextCommand(t, p.stderr.String())
	sum := runBinaryIn(t, env, dir, "summary", strings.TrimSuffix(in, ".csv")+".report.csv")
	if got := adviceCommand(t, sum.stdout); !slices.Equal(got, next) {
		t.Errorf("summary advises %q, the interrupted run printed %q", got, next)
	}
	if res := runBinaryIn(t, env, dir, next...); res.code != exitOK {
		t.Errorf("%v: exit %d, want 0\n%s", next, res.code, res.stderr)
	}
}

// adviceCommand is the command line the summary command advises: the
// indented line after its last line ending in ':'.
func adviceCommand(t *testing.T, stdout string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "  ensbulk ") {
		t.Fatalf("summary advises no command:\n%s", stdout)
	}
	return unquoteWords(t, strings.TrimSpace(last))[1:]
}
