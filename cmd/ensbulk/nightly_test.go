package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// nightFile is night n's new file: other mailboxes, other descriptions.
func nightFile(n int) string {
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	for i := range 3 {
		fmt.Fprintf(&b, "%d,100,night %d row %d\n", 1001+2*(3*n+i), n, i+1)
	}
	return b.String()
}

// openWindow is a --window spec open now and for the next two hours.
func openWindow() string {
	now := time.Now().UTC()
	from, to := now.Add(-time.Hour), now.Add(2*time.Hour)
	return fmt.Sprintf("%02d:%02d-%02d:%02d UTC", from.Hour(), from.Minute(), to.Hour(), to.Minute())
}

// playNights runs nights 1 to 3, each with a new nightly.csv in dir,
// through run, and checks that each night applies its own file and that
// the earlier nights' reports are kept.
func playNights(t *testing.T, sim *testSim, dir string, run func(night int) int, okCodes ...int) {
	t.Helper()
	for night := 1; night <= 3; night++ {
		if err := os.WriteFile(filepath.Join(dir, "nightly.csv"), []byte(nightFile(night)), 0o644); err != nil {
			t.Fatal(err)
		}
		code := run(night)
		if !slices.Contains(okCodes, code) {
			t.Fatalf("night %d: exit %d, want one of %v", night, code, okCodes)
		}
		for i := range 3 {
			box := fmt.Sprint(1001 + 2*(3*night+i))
			if m, _ := sim.Mailbox(100, box); m["description"] != fmt.Sprintf("night %d row %d", night, i+1) {
				t.Errorf("night %d: mailbox %s description %q", night, box, m["description"])
			}
		}
		kept, _ := filepath.Glob(filepath.Join(dir, "nightly.report.2*[0-9]Z.csv"))
		undos, _ := filepath.Glob(filepath.Join(dir, "nightly.report.2*.undo.jsonl"))
		if len(undos) != night-1 {
			// Each night's undo file is set aside with its report, so the
			// next night starts with none and can undo its own changes.
			t.Errorf("night %d: %d earlier undo files kept, want %d: %v", night, len(undos), night-1, undos)
		}
		if len(kept) != night-1 {
			t.Errorf("night %d: %d earlier reports kept, want %d: %v", night, len(kept), night-1, kept)
		}
	}
}

// docs/operating.md's crontab line, exactly as written but for its paths and
// the window (made open now), run by sh, plays three nights with a new
// file each night: every night exits 0 and applies its own file.
func TestReadmeCronNights(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	b, err := os.ReadFile("../../docs/operating.md")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "0 2 * * * "); ok {
			line = v
		}
	}
	if line == "" {
		t.Fatal("docs/operating.md has no crontab line")
	}
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte("ENSWITCH_URL="+sim.URL+"\nENSWITCH_USER=admin\nENSWITCH_PASSWORD=admin-demo-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmdline := strings.NewReplacer(
		"/etc/ensbulk/env", envFile,
		"/usr/local/bin/ensbulk", binary,
		"/srv/ensbulk/nightly.csv", filepath.Join(dir, "nightly.csv"),
		"/var/lib/ensbulk/last.json", filepath.Join(dir, "last.json"),
		"/var/log/ensbulk.log", filepath.Join(dir, "ensbulk.log"),
		"'01:00-05:00 Europe/London'", "'"+openWindow()+"'",
	).Replace(line)
	if strings.Contains(cmdline, "/etc/") || strings.Contains(cmdline, "/var/") || strings.Contains(cmdline, "Europe/London") {
		t.Fatalf("a path or the window of the crontab line was not replaced: %s", cmdline)
	}
	playNights(t, sim, dir, func(night int) int {
		code := runShell(t, dir, cmdline)
		if code != exitOK {
			log, _ := os.ReadFile(filepath.Join(dir, "ensbulk.log"))
			t.Logf("night %d log:\n%s", night, log)
		}
		return code
	}, exitOK)
}

// runShell runs a command line with sh -c in dir, with a bare
// environment (cron's), and returns its exit code.
func runShell(t *testing.T, dir, cmdline string) int {
	t.Helper()
	r := runCommand(t, []string{"PATH=/usr/bin:/bin"}, dir, "/bin/sh", "-c", cmdline)
	return r.code
}

// docs/operating.md's systemd service, its ExecStart run in its
// WorkingDirectory with its EnvironmentFile, plays three nights; each
// exit is one the unit counts as success.
func TestReadmeSystemdNights(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	b, err := os.ReadFile("../../docs/operating.md")
	if err != nil {
		t.Fatal(err)
	}
	var exec []string
	okCodes := []int{exitOK}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			exec = shellWords(t, v)
		}
		if v, ok := strings.CutPrefix(l, "SuccessExitStatus="); ok {
			for _, f := range strings.Fields(v) {
				var n int
				if _, err := fmt.Sscan(f, &n); err != nil {
					t.Fatalf("SuccessExitStatus %q", v)
				}
				okCodes = append(okCodes, n)
			}
		}
	}
	if len(exec) < 2 || exec[0] != "/usr/local/bin/ensbulk" {
		t.Fatalf("docs/operating.md's ExecStart is %q", exec)
	}
	args := exec[1:]
	for i, a := range args {
		switch {
		case a == "/var/lib/ensbulk/last.json":
			args[i] = filepath.Join(t.TempDir(), "last.json")
		case strings.Contains(a, "Europe/London"):
			args[i] = openWindow()
		}
	}
	dir := t.TempDir() // the WorkingDirectory
	env := simEnv(sim) // the EnvironmentFile
	playNights(t, sim, dir, func(night int) int {
		r := runBinaryIn(t, env, dir, args...)
		if r.code != exitOK {
			t.Logf("night %d:\n%s", night, r.stderr)
		}
		return r.code
	}, okCodes...)
}
