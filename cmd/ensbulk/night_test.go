package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// --summary-json never names the input, the report or its sidecar:
// refused before anything is read or sent, the file left as it was.
func TestNightSummaryJSONNotOurFiles(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	content := "mailbox,customer,description\n1001,100,a\n"
	in := filepath.Join(dir, "changes.csv")
	if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"changes.csv", "./changes.csv", "changes.report.csv", "changes.report.csv.meta.json"} {
		res := runBinaryIn(t, simEnv(sim), dir, "run", "changes.csv", "--rate", "0", "--summary-json", name)
		if res.code != exitUsage || !strings.Contains(res.stderr, "--summary-json") {
			t.Errorf("--summary-json %s: exit %d, want %d and a refusal\n%s", name, res.code, exitUsage, res.stderr)
		}
	}
	if b, _ := os.ReadFile(in); string(b) != content {
		t.Errorf("the input now holds %q", b)
	}
	if n := sim.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// The README's cron line (ENSWITCH_URL, ENSWITCH_USER and
// ENSWITCH_PASSWORD from an env file) works on a machine whose config
// has a default_profile naming the same switch and user: the
// environment's password is that account's. Another user is still
// refused.
func TestNightCronWithDefaultProfile(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	pw := filepath.Join(dir, "lab.password")
	if err := os.WriteFile(pw, []byte("admin-demo-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	conf := fmt.Sprintf("default_profile = \"lab\"\n\n[profiles.lab]\nurl = %q\nuser = \"admin\"\npassword_file = %q\n", sim.URL, pw)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nightly.csv"), []byte("mailbox,customer,description\n1001,100,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := simEnv(sim)
	env["ENSBULK_CONFIG"] = cfg
	res := runBinaryIn(t, env, dir, "run", "nightly.csv", "--resume", "--rotate", "--rate", "5", "--summary-json", "last.json")
	if res.code != exitOK {
		t.Fatalf("cron line with a default_profile of the same account: exit %d\n%s", res.code, res.stderr)
	}
	env["ENSWITCH_USER"] = "acme"
	env["ENSWITCH_PASSWORD"] = "acme-demo-pass"
	res = runBinaryIn(t, env, dir, "run", "nightly.csv", "--resume", "--rotate", "--rate", "5")
	if res.code != exitUsage {
		t.Errorf("another user than the profile's: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
}

// A run started before its --window opens says that it waits and when
// the window opens, and its --summary-json says "waiting" meanwhile.
func TestNightWindowWaitIsSaid(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	in := filepath.Join(dir, "nightly.csv")
	if err := os.WriteFile(in, []byte("mailbox,customer,description\n1001,100,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sj := filepath.Join(dir, "last.json")
	now := time.Now().UTC()
	spec := fmt.Sprintf("%s-%s UTC", now.Add(2*time.Hour).Format("15:04"), now.Add(3*time.Hour).Format("15:04"))
	p := startEnsbulk(t, simEnv(sim), "run", in, "--rate", "0", "--window", spec, "--summary-json", sj, "--progress", "none")
	waitFor(t, time.Minute, "the wait to be said", func() bool { return strings.Contains(p.stderr.String(), "waiting for --window") })
	waitFor(t, time.Minute, "the summary to say waiting", func() bool {
		b, _ := os.ReadFile(sj)
		return strings.Contains(string(b), `"outcome": "waiting"`) || strings.Contains(string(b), `"outcome":"waiting"`)
	})
	line := p.stderr.String()
	opens := now.Add(2 * time.Hour).Truncate(time.Minute).Local().Format("2006-01-02 15:04 MST")
	if !strings.Contains(line, "it opens at "+opens) {
		t.Errorf("the wait does not say when the window opens:\n%s", line)
	}
	if n := sim.Stats().Applied; n != 0 {
		t.Errorf("%d rows applied outside the window", n)
	}
}
