package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// The operator's day through the real binary: profiles, -q and -v, one
// format on stderr off a terminal, --version, plurals. The terminal's
// side (prompt, bar, colour) is in tty_linux_test.go.

// operatorEnv is an environment for the binary with no ENSWITCH_ or
// ENSBULK_ variable of whoever runs the tests, plus set.
func operatorEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ENSWITCH_") || strings.HasPrefix(k, "ENSBULK_") || k == "NO_COLOR" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// runBinary runs the binary to its end (at most two minutes) off a
// terminal.
func runBinary(t *testing.T, env map[string]string, args ...string) cli {
	t.Helper()
	return runBinaryIn(t, env, "", args...)
}

// twoRows is an input of one good row and one the server refuses (a PIN
// of two digits).
const twoRows = "mailbox,customer,description,pin\n1001,100,Reception,483920\n1003,100,Dr. Aasen,12\n"

func TestProfileThroughBinary(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lab.password"), []byte("admin-demo-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// prod points at a closed port as a user the simulator does not know:
	// a run that used either would not reach the simulator.
	body := fmt.Sprintf(`default_profile = "lab"

[profiles.lab]
url = %q
user = "admin"
password_file = "lab.password"
rate = 0
workers = 2

[profiles.prod]
url = "http://127.0.0.1:1"
user = "nobody"
password_file = "lab.password"
`, sim.URL)
	config := writeConfig(t, dir, body, 0o600)
	// The same file at the default place: <user config dir>/ensbulk.
	xdg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(xdg, "ensbulk"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, filepath.Join(xdg, "ensbulk"), strings.ReplaceAll(body, `"lab.password"`, fmt.Sprintf("%q", filepath.Join(dir, "lab.password"))), 0o600)

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		requests bool   // the simulator is reached
		stderr   string // in stderr
	}{
		{name: "--profile names the profile", env: map[string]string{"ENSBULK_CONFIG": config}, args: []string{"--profile", "lab"}, code: 1, requests: true},
		{name: "ENSBULK_PROFILE names the profile", env: map[string]string{"ENSBULK_CONFIG": config, "ENSBULK_PROFILE": "lab"}, code: 1, requests: true},
		{name: "--config and the file's default_profile", args: []string{"--config", config}, code: 1, requests: true},
		{name: "the user config dir's file", env: map[string]string{"XDG_CONFIG_HOME": xdg}, code: 1, requests: true},
		{name: "flags override the profile", env: map[string]string{"ENSBULK_CONFIG": config}, args: []string{"--profile", "prod", "--url", sim.URL, "--user", "admin"}, code: 1, requests: true},
		{name: "the profile is used where flags are not given", env: map[string]string{"ENSBULK_CONFIG": config}, args: []string{"--profile", "prod", "--url", sim.URL}, code: 3, requests: true, stderr: "authentication refused for user nobody"},
		{name: "no such profile", env: map[string]string{"ENSBULK_CONFIG": config}, args: []string{"--profile", "staging"}, code: 2, stderr: `profile "staging": no such profile; the file has: lab, prod`},
		{name: "missing config file", args: []string{"--config", filepath.Join(dir, "none.toml"), "--profile", "lab"}, code: 2, stderr: "the config file does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := writeFile(t, "changes.csv", twoRows)
			sim.ResetStats()
			res := runBinary(t, tt.env, append([]string{"run", in, "--progress", "none"}, tt.args...)...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", res.code, tt.code, res.stderr)
			}
			if got := sim.Stats().Requests; (got > 0) != tt.requests {
				t.Errorf("simulator saw %d requests; want some: %v", got, tt.requests)
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, res.stderr)
			}
			if tt.code == 1 {
				if r := latest(t, strings.TrimSuffix(in, ".csv")+".report.csv"); r[1].Status != "ok" || r[2].Status != "invalid" {
					t.Errorf("report: row 1 %q, row 2 %q; want ok, invalid", r[1].Status, r[2].Status)
				}
			}
		})
	}

	t.Run("a config file others can write is refused", func(t *testing.T) {
		bad := writeConfig(t, t.TempDir(), body, 0o666)
		in := writeFile(t, "changes.csv", twoRows)
		sim.ResetStats()
		res := runBinary(t, map[string]string{"ENSBULK_CONFIG": bad}, "validate", in, "--profile", "lab")
		if res.code != 2 || !strings.Contains(res.stderr, "writable by group or others") {
			t.Fatalf("exit %d, want 2 naming the mode\nstderr:\n%s", res.code, res.stderr)
		}
		if n := sim.Stats().Requests; n != 0 {
			t.Errorf("simulator saw %d requests, want none", n)
		}
		if _, err := os.Stat(strings.TrimSuffix(in, ".csv") + ".validate.report.csv"); err == nil {
			t.Errorf("a report was left behind")
		}
		if _, err := os.Stat(strings.TrimSuffix(in, ".csv") + ".report.csv"); err == nil {
			t.Errorf("a report was left behind")
		}
	})
	// Every command that talks to a switch takes the profile, pace
	// settings included, even where it has no --rate or --workers.
	t.Run("plan and export take the profile too", func(t *testing.T) {
		env := map[string]string{"ENSBULK_CONFIG": config}
		in := writeFile(t, "changes.csv", twoRows)
		sim.ResetStats()
		if res := runBinary(t, env, "plan", in, "--progress", "none"); res.code != 1 || sim.Stats().Requests == 0 {
			t.Errorf("plan: exit %d, %d requests; want 1 and some\n%s", res.code, sim.Stats().Requests, res.stderr)
		}
		sim.ResetStats()
		res := runBinary(t, env, "export", "--customer", "100")
		if res.code != 0 || !strings.HasPrefix(res.stdout, "mailbox,") || sim.Stats().Requests == 0 {
			t.Errorf("export: exit %d, %d requests, stdout %.80q; want 0, some, a CSV\n%s", res.code, sim.Stats().Requests, res.stdout, res.stderr)
		}
	})
}

