package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/internal/lock"
	"github.com/ensbulk/ensbulk/internal/summaryfile"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// Files that are not ensbulk's: never deleted, replaced or written
// through a link; the summary JSON at every exit; signals.

// runCode runs the real binary to its end (runBinary) and returns its
// exit code and output.
func runCode(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	r := runBinary(t, env, args...)
	return r.code, r.stdout, r.stderr
}

// dirNames lists a directory's names.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func readOrEmpty(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// --resume --report naming a file that is not an ensbulk report (an
// input, a config file) is refused with exit 2 and the file is left byte
// for byte, with no sidecar written beside it.
func TestResumeRefusesFileThatIsNotAReport(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "in.csv", smallInput(3))
	for name, content := range map[string]string{
		"one-line jsonl, no newline":   `{"mailbox":"1001","customer":100,"description":"x"}`,
		"one-line jsonl":               `{"mailbox":"1001","customer":100,"description":"x"}` + "\n",
		"config file, no newline":      "[default]\nurl = \"https://switch.example.com\"",
		"one-line config, no newline":  "url = https://switch.example.com",
		"csv input":                    "mailbox,description\n1001,x\n",
		"report header and then other": strings.Join(report.Header(), ",") + "\nnot a record\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, "target", content)
			sim.ResetStats()
			code, _, stderr := runCode(t, simEnv(sim), "run", in, "--resume", "--report", path, "--progress", "none")
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, stderr)
			}
			if got := readOrEmpty(path); got != content {
				t.Errorf("%s now holds %q, want it untouched (%q)", path, got, content)
			}
			if _, err := os.Stat(report.MetaPath(path)); err == nil {
				t.Errorf("a sidecar was written beside %s", path)
			}
			if n := sim.Stats().Requests; n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// A report, or its sidecar, that is a symbolic link is refused (exit 2),
// with or without --resume, whether the link points at a file or
// nowhere: its target is neither written nor created.
func TestReportSymlinkRefused(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "in.csv", smallInput(3))
	const victim = "do not touch\n"
	for _, resume := range []bool{false, true} {
		for _, tt := range []struct {
			name     string
			linkMeta bool // the sidecar is the link, not the report
			dangling bool
		}{
			{name: "report to a file"},
			{name: "report to nothing", dangling: true},
			{name: "sidecar to a file", linkMeta: true},
			{name: "sidecar to nothing", linkMeta: true, dangling: true},
		} {
			name := tt.name
			if resume {
				name += " with --resume"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				target := filepath.Join(t.TempDir(), "victim")
				if !tt.dangling {
					if err := os.WriteFile(target, []byte(victim), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				rep := filepath.Join(dir, "r.report.csv")
				link := rep
				if tt.linkMeta {
					link = report.MetaPath(rep)
				}
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				args := []string{"run", in, "--report", rep, "--progress", "none"}
				if resume {
					args = append(args, "--resume")
				}
				sim.ResetStats()
				code, _, stderr := runCode(t, simEnv(sim), args...)
				if code != exitUsage || !strings.Contains(stderr, "symbolic link") {
					t.Errorf("exit %d, want %d and a refusal naming the link\n%s", code, exitUsage, stderr)
				}
				got, err := os.ReadFile(target)
				switch {
				case tt.dangling && err == nil:
					t.Errorf("the link's target %s was created: %q", target, got)
				case !tt.dangling && string(got) != victim:
					t.Errorf("the link's target holds %q, want %q", got, victim)
				}
				if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
					t.Errorf("the link %s was replaced or removed (%v)", link, err)
				}
				if n := sim.Stats().Requests; n != 0 {
					t.Errorf("%d requests sent", n)
				}
			})
		}
	}
}

// summaryAt reads a summary JSON.
func summaryAt(t *testing.T, b []byte) summaryfile.Summary {
	t.Helper()
	var s summaryfile.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary JSON %q: %v", b, err)
	}
	return s
}

