package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/simulator"
)

// The operator's day through the real binary: budgets that make progress,
// the documented sequences of commands, printed next steps, nightly files.

// runBinaryIn runs the ensbulk binary in dir with the operator's
// environment (operatorEnv) plus env, bounded in time.
func runBinaryIn(t *testing.T, env map[string]string, dir string, args ...string) cli {
	t.Helper()
	return runCommand(t, operatorEnv(env), dir, binary, args...)
}

// runCommand runs a program with exactly environ in dir, bounded in time.
func runCommand(t *testing.T, environ []string, dir, prog string, args ...string) cli {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Env = environ
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
	return cli{stdout: out.String(), stderr: errb.String(), code: code}
}

// --max-rows N applies N rows, also when the pace holds rows back: a row
// counts against the budget when it is sent, not when a worker takes it.
func TestMaxRowsAppliesThatMany(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "budget.csv", manyRows(40))
	res := runBinaryIn(t, simEnv(sim), "", "run", in, "--rate", "100", "--max-rows", "30")
	if res.code != exitStopped {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	c := statusCounts(t, rep)
	if c[string(batch.StatusOK)] != 30 || c[string(batch.StatusSkipped)] != 10 {
		t.Errorf("statuses %v, want 30 ok and 10 skipped", c)
	}
	if n := sim.Stats().Applied; n != 30 {
		t.Errorf("the server applied %d rows, want 30", n)
	}
}

// A run aborted by repeated 403s is finished by the resume the summary
// prints once the cause is fixed on the server: the rows refused before
// the abort are sent again, not kept as failed.
func TestResumeAfterForbiddenAbortFinishes(t *testing.T) {
	t.Parallel()
	sw := startSwappableSim(t, simulator.Config{Seed: 1, ForbidCustomers: []int{100}})
	forbidding := sw.cur.Load()
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	for i := range 20 {
		fmt.Fprintf(&b, "%d,100,plan fixed %d\n", 1001+2*i, i)
	}
	in := writeFile(t, "plan.csv", b.String())
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	env := simEnv(&testSim{Server: forbidding, URL: sw.URL})
	res := runBinaryIn(t, env, "", "run", in, "--rate", "0", "--workers", "2")
	if res.code != exitAborted {
		t.Fatalf("exit %d, want %d (aborted by 403s)\n%s", res.code, exitAborted, res.stderr)
	}
	if c := statusCounts(t, rep); c[string(batch.StatusFailed)] == 0 {
		t.Fatalf("no row was refused before the abort: %v", c)
	}
	next := nextCommand(t, res.stderr)

	// The rate plan is fixed: the same world, updates allowed.
	st := forbidding.State()
	for i := range st.Customers {
		st.Customers[i].MailboxUpdatesForbidden = st.Customers[i].ID == simulator.CustomerLegacy
	}
	fixed := sw.swap(t, simulator.Config{Seed: 1, State: st})
	res = runBinaryIn(t, env, "", next...)
	if res.code != exitOK {
		t.Fatalf("%v: exit %d, want 0\n%s", next, res.code, res.stderr)
	}
	if c := statusCounts(t, rep); c[string(batch.StatusOK)] != 20 {
		t.Errorf("after the resume: %v, want 20 ok", c)
	}
	if n := fixed.Stats().Applied; n != 20 {
		t.Errorf("the resume applied %d rows, want 20", n)
	}
}

// nextCommand is the arguments of the last "next: " command a summary
// printed (after "then: " when it says what to fix first).
func nextCommand(t *testing.T, stderr string) []string {
	t.Helper()
	i := strings.LastIndex(stderr, "next: ")
	if i < 0 {
		t.Fatalf("no next step printed:\n%s", stderr)
	}
	line, _, _ := strings.Cut(stderr[i+len("next: "):], "\n")
	// The command follows "then: " or, after words of advice, ": ".
	if _, after, ok := strings.Cut(line, "then: "); ok {
		line = after
	} else if i := strings.LastIndex(line, ": ensbulk "); i >= 0 {
		line = line[i+2:]
	}
	words := unquoteWords(t, line)
	if len(words) < 2 || words[0] != "ensbulk" {
		t.Fatalf("next step %q is not an ensbulk command", line)
	}
	return words[1:]
}

