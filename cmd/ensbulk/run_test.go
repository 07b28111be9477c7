package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

func TestSamplesReachExpectedState(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"changes.csv", "changes.jsonl"} {
		t.Run(name, func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 1})
			initial := sim.State()
			in := sample(t, name)
			res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0", "--workers", "8")
			if res.code != exitRows {
				t.Fatalf("exit %d, want %d (the samples hold deliberately wrong rows)\nstderr:\n%s", res.code, exitRows, res.stderr)
			}
			rep := report.DefaultPath(in, report.CSV) // changes.jsonl.report.csv: not the CSV's
			got := latest(t, rep)
			if len(got) != 58 {
				t.Fatalf("report has %d rows, want 58", len(got))
			}
			if n := countRecords(t, rep); n != 58 {
				t.Errorf("report has %d lines, want exactly one per row (58)", n)
			}
			want := map[int]struct{ status, phase, code, key string }{
				53: {"invalid", "validate", "400", "pin"},
				54: {"invalid", "validate", "400", "timezone"},
				55: {"invalid", "local", "", "envelope"},
				56: {"invalid", "validate", "400", "pager"},
				57: {"failed", "validate", "404", "mailbox"},
				58: {"failed", "validate", "403", ""},
			}
			for row, rec := range got {
				w, bad := want[row]
				if !bad {
					w.status, w.phase, w.code = "ok", "apply", "204"
				}
				if rec.Status != w.status || rec.Phase != w.phase || rec.Code != w.code || rec.Key != w.key {
					t.Errorf("row %d = %s/%s/%s/%s, want %s/%s/%s/%s (%s)", row, rec.Status, rec.Phase, rec.Code, rec.Key, w.status, w.phase, w.code, w.key, rec.Message)
				}
				if bad && rec.Message == "" {
					t.Errorf("row %d has no message", row)
				}
			}
			checkState(t, sim, expectState(t, initial, in, rep))
		})
	}
}

func TestWrongPasswordAbortsWithinWorkers(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	env := simEnv(sim)
	env["ENSWITCH_PASSWORD"] = "wrong"
	const workers = 4
	res := runCLI(t, context.Background(), env, "run", in, "--rate", "0", "--workers", fmt.Sprint(workers))
	if res.code != exitAborted {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitAborted, res.stderr)
	}
	if got := sim.Stats().Requests; got > workers {
		t.Errorf("%d requests with a wrong password, want at most --workers (%d)", got, workers)
	}
	// The preflight's login found it: no row was sent, and no report
	// stands in the way of the rerun with the right password.
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if _, err := os.Lstat(rep); err == nil {
		t.Errorf("report %s left by a run that sent no row", rep)
	}
	if !strings.Contains(res.stderr, "authentication") {
		t.Errorf("stderr does not say why it stopped:\n%s", res.stderr)
	}
}

// Three rows for one mailbox end with the last row's values, whatever the
// scheduling, in 50 runs with 64 workers.
func TestSameMailboxLastRowWins(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("mailbox,customer,description,timezone\n")
	for i := range 40 { // other mailboxes keep the pool busy
		fmt.Fprintf(&b, "%d,%d,filler %d,\n", 1021+i, 100+(20+i)%2, i)
	}
	b.WriteString("1001,100,first,Europe/London\n")
	b.WriteString("1001,100,second,Europe/Berlin\n")
	b.WriteString("1001,100,third,Europe/Oslo\n")
	content := b.String()
	// Runs side by side, each on its own simulator (the engine's order
	// is hunted 20 times over in batch, without HTTP).
	for run := range 12 {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, simulator.Config{Seed: 1})
			in := writeFile(t, "three.csv", content)
			res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0", "--workers", "64", "--progress", "none")
			if res.code != exitOK {
				t.Fatalf("run %d: exit %d\n%s", run, res.code, res.stderr)
			}
			m, _ := sim.Mailbox(100, "1001")
			if m["description"] != "third" || m["timezone"] != "Europe/Oslo" {
				t.Fatalf("run %d: mailbox 1001 = %q/%q, want third/Europe/Oslo", run, m["description"], m["timezone"])
			}
			var order []string
			for _, a := range sim.Audit() {
				if a.Mailbox == "1001" {
					order = append(order, a.Params["description"])
				}
			}
			if strings.Join(order, ",") != "first,second,third" {
				t.Fatalf("run %d: applied in order %v", run, order)
			}
		})
	}
}