// --summary-json: "-" is standard output; a device and a pipe (also
// through a link, as /dev/stdout is root's link to descriptor 1) are
// written through and stay what they are; a link to a file (anyone's), a
// link to nothing, a directory and a file that is not a summary are
// refused before anything is sent.
func TestSummaryJSONDestinations(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 1})
	run := func(t *testing.T, dest string) (int, string, string) {
		in := writeFile(t, "in.csv", smallInput(2))
		sim.ResetStats()
		return runCode(t, simEnv(sim), "run", in, "--rate", "0", "--progress", "none", "--summary-json", dest)
	}
	t.Run("dash is standard output", func(t *testing.T) {
		code, stdout, stderr := run(t, "-")
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if s := summaryAt(t, []byte(stdout)); s.ExitCode != exitOK || s.Outcome != "ok" {
			t.Errorf("summary on stdout: %+v", s)
		}
		if _, err := os.Stat("-"); err == nil {
			t.Error(`a file named "-" was written`)
		}
	})
	t.Run("a link to descriptor 1, like /dev/stdout", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "stdout")
		if err := os.Symlink("/proc/self/fd/1", link); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := run(t, link)
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if s := summaryAt(t, []byte(stdout)); s.ExitCode != exitOK {
			t.Errorf("summary on stdout: %+v", s)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link (%v)", link, err)
		}
	})
	t.Run("a named pipe", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "fifo")
		mkfifo(t, fifo)
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(fifo) // blocks until the run opens it to write
			if err != nil {
				got <- nil
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- b
		}()
		code, _, stderr := run(t, fifo)
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		select {
		case b := <-got:
			if s := summaryAt(t, b); s.ExitCode != exitOK {
				t.Errorf("summary from the pipe: %+v", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("nothing written to the pipe")
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("%s is no longer a pipe (%v)", fifo, err)
		}
	})
	refusals := []struct {
		name  string
		setup func(t *testing.T, dir string) (dest, target string)
	}{
		{"a link to nothing", func(t *testing.T, dir string) (string, string) {
			target := filepath.Join(dir, "nowhere.json")
			link := filepath.Join(dir, "s.json")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link, target
		}},
		{"a directory", func(t *testing.T, dir string) (string, string) { return dir, "" }},
		{"own link to a file", func(t *testing.T, dir string) (string, string) {
			target, link := filepath.Join(dir, "last.json"), filepath.Join(dir, "link.json")
			if err := os.WriteFile(target, []byte(`{"exit_code":0,"outcome":"ok","stale":"yes, an old run's"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link, target
		}},
		{"a file that is not a summary", func(t *testing.T, dir string) (string, string) {
			target := filepath.Join(dir, "notes.txt")
			if err := os.WriteFile(target, []byte("my notes\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return target, target
		}},
		{"a link of another user", func(t *testing.T, dir string) (string, string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give a link to another user")
			}
			target := filepath.Join(dir, "passwd")
			if err := os.WriteFile(target, []byte("root:x:0:0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, "s.json")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(link, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return link, target
		}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			dest, target := tt.setup(t, t.TempDir())
			before := readOrEmpty(target)
			code, _, stderr := run(t, dest)
			if code != exitUsage || !strings.Contains(stderr, "--summary-json") {
				t.Errorf("exit %d, want %d and a refusal naming --summary-json\n%s", code, exitUsage, stderr)
			}
			if target != "" && readOrEmpty(target) != before {
				t.Errorf("%s changed: %q", target, readOrEmpty(target))
			}
			if n := sim.Stats().Requests; n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// --summary-json is written however the run ends: a stale success left
// by an earlier run is always replaced by this run's exit code.
func TestSummaryJSONOnEveryExit(t *testing.T) {
	stale := `{"version":1,"exit_code":0,"outcome":"ok"}`
	tests := []struct {
		name    string
		env     func(*testSim) map[string]string
		args    func(t *testing.T, in string) []string // the input and the flags of the case
		want    int
		outcome summaryfile.Outcome
	}{
		{"ok", simEnv, func(_ *testing.T, in string) []string { return []string{in} }, exitOK, "ok"},
		{"rows not ok", simEnv, func(t *testing.T, _ string) []string {
			return []string{writeFile(t, "bad.csv", "mailbox,customer,description\n7777,100,x\n")}
		}, exitRows, "rows_not_ok"},
		{"usage: report exists", simEnv, func(t *testing.T, in string) []string {
			return []string{in, "--report", writeFile(t, "exists.report.csv", "")}
		}, exitUsage, "usage_error"},
		{"usage: no such profile", simEnv, func(t *testing.T, in string) []string {
			return []string{in, "--config", writeFile(t, "config.toml", "[profiles.lab]\nurl = \"http://127.0.0.1:1\"\n"), "--profile", "nosuch"}
		}, exitUsage, "usage_error"},
		{"usage: bad flag value", simEnv, func(_ *testing.T, in string) []string { return []string{in, "--workers", "0"} }, exitUsage, "usage_error"},
		{"aborted: wrong password", func(s *testSim) map[string]string {
			e := simEnv(s)
			e["ENSWITCH_PASSWORD"] = "wrong"
			return e
		}, func(_ *testing.T, in string) []string { return []string{in} }, exitAborted, "aborted"},
		{"locked", simEnv, func(t *testing.T, in string) []string {
			rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
			l, err := lock.Acquire(rep + ".lock")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(l.Release)
			return []string{in}
		}, exitLocked, "locked"},
		{"stopped by --max-rows", simEnv, func(_ *testing.T, in string) []string { return []string{in, "--max-rows", "1"} }, exitStopped, "stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 1})
			in := writeFile(t, "in.csv", smallInput(3))
			sj := writeFile(t, "last.json", stale)
			args := append([]string{"run", "--rate", "0", "--progress", "none", "--summary-json", sj}, tt.args(t, in)...)
			code, _, stderr := runCode(t, tt.env(sim), args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s", code, tt.want, tail(stderr, 20))
			}
			b, _ := os.ReadFile(sj)
			s := summaryAt(t, b)
			if s.ExitCode != tt.want || s.Outcome != tt.outcome {
				t.Errorf("summary says exit %d %q, want %d %q\n%s", s.ExitCode, s.Outcome, tt.want, tt.outcome, b)
			}
			if tt.want > exitRows && s.Reason == "" {
				t.Errorf("summary gives no reason:\n%s", b)
			}
		})
	}
}

// Two signals while requests hang: the second exits at once (3), and
// still the spooled copy of standard input is gone, in TMPDIR and beside
// the report, and the summary says the run was interrupted.
func TestSecondSignalLeavesNoSpool(t *testing.T) {
	t.Parallel() // its own simulator and files
	sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: 40, Faults: simulator.Faults{HangRate: 1}})
	tmp, repDir := t.TempDir(), t.TempDir()
	rep, sj := filepath.Join(repDir, "stdin.report.csv"), filepath.Join(repDir, "last.json")
	env := simEnv(sim)
	env["TMPDIR"] = tmp
	cmd := exec.Command(binary, "run", "-", "--format", "csv", "--report", rep, "--summary-json", sj,
		"--rate", "0", "--workers", "4", "--timeout", "5m", "--progress", "none", "--auth", "password",
		"--read", "get") // a list first would be the one request that hangs
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(uniqueRows(40))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })

	waitFor(t, 20*time.Second, "requests to hang", func() bool { return sim.Stats().InFlight == 4 })
	var going summaryfile.Summary
	if err := json.Unmarshal([]byte(readOrEmpty(sj)), &going); err != nil || going.Outcome != "running" || going.ExitCode == exitOK {
		t.Errorf("summary while the run goes: %+v (%v), want running", going, err)
	}
	for i := range 2 {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			waitFor(t, 10*time.Second, "the first signal to be taken", func() bool {
				return strings.Contains(stderr.String(), "finishing requests in flight")
			})
		}
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("still running after the second signal\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitAborted {
		t.Fatalf("exit %d, want %d\n%s", code, exitAborted, stderr.String())
	}
	if names := dirNames(t, tmp); len(names) != 0 {
		t.Errorf("TMPDIR holds %v after exit, want nothing", names)
	}
	for _, n := range dirNames(t, repDir) {
		if strings.HasPrefix(n, ".ensbulk-input") || strings.Contains(n, "stdin-") {
			t.Errorf("the report's directory holds %s after exit", n)
		}
	}
	if s := summaryAt(t, []byte(readOrEmpty(sj))); s.ExitCode != exitAborted || s.Outcome != "interrupted" {
		t.Errorf("summary after the second signal: exit %d %q, want %d interrupted", s.ExitCode, s.Outcome, exitAborted)
	}
}

// SIGHUP (a closed terminal or ssh session) stops the run like SIGTERM:
// in-flight requests end, the report gets every row, exit 3.
func TestSIGHUPStopsLikeSIGTERM(t *testing.T) {
	const rows = 40
	sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: rows, Faults: simulator.Faults{Latency: 50 * time.Millisecond}})
	in := writeFile(t, "hup.csv", uniqueRows(rows))
	p := startEnsbulk(t, simEnv(sim), "run", in, "--rate", "0", "--workers", "2", "--progress", "none")
	waitFor(t, 20*time.Second, "the first requests", func() bool { return sim.Stats().Requests > 2 })
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	code, _ := p.wait(t, 30*time.Second)
	if code != exitAborted {
		t.Fatalf("exit %d, want %d (a SIGHUP must not kill the run)\n%s", code, exitAborted, tail(p.stderr.String(), 20))
	}
	if !strings.Contains(p.stderr.String(), "hangup") {
		t.Errorf("stderr does not name the signal:\n%s", tail(p.stderr.String(), 20))
	}
	if n := countRecords(t, strings.TrimSuffix(in, ".csv")+".report.csv"); n != rows {
		t.Errorf("report has %d lines, want %d", n, rows)
	}
}

// The plain-http warning is decided by the address the host resolves to,
// and reaches stderr even with --log-level error.
func TestPlainHTTPWarningByAddress(t *testing.T) {
	in := writeFile(t, "in.csv", smallInput(2))
	for _, tt := range []struct {
		url  string
		warn bool
	}{
		{"http://127.0.0.1:9/", false},
		{"http://localhost:9/", false},
		{"http://[::1]:9/", false},
		{"http://127.0.0.1.invalid:9/", true},
		{"http://localhost.invalid:9/", true},
		{"http://192.0.2.1:9/", true},
		{"https://192.0.2.1:9/", false},
	} {
		t.Run(tt.url, func(t *testing.T) {
			// An existing report ends the run after connecting, before
			// any request.
			rep := writeFile(t, "exists.report.csv", "")
			env := map[string]string{"ENSWITCH_URL": tt.url, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "pw"}
			res := runCLI(t, context.Background(), env, "run", in, "--report", rep, "--log-level", "error")
			if res.code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
			}
			if got := strings.Contains(res.stderr, "plain http"); got != tt.warn {
				t.Errorf("warned %v, want %v\n%s", got, tt.warn, res.stderr)
			}
		})
	}
}
