package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// stampRE is the time console.Stamper starts a line with off a terminal.
var stampRE = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[-+]\d\d:\d\d)\t`)

// unstamp is stderr of the binary without the times at the start of its
// lines, for tests that read what the lines say.
func unstamp(stderr string) string { return stampRE.ReplaceAllString(stderr, "") }

// Off a terminal every line the binary writes to stderr starts with an
// RFC 3339 time and a tab: the log lines, the plain warnings, the
// rotation notice and the summary alike; blank lines stay blank.
func TestPlainStderrLinesStampedOffTerminal(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	in := filepath.Join(dir, "night.csv")
	if err := os.WriteFile(in, []byte(twoRows), 0o644); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("admin-demo-pass\n"), 0o644); err != nil { // readable by others: a warning
		t.Fatal(err)
	}
	env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin"}
	if res := runBinaryIn(t, env, dir, "run", "night.csv", "--rate", "0", "--password-file", pw); res.code != exitRows {
		t.Fatalf("first night: exit %d, want %d\n%s", res.code, exitRows, res.stderr)
	}
	if err := os.WriteFile(in, []byte(strings.Replace(twoRows, "Reception", "Front desk", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runBinaryIn(t, env, dir, "run", "night.csv", "--rate", "0", "--password-file", pw, "--resume", "--rotate")
	if res.code != exitRows {
		t.Fatalf("second night: exit %d, want %d\n%s", res.code, exitRows, res.stderr)
	}
	twice := regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n") {
		if l == "" {
			continue
		}
		stamp, rest, ok := strings.Cut(l, "\t")
		if _, err := time.Parse(time.RFC3339Nano, stamp); !ok || err != nil || !stampRE.MatchString(l) {
			t.Errorf("line without an RFC 3339 time first: %q", l)
			continue
		}
		if twice.MatchString(rest) {
			t.Errorf("a line with two times: %q", l)
		}
		for _, what := range []string{"readable by other users", "that report is kept as", "row not applied", "ensbulk run night.csv: finished", "exit 1"} {
			if strings.Contains(rest, what) {
				seen[what] = true
			}
		}
	}
	for _, what := range []string{"readable by other users", "that report is kept as", "row not applied", "ensbulk run night.csv: finished", "exit 1"} {
		if !seen[what] {
			t.Errorf("no stamped line says %q:\n%s", what, res.stderr)
		}
	}
}