// The request rate is held: at --rate just under the simulator's limit,
// the simulator sees no rate-limit violation (counts, not timings).
func TestRateHeldUnderServerLimit(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 1, Faults: simulator.Faults{RateLimit: 50, RateBurst: 3}}) // a burst of 3 absorbs loopback scheduling jitter, not a client burst
	in := sample(t, "changes.csv")
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "45", "--workers", "16")
	if res.code != exitRows {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	st := sim.Stats()
	if st.RateLimitViolations != 0 {
		t.Errorf("rate-limit violations = %d at --rate 45 under a limit of 50", st.RateLimitViolations)
	}
	if st.Requests < 100 {
		t.Errorf("only %d requests: the run did not do its work", st.Requests)
	}
}

// A canary password appears in no output, log line or report, even at
// debug level and when the server refuses it.
func TestCanaryPasswordNeverShown(t *testing.T) {
	t.Parallel()
	const canary = "canary-PW-7f3a9c"
	for _, tc := range []struct {
		name string
		pw   string
	}{{"refused", canary}} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 1})
			in := sample(t, "changes.csv")
			env := simEnv(sim)
			env["ENSWITCH_PASSWORD"] = tc.pw
			summary := filepath.Join(t.TempDir(), "summary.json")
			res := runCLI(t, context.Background(), env, "run", in, "--log-level", "debug", "--summary-json", summary)
			rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
			for name, text := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "report": readOr(rep), "sidecar": readOr(rep + ".meta.json"), "summary": readOr(summary)} {
				if strings.Contains(text, canary) {
					t.Errorf("the password appears in %s", name)
				}
			}
		})
	}
}