// The "next:" step a summary prints works as printed, again and again: a
// retry of a retry of a retry, each after fixing one more row, ends all
// ok, and no report is ever overwritten.
func TestNextStepChainReachesAllOK(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	bad := []string{"Europe/Londn", "Mars/Base", "Nowhere/X"}
	good := []string{"Europe/London", "Europe/Oslo", "UTC"}
	content := "mailbox,customer,description,timezone\n" +
		"1001,100,a,Europe/London\n" +
		"1003,100,b," + bad[0] + "\n" +
		"1005,100,c," + bad[1] + "\n" +
		"1007,100,d," + bad[2] + "\n" +
		"1009,100,e,Europe/Oslo\n"
	in := filepath.Join(dir, "changes.csv")
	if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	env := simEnv(sim)
	res := runBinaryIn(t, env, dir, "run", "changes.csv", "--rate", "0")
	for i := range bad {
		if res.code != exitRows {
			t.Fatalf("step %d: exit %d, want %d\n%s", i, res.code, exitRows, res.stderr)
		}
		next := nextCommand(t, res.stderr)
		content = strings.Replace(content, bad[i], good[i], 1)
		if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		res = runBinaryIn(t, env, dir, next...)
	}
	if res.code != exitOK {
		t.Fatalf("after three retries: exit %d\n%s", res.code, res.stderr)
	}
	for _, n := range []string{"changes.report.csv", "changes.retry1.report.csv", "changes.retry2.report.csv", "changes.retry3.report.csv"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("report %s: %v", n, err)
		}
	}
	if c := statusCounts(t, filepath.Join(dir, "changes.retry3.report.csv")); c[string(batch.StatusOK)] != 5 {
		t.Errorf("last report: %v, want 5 ok", c)
	}
	for i, tz := range good {
		if m, _ := sim.Mailbox(100, fmt.Sprint(1003+2*i)); m["timezone"] != tz {
			t.Errorf("mailbox %d timezone %q, want %q", 1003+2*i, m["timezone"], tz)
		}
	}
}

