package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/simulator"
)

// TestReadmeWalkthrough follows the README's walkthrough against `ensbulk
// sim` line by line: the sim line and the exported settings must be the
// world and credentials `ensbulk sim` serves (the test's simulator is
// that world, --mailboxes 20 with the default seed, on its own port);
// the sed edits run by sh; every ensbulk line runs through the binary
// with the exit code and the reports its comment promises; and after
// the undo the switch holds again what the export read.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Mailboxes: 20, Seed: 1})
	dir := t.TempDir()
	env := simEnv(sim)
	const heading = "## A walkthrough against `ensbulk sim`"
	want := []struct {
		line string // the ensbulk line's arguments, or a shell line
		code int
	}{
		{"sim --mailboxes 20", -1},
		{"export ENSWITCH_URL=http://127.0.0.1:8080 ENSWITCH_USER=admin ENSWITCH_PASSWORD=admin-demo-pass", -1},
		{"export --customer 100 --columns description,timezone --output box.csv", exitOK},
		{`sed -i 's|^1001,\(.*\),.*|1001,\1,Europe/Oslo|; s|^1003,\(.*\),.*|1003,\1,Europe/Londn|' box.csv`, 0},
		{"plan box.csv", exitRows},
		{"run box.csv", exitRows},
		{"summary box.report.csv", exitOK},
		{"sed -i 's|Europe/Londn|Europe/London|' box.csv", 0},
		{"run box.csv --retry-failed box.report.csv", exitOK},
		{"summary box.retry1.report.csv --html box.html", exitOK},
		{"plan box.report.undo.jsonl", exitOK},
		{"run box.report.undo.jsonl", exitOK},
	}
	var got []string
	for _, line := range docBlockLines(t, "../../README.md", heading) {
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			got = append(got, strings.TrimPrefix(line, "ensbulk "))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("the README's walkthrough has %d lines, the test knows %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	exported := filepath.Join(dir, "exported.csv")
	for i, w := range want {
		if got[i] != w.line {
			t.Fatalf("walkthrough line %d is %q, the test knows %q", i+1, got[i], w.line)
		}
		switch {
		case w.code < 0:
			// The sim line and the settings: what `ensbulk sim` serves by
			// default (its address and seed, admin's password) is what
			// the line says and the test's simulator serves, on its own
			// port.
			f := newSimCmd(&Env{}).Flags()
			if a, s := f.Lookup("addr").DefValue, f.Lookup("seed").DefValue; a != "127.0.0.1:8080" || s != "1" {
				t.Errorf("ensbulk sim listens on %s with seed %s by default; the walkthrough says http://127.0.0.1:8080, the test plays seed 1", a, s)
			}
			pass := ""
			for _, u := range sim.Users() {
				if u.Username == "admin" {
					pass = u.Password
				}
			}
			if strings.HasPrefix(w.line, "export ") && !strings.Contains(w.line, "ENSWITCH_PASSWORD="+pass) {
				t.Errorf("the walkthrough's settings %q do not hold admin's password %q", w.line, pass)
			}
			continue
		case strings.HasPrefix(w.line, "sed "):
			if code := runShell(t, dir, w.line); code != w.code {
				t.Fatalf("%s: exit %d", w.line, code)
			}
			continue
		}
		args := shellWords(t, w.line)
		if args[0] == "run" || args[0] == "plan" {
			// The pace raised (the last --rate wins): the sequence is
			// what this test is about.
			args = append(args, "--rate", "0")
		}
		res := runBinaryIn(t, env, dir, args...)
		if res.code != w.code {
			t.Fatalf("ensbulk %s: exit %d, want %d\n%s%s", w.line, res.code, w.code, res.stdout, res.stderr)
		}
		check := func(report string, counts map[batch.Status]int) {
			t.Helper()
			c := statusCounts(t, filepath.Join(dir, report))
			for st, n := range counts {
				if c[string(st)] != n {
					t.Errorf("ensbulk %s: %s has %v, want %v", w.line, report, c, counts)
					return
				}
			}
		}
		switch w.line {
		case "export --customer 100 --columns description,timezone --output box.csv":
			copyFile(t, filepath.Join(dir, "box.csv"), exported, -1)
		case "plan box.csv":
			check("box.plan.csv", map[batch.Status]int{batch.StatusChange: 1, batch.StatusInvalid: 1, batch.StatusUnchanged: 8})
			if !strings.Contains(res.stdout+res.stderr, "Europe/Berlin -> Europe/Oslo") {
				t.Errorf("the plan does not show the edited cell, old -> new:\n%s%s", res.stdout, res.stderr)
			}
		case "run box.csv":
			check("box.report.csv", map[batch.Status]int{batch.StatusOK: 1, batch.StatusInvalid: 1, batch.StatusUnchanged: 8})
		case "summary box.report.csv":
			if !strings.Contains(res.stdout, "ensbulk run box.csv --retry-failed box.report.csv") {
				t.Errorf("the summary does not give the walkthrough's retry:\n%s", res.stdout)
			}
		case "run box.csv --retry-failed box.report.csv":
			check("box.retry1.report.csv", map[batch.Status]int{batch.StatusOK: 2, batch.StatusUnchanged: 8})
		case "summary box.retry1.report.csv --html box.html":
			if fi, err := os.Stat(filepath.Join(dir, "box.html")); err != nil || fi.Size() == 0 {
				t.Errorf("the page: %v", err)
			}
		case "plan box.report.undo.jsonl":
			check("box.report.undo.jsonl.plan.csv", map[batch.Status]int{batch.StatusChange: 2})
		case "run box.report.undo.jsonl":
			check("box.report.undone.csv", map[batch.Status]int{batch.StatusOK: 2})
		}
	}
	// The undo put back what the export read.
	after := runBinaryIn(t, env, dir, "export", "--customer", "100", "--columns", "description,timezone", "--output", "after.csv")
	if after.code != exitOK {
		t.Fatalf("export after the undo: exit %d\n%s", after.code, after.stderr)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "after.csv"))
	b, _ := os.ReadFile(exported)
	if len(b) == 0 || !slices.Equal(a, b) {
		t.Errorf("after the undo the switch holds\n%s\nthe export before the edits read\n%s", a, b)
	}
}