func readOr(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func TestValidateOnlyChangesNothing(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	before, _ := json.Marshal(sim.State())
	in := sample(t, "changes.jsonl")
	res := runCLI(t, context.Background(), simEnv(sim), "validate", in, "--rate", "0")
	if res.code != exitRows {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	after, _ := json.Marshal(sim.State())
	if string(before) != string(after) {
		t.Error("validate changed the simulator's state")
	}
	got := latest(t, in+".validate.report.csv")
	valid := 0
	for _, r := range got {
		if r.Status == "valid" {
			valid++
		}
	}
	if valid != 52 {
		t.Errorf("valid rows = %d, want 52", valid)
	}
	if sim.Stats().Applied != 0 {
		t.Errorf("applied = %d, want 0", sim.Stats().Applied)
	}
}

func TestUsageErrorsExit2AndSendNothing(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	noPW := simEnv(sim)
	delete(noPW, "ENSWITCH_PASSWORD")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no password off a terminal", noPW, []string{"run", in}, "ENSWITCH_PASSWORD"},
		{"no url", map[string]string{"ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "x"}, []string{"run", in}, "ENSWITCH_URL"},
		{"unknown flag", simEnv(sim), []string{"run", in, "--password", "x"}, "unknown flag"},
		{"no file", simEnv(sim), []string{"run"}, "run needs the input FILE"},
		{"missing file", simEnv(sim), []string{"run", filepath.Join(t.TempDir(), "nope.csv")}, "nope.csv"},
		{"bad workers", simEnv(sim), []string{"run", in, "--workers", "0"}, "--workers"},
		{"unknown column", simEnv(sim), []string{"run", writeFile(t, "x.csv", "mailbox,notify_emial\n1001,owner\n")}, "notify_email"},
		{"bad format", simEnv(sim), []string{"run", writeFile(t, "x.txt", "mailbox\n1001\n")}, "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim.ResetStats()
			res := runCLI(t, context.Background(), tt.env, tt.args...)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr does not mention %q:\n%s", tt.want, res.stderr)
			}
			if n := sim.Stats().Requests; n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// The README's first command, through the real binary: the demo prints
// the summary and the rows that did not go through.
func TestDemoBinary(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "demo", "--rate", "0")
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ensbulk demo: %v\n%s", err, out)
	}
	for _, want := range []string{"listening on", "52  ok", "rows that did not go through", "Europe/Londn", "checked against the simulator: 50 mailboxes hold exactly"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestSummaryCommand(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0")
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	res := runCLI(t, context.Background(), nil, "summary", rep)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"58 rows", "ok", "Mailbox \"1999\" not found", "--retry-failed " + rep} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestValidateOffline(t *testing.T) {
	t.Parallel()
	in := sample(t, "changes.csv")
	// No connection settings at all: --offline needs none and sends nothing.
	res := runCLI(t, context.Background(), nil, "validate", "--offline", in)
	if res.code != exitRows {
		t.Fatalf("exit %d, want %d (row 55 is invalid)\n%s%s", res.code, exitRows, res.stdout, res.stderr)
	}
	for _, want := range []string{"row 55, column envelope", "pager", "clear", "local checks only"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	// pager: 5 rows clear it with <empty>.
	for _, line := range strings.Split(res.stdout, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "pager" && f[3] != "5" {
			t.Errorf("pager clear = %s, want 5 (%q)", f[3], line)
		}
	}
	if _, err := os.Stat(strings.TrimSuffix(in, ".csv") + ".report.csv"); err == nil {
		t.Error("--offline wrote a report")
	}
}

// Flags may come before or after the file; a JSONL report holds the same
// rows as the CSV one.
func TestJSONLReportAndFlagOrder(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	res := runCLI(t, context.Background(), simEnv(sim), "run", "--report-format", "jsonl", "--rate", "0", in, "--workers", "4")
	if res.code != exitRows {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.jsonl"
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 58 {
		t.Fatalf("JSONL report has %d lines, want 58", len(lines))
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["row"].(float64) != 1 || first["status"] != "ok" || first["mailbox"] != "1001" {
		t.Errorf("first record = %v", first)
	}
	if strings.Contains(string(b), "349563") { // row 1's PIN in the sample
		t.Error("a PIN value reached the report")
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	res := runCLI(t, context.Background(), nil, "version")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "ensbulk ") {
		t.Errorf("version: exit %d, %q", res.code, res.stdout)
	}
}

// TestSummaryHTML: summary --html writes the page of a run and of a plan
// against the simulator, with the command that reruns the rows not ok
// as cmd spells it, and refuses a page that is a link or the report.
func TestSummaryHTML(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	dir := filepath.Dir(in)
	runCLI(t, context.Background(), simEnv(sim), "plan", in, "--rate", "0")
	runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0")
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	plan := job.PlanPath(in, report.CSV)
	for _, tc := range []struct{ name, report, want string }{
		{"run", rep, "--retry-failed " + rep},
		{"plan", plan, "fix the rows under Failures, then plan again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := filepath.Join(dir, tc.name+".html")
			res := runCLI(t, context.Background(), nil, "summary", tc.report, "--html", page)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if want := "wrote " + page + ": the page of " + tc.report + " (58 rows, "; !strings.HasPrefix(res.stdout, want) {
				t.Errorf("stdout = %q, want it to start %q", res.stdout, want)
			}
			b, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{tc.want, `data-testid="rows-total">58<`, "Mailbox &#34;1999&#34; not found"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
	t.Run("refuses a link", func(t *testing.T) {
		link := filepath.Join(dir, "link.html")
		if err := os.Symlink(rep, link); err != nil {
			t.Skip("no symlinks:", err)
		}
		res := runCLI(t, context.Background(), nil, "summary", rep, "--html", link)
		if res.code != exitUsage || !strings.Contains(res.stderr, "symbolic link") {
			t.Errorf("exit %d, stderr %q; want %d and the link named", res.code, res.stderr, exitUsage)
		}
	})
	t.Run("refuses the report", func(t *testing.T) {
		before, _ := os.ReadFile(rep)
		res := runCLI(t, context.Background(), nil, "summary", rep, "--html", rep)
		if after, _ := os.ReadFile(rep); res.code != exitUsage || !bytes.Equal(before, after) {
			t.Errorf("exit %d (want %d), report changed: %v", res.code, exitUsage, !bytes.Equal(before, after))
		}
	})
}