// An edit to a row that was ok in the retried report is never dropped in
// silence: the retry is refused naming the row, nothing sent, and with
// --force the edited row is applied with the failed ones.
func TestRetryRefusesEditOfOKRow(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	content := "mailbox,customer,description,timezone\n" +
		"1001,100,a,Europe/London\n" +
		"1003,100,b,Europe/Londn\n" +
		"1005,100,c,Europe/Oslo\n"
	in := filepath.Join(dir, "changes.csv")
	if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	env := simEnv(sim)
	res := runBinaryIn(t, env, dir, "run", "changes.csv", "--rate", "0")
	if res.code != exitRows {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	next := nextCommand(t, res.stderr)
	content = strings.NewReplacer("Europe/Londn", "Europe/London", "1005,100,c,", "1005,100,c edited,").Replace(content)
	if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	res = runBinaryIn(t, env, dir, next...)
	if res.code != exitUsage {
		t.Fatalf("retry with an edited ok row: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	for _, want := range []string{"row 3 was ok", "--force"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("refusal does not say %q:\n%s", want, res.stderr)
		}
	}
	if n := sim.Stats().Requests; n != 0 {
		t.Errorf("the refused retry sent %d requests", n)
	}
	res = runBinaryIn(t, env, dir, append(next, "--force")...)
	if res.code != exitOK {
		t.Fatalf("retry --force: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "applying it again") {
		t.Errorf("--force does not say it applies the edited row:\n%s", res.stderr)
	}
	if m, _ := sim.Mailbox(100, "1005"); m["description"] != "c edited" {
		t.Errorf("edited row not applied: description %q", m["description"])
	}
	if m, _ := sim.Mailbox(100, "1003"); m["timezone"] != "Europe/London" {
		t.Errorf("failed row not applied: timezone %q", m["timezone"])
	}
}

// Budgeted runs make progress: a file too big for one night's
// --max-duration is finished by the nightly --resume, each row validated
// once (a resume does not validate again the rows an earlier night
// validated), and every night after validation is done applies rows.
func TestBudgetedNightsFinish(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	// A night of 2 s at 100/s is 200 requests; the file needs 3 per row
	// (validate, read, update): at least 3 nights. The bound leaves room
	// for a loaded machine; every night must still make progress.
	const rows, maxNights = 200, 8
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.csv"), []byte(manyRows(rows)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := simEnv(sim)
	nights := 0
	for {
		nights++
		if nights > maxNights {
			t.Fatalf("not finished after %d nights: %v; the server validated %d and applied %d", maxNights, statusCounts(t, filepath.Join(dir, "big.report.csv")), sim.Stats().Validated, sim.Stats().Applied)
		}
		before := sim.Stats()
		res := runBinaryIn(t, env, dir, "run", "big.csv", "--resume", "--rate", "100", "--max-duration", "2s")
		after := sim.Stats()
		t.Logf("night %d: exit %d, validated %d, applied %d", nights, res.code, after.Validated-before.Validated, after.Applied-before.Applied)
		if res.code == exitOK {
			break
		}
		if res.code != exitStopped {
			t.Fatalf("night %d: exit %d\n%s", nights, res.code, res.stderr)
		}
		if after.Validated == before.Validated && after.Applied == before.Applied {
			t.Fatalf("night %d made no progress\n%s", nights, res.stderr)
		}
		if before.Validated >= rows && after.Applied == before.Applied {
			t.Fatalf("night %d applied nothing although every row was validated\n%s", nights, res.stderr)
		}
	}
	st := sim.Stats()
	if st.Applied != rows {
		t.Errorf("applied %d, want %d", st.Applied, rows)
	}
	// A row in flight when a night's budget ran out is answered and
	// recorded; only a request lost in between would be sent twice.
	if st.Validated > rows+8 {
		t.Errorf("the server validated %d times for %d rows: rows were validated again", st.Validated, rows)
	}
}

// docBlockLines returns the lines of the first code block after heading
// in doc (a path from this package's folder, e.g. ../../README.md).
func docBlockLines(t *testing.T, doc, heading string) []string {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s has no %q", doc, heading)
	}
	_, rest, _ = strings.Cut(rest, "```")
	_, rest, _ = strings.Cut(rest, "\n")
	block, _, _ := strings.Cut(rest, "```")
	return strings.Split(strings.TrimSuffix(block, "\n"), "\n")
}

// docBlock returns the ensbulk command lines of the first code block
// after heading in doc, each as its arguments (comments cut).
func docBlock(t *testing.T, doc, heading string) [][]string {
	t.Helper()
	var out [][]string
	for _, line := range docBlockLines(t, doc, heading) {
		if !strings.HasPrefix(line, "ensbulk ") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		out = append(out, shellWords(t, strings.TrimSpace(strings.TrimPrefix(line, "ensbulk "))))
	}
	return out
}

// docs/operating.md's first real run, line by line through the binary, in a
// directory holding the sample changes.csv: validate and run keep their
// own reports, the run takes over the validation it follows (saying so,
// validating only the rows without a definite answer), and the retry
// after fixing the bad rows ends all ok.
func TestReadmeFirstRunSequence(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	in := filepath.Join(dir, "changes.csv")
	copyFile(t, sample(t, "changes.csv"), in, -1)
	cmds := docBlock(t, "../../docs/operating.md", "## A first real run")
	want := []struct {
		cmd  string
		code int
	}{
		{"validate --offline changes.csv", exitRows},
		{"validate changes.csv", exitRows},
		{"run changes.csv --rate 5", exitRows},
		{"summary changes.report.csv", exitOK},
		{"run changes.csv --retry-failed changes.report.csv", exitOK},
	}
	if len(cmds) != len(want) {
		t.Fatalf("docs/operating.md's first run has %d ensbulk lines, the test knows %d: %q", len(cmds), len(want), cmds)
	}
	env := simEnv(sim)
	for i, args := range cmds {
		if got := strings.Join(args, " "); got != want[i].cmd {
			t.Fatalf("docs/operating.md's first run: line %d is %q, the test knows %q", i+1, got, want[i].cmd)
		}
		if args[0] == "run" && slices.Contains(args, "--retry-failed") {
			fixSample(t, in)
		}
		before := sim.Stats()
		if slices.Contains(args, "--rate") {
			// The documented line with the pace raised (the last --rate
			// wins): the sequence is what this test is about, and 108
			// requests at 5/s are 22 s of waiting.
			args = append(slices.Clip(args), "--rate", "200")
		}
		res := runBinaryIn(t, env, dir, args...)
		after := sim.Stats()
		if res.code != want[i].code {
			t.Fatalf("%q: exit %d, want %d\n%s", want[i].cmd, res.code, want[i].code, res.stderr)
		}
		switch want[i].cmd {
		case "validate changes.csv":
			if _, err := os.Stat(filepath.Join(dir, "changes.validate.report.csv")); err != nil {
				t.Errorf("validate's report: %v", err)
			}
		case "run changes.csv --rate 5":
			if !strings.Contains(res.stderr, "52 valid rows are not validated again, 4 invalid rows are reported without sending") {
				t.Errorf("the run does not say it takes over the validation:\n%s", res.stderr)
			}
			// Only the two rows validate answered 404 and 403 for are
			// validated again; the 52 valid ones are applied.
			if n := after.Validated - before.Validated; n != 0 {
				t.Errorf("the run had %d rows validated again, want 0", n)
			}
			// Updates alone (the run also reads each mailbox before its
			// update, and logs in once).
			upd := after.ByFunction["mailboxes/update"] - before.ByFunction["mailboxes/update"]
			if upd != 52+2 {
				t.Errorf("the run sent %d updates, want 54 (52 applies, 2 validations of the 404 and 403 rows)", upd)
			}
			c := statusCounts(t, filepath.Join(dir, "changes.report.csv"))
			if c[string(batch.StatusOK)] != 52 || c[string(batch.StatusInvalid)] != 4 || c[string(batch.StatusFailed)] != 2 {
				t.Errorf("run report %v, want 52 ok, 4 invalid, 2 failed", c)
			}
		}
	}
	if c := statusCounts(t, filepath.Join(dir, "changes.retry1.report.csv")); c[string(batch.StatusOK)] != 58 {
		t.Errorf("retry report %v, want 58 ok", c)
	}
}