func TestQuietAndVerbose(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}

	t.Run("-q prints the final line only", func(t *testing.T) {
		in := writeFile(t, "changes.csv", twoRows)
		res := runBinary(t, env, "run", in, "-q", "--rate", "0")
		if res.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(unstamp(res.stderr), "\n"), "\n")
		want := regexp.MustCompile(`^ensbulk run \S+changes\.csv: finished in \S+: 2 rows \(1 ok, 1 invalid\); report \S+changes\.report\.csv; next: ensbulk run \S+ --retry-failed \S+; exit 1$`)
		if len(lines) != 1 || !want.MatchString(lines[0]) {
			t.Errorf("stderr with -q: %d lines, want the final line alone matching %s:\n%s", len(lines), want, res.stderr)
		}
		// Without -q the same run says more: the check above can fail.
		in2 := writeFile(t, "changes.csv", twoRows)
		if res := runBinary(t, env, "run", in2, "--rate", "0"); !strings.Contains(res.stderr, "row not applied") {
			t.Errorf("without -q, no warning for the refused row:\n%s", res.stderr)
		}
	})

	t.Run("-v logs every request, secrets redacted", func(t *testing.T) {
		in := writeFile(t, "changes.csv", twoRows)
		res := runBinary(t, env, "run", in, "-v", "--rate", "0")
		if res.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
		}
		// Two rows validated, one applied.
		reqs := regexp.MustCompile(`(?m)^\S+\s+DEBUG\s+request\s.*"function": "mailboxes/update"`).FindAllString(res.stderr, -1)
		if len(reqs) != 3 {
			t.Errorf("%d request lines, want 3:\n%s", len(reqs), res.stderr)
		}
		for _, want := range []string{"auth_password=REDACTED", "pin=REDACTED", "mailbox=1001", "validation=1", `"http": 200`} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("-v output lacks %q:\n%s", want, res.stderr)
			}
		}
		for _, secret := range []string{"admin-demo-pass", "483920"} {
			if strings.Contains(res.stderr, secret) {
				t.Errorf("-v output shows the secret %q:\n%s", secret, res.stderr)
			}
		}
	})

	t.Run("-q and -v together are refused", func(t *testing.T) {
		in := writeFile(t, "changes.csv", twoRows)
		sim.ResetStats()
		res := runBinary(t, env, "run", in, "-q", "-v")
		if res.code != 2 || !strings.Contains(res.stderr, "-q and -v do not go together") {
			t.Errorf("exit %d, want 2 saying why:\n%s", res.code, res.stderr)
		}
		if n := sim.Stats().Requests; n != 0 {
			t.Errorf("simulator saw %d requests, want none", n)
		}
	})
}

// TestStderrOneFormatOffTerminal: a run piped to a file writes log lines
// and the summary as text, never a JSON line among them.
func TestStderrOneFormatOffTerminal(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	in := writeFile(t, "changes.csv", twoRows)
	res := runBinary(t, env, "run", in, "--rate", "0", "--progress-interval", "1ms")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	logLine := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[-+Z][\d:]*\t(DEBUG|INFO|WARN|ERROR)\t`)
	logs := 0
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "{") {
			t.Errorf("a JSON line on stderr: %s", l)
		}
		if logLine.MatchString(l) {
			logs++
		}
		if strings.Contains(l, "\x1b[") {
			t.Errorf("colour off a terminal: %q", l)
		}
	}
	// run starting, progress of both phases, the refused row.
	if logs < 3 {
		t.Errorf("%d log lines in the console format, want at least 3:\n%s", logs, res.stderr)
	}
	for _, want := range []string{"\tINFO\tprogress\t", "\tWARN\trow not applied\t", "2 rows in the input:"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
}

func TestPluralsThroughBinary(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	in := writeFile(t, "one.csv", "mailbox,customer,description\n1001,100,Reception\n")
	res := runBinary(t, env, "validate", in, "--rate", "0")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"1 row in the input:", "  1  row in all\n", "1 request (0 retries,"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("validate of one row: stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if _, err := os.Stat(rep); err != nil {
		rep = strings.TrimSuffix(in, ".csv") + ".validate.report.csv"
	}
	sum := runBinary(t, nil, "summary", rep)
	if !strings.Contains(sum.stdout, ": 1 row\n") {
		t.Errorf("summary of one row:\n%s", sum.stdout)
	}
	for _, out := range []string{res.stderr, sum.stdout} {
		if m := regexp.MustCompile(`\b1 (rows|requests|mailboxes)\b`).FindString(out); m != "" {
			t.Errorf("%q in:\n%s", m, out)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	// TestMain's binary has its version stamped as a release's is.
	for _, args := range [][]string{{"--version"}, {"version"}} {
		res := runBinary(t, nil, args...)
		if res.code != exitOK || res.stdout != "ensbulk "+testVersion+" (commit "+testCommit+")\n" {
			t.Errorf("%s: exit %d, %q, want the version once on one line", args, res.code, res.stdout)
		}
	}
	// An unstamped build (this test binary's): --version and version
	// agree, on one line.
	a := runCLI(t, context.Background(), nil, "--version")
	b := runCLI(t, context.Background(), nil, "version")
	if a.code != exitOK || a.stdout != b.stdout || strings.Count(a.stdout, "\n") != 1 || !strings.HasPrefix(a.stdout, "ensbulk ") {
		t.Errorf("--version: exit %d %q; version: %q", a.code, a.stdout, b.stdout)
	}
}
