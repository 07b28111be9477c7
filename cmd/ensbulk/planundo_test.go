package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// Tests of issue #14 with the real binary against the simulator: plan,
// read before write, undo, export.

// worldInput writes a CSV of rows over the generated world's mailboxes
// of customer 100 and 101: every third row sets values the mailbox
// already holds (a no-op), the others change description, timezone,
// pager and (every fourth) the PIN; mailboxes repeat so that several rows
// change one mailbox. It returns the path and how many rows change
// something and how many change nothing, as the plan must count them.
func worldInput(t *testing.T, initial *simulator.State, rows int, rng *rand.Rand) (path string, change, unchanged int) {
	t.Helper()
	boxes := initial.Mailboxes[:40] // customers 100 and 101 alternate
	cur := map[string]simulator.Mailbox{}
	for _, m := range boxes {
		c := simulator.Mailbox{}
		for k, v := range m {
			c[k] = v
		}
		cur[m["mailbox"]] = c
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"mailbox", "customer", "description", "timezone", "pager", "pin"})
	zones := []string{"Europe/London", "Europe/Oslo", "America/New_York"}
	for i := range rows {
		m := cur[boxes[rng.IntN(len(boxes))]["mailbox"]]
		rec := []string{m["mailbox"], m["customer"], m["description"], m["timezone"], m["pager"], ""}
		if rec[4] == "" {
			rec[4] = "<empty>"
		}
		if i%3 != 0 {
			rec[2] = fmt.Sprintf("changed %d", i)
			rec[3] = zones[rng.IntN(len(zones))]
			rec[4] = fmt.Sprintf("p%d@example.net", i)
			if i%4 == 1 {
				rec[5] = strconv.Itoa(1000 + rng.IntN(9000))
			}
		}
		// Count as plan must: against what earlier rows leave.
		same := rec[2] == m["description"] && rec[3] == m["timezone"] && (rec[4] == m["pager"] || rec[4] == "<empty>" && m["pager"] == "")
		if same && rec[5] == "" {
			unchanged++
		} else {
			change++
		}
		m["description"], m["timezone"] = rec[2], rec[3]
		if rec[4] == "<empty>" {
			m["pager"] = ""
		} else {
			m["pager"] = rec[4]
		}
		if rec[5] != "" {
			m["pin"] = rec[5]
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return writeFile(t, "world.csv", b.String()), change, unchanged
}

// runBin runs the real binary against sim and returns its exit code and
// output.
func runBin(t *testing.T, sim *testSim, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = binaryEnv(sim)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// statusCounts counts a report's rows by status.
func statusCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range latest(t, path) {
		out[r.Status]++
	}
	return out
}

// sameWorld compares the simulator's mailboxes with a state, real PINs
// included; skipPIN leaves out the PINs of the mailboxes listed.
func sameWorld(t *testing.T, sim *testSim, want *simulator.State, skipPIN map[string]bool) {
	t.Helper()
	got := sim.State()
	if len(got.Mailboxes) != len(want.Mailboxes) {
		t.Fatalf("%d mailboxes, want %d", len(got.Mailboxes), len(want.Mailboxes))
	}
	bad := 0
	for i, w := range want.Mailboxes {
		g := got.Mailboxes[i]
		for k, v := range w {
			if k == "pin" && skipPIN[w["mailbox"]] {
				continue
			}
			if g[k] != v {
				if bad++; bad <= 10 {
					t.Errorf("mailbox %s/%s %s = %q, want %q (the value before the run)", w["customer"], w["mailbox"], k, g[k], v)
				}
			}
		}
	}
}

func TestPlanCountsExactAndSendsNoUpdate(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 3, PINDisplay: simulator.PINPlain})
	initial := sim.State()
	in, change, unchanged := worldInput(t, initial, 120, rand.New(rand.NewPCG(1, 2)))
	code, out := runBin(t, sim, "plan", in, "--rate", "0", "--progress", "none", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	got := statusCounts(t, job.PlanPath(in, report.CSV))
	want := map[string]int{"change": change, "unchanged": unchanged}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan counts %v, want %v", got, want)
	}
	if n := sim.Stats().Applied; n != 0 {
		t.Errorf("plan applied %d updates, want 0", n)
	}
	for _, s := range []string{"rows that change each column", "timezone", "pin ", "changed ("} {
		if !strings.Contains(out, s) {
			t.Errorf("plan's terminal table lacks %q:\n%s", s, out)
		}
	}
	sameWorld(t, sim, initial, nil)
	pins := 0
	for _, r := range latest(t, job.PlanPath(in, report.CSV)) {
		for _, c := range strings.Split(r.Changes, "; ") {
			if strings.HasPrefix(c, "pin") {
				pins++
				if c != "pin: changed" {
					t.Errorf("row %d: the plan report shows a PIN: %q", r.Row, c)
				}
			}
		}
	}
	if pins == 0 {
		t.Error("no row of the plan changes a PIN: the check above proves nothing")
	}
}

func TestRunSendsNoUpdateForNoOpRows(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 4, PINDisplay: simulator.PINPlain})
	in, change, unchanged := worldInput(t, sim.State(), 90, rand.New(rand.NewPCG(3, 4)))
	code, out := runBin(t, sim, "run", in, "--rate", "0", "--progress", "none", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	got := statusCounts(t, strings.TrimSuffix(in, ".csv")+".report.csv")
	if want := (map[string]int{"ok": change, "unchanged": unchanged}); !reflect.DeepEqual(got, want) {
		t.Errorf("run counts %v, want %v", got, want)
	}
	if n := sim.Stats().Applied; n != int64(change) {
		t.Errorf("the simulator applied %d updates, want %d (none for the %d no-op rows)", n, change, unchanged)
	}
	// The audit columns: old -> new for changed fields, never a PIN.
	for _, r := range latest(t, strings.TrimSuffix(in, ".csv")+".report.csv") {
		if r.Time == "" {
			t.Fatalf("row %d has no time", r.Row)
		}
		if r.Status == "ok" && !strings.Contains(r.Changes, " -> ") && r.Changes != "pin: changed" {
			t.Errorf("row %d ok without its changes: %q", r.Row, r.Changes)
		}
	}
}

func TestRunThenUndoRestoresTheWorld(t *testing.T) {
	t.Parallel() // its own simulator and files
	for _, mode := range []simulator.PINDisplay{simulator.PINPlain, simulator.PINMasked} {
		t.Run(string(mode), func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 5, PINDisplay: mode})
			initial := sim.State()
			in, _, _ := worldInput(t, initial, 100, rand.New(rand.NewPCG(5, 6)))
			code, out := runBin(t, sim, "run", in, "--rate", "0", "--progress", "none", "--log-level", "error")
			if code != exitOK {
				t.Fatalf("run: exit %d\n%s", code, out)
			}
			undo := strings.TrimSuffix(in, ".csv") + ".report.undo.jsonl"
			if st, err := os.Stat(undo); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("undo file %s: %v (want mode 0600)", undo, err)
			}
			pinRows := pinMailboxes(t, in)
			if mode == simulator.PINMasked && !strings.Contains(out, "PIN changes cannot be undone") {
				t.Errorf("masked PINs: the run does not say PIN changes cannot be undone:\n%s", out)
			}
			code, out = runBin(t, sim, "run", undo, "--rate", "0", "--progress", "none", "--log-level", "error")
			if code != exitOK {
				t.Fatalf("undo: exit %d\n%s", code, out)
			}
			var skip map[string]bool
			if mode == simulator.PINMasked {
				skip = pinRows
			}
			sameWorld(t, sim, initial, skip)
		})
	}
}

// pinMailboxes are the mailboxes whose PIN an input sets.
func pinMailboxes(t *testing.T, in string) map[string]bool {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range recs[1:] {
		if r[5] != "" {
			out[r[0]] = true
		}
	}
	return out
}

func TestKilledResumedRunThenUndoRestoresTheWorld(t *testing.T) {
	t.Parallel() // its own simulator and files
	if testing.Short() {
		t.Skip("kills processes")
	}
	watched := startWatchedSim(t, simulator.Config{Seed: 6, PINDisplay: simulator.PINPlain,
		Faults: simulator.Faults{Latency: time.Millisecond, Jitter: 2 * time.Millisecond}})
	sim := watched.testSim
	initial := sim.State()
	rng := rand.New(rand.NewPCG(7, 8))
	in, _, _ := worldInput(t, initial, 150, rng)
	args := []string{"run", in, "--resume", "--rate", "0", "--workers", "4", "--progress", "none", "--log-level", "error"}
	kills := 0
	for attempt := 0; attempt < 40; attempt++ {
		cmd := exec.Command(binary, args...)
		cmd.Env = binaryEnv(sim)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Killed in the apply phase: once this run has had 1 to 8
		// updates applied (the undo file then holds entries to keep).
		applied := sim.Stats().Applied + 1 + int64(rng.IntN(8))
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run ended with %v before it was killed", err)
			}
			attempt = 1 << 30 // finished
		case <-watched.when(func(st simulator.Stats) bool { return st.Applied >= applied }):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				kills++
			}
			drain(t, sim)
		}
	}
	if kills < 3 {
		t.Fatalf("the run was killed %d times in its apply phase, want at least 3: the test proves little", kills)
	}
	// One more resume, so the report and the undo file are final.
	if code, out := runBin(t, sim, args...); code != exitOK {
		t.Fatalf("last resume: exit %d\n%s", code, out)
	}
	undo := strings.TrimSuffix(in, ".csv") + ".report.undo.jsonl"
	if code, out := runBin(t, sim, "run", undo, "--rate", "0", "--progress", "none", "--log-level", "error"); code != exitOK {
		t.Fatalf("undo: exit %d\n%s", code, out)
	}
	t.Logf("%d kills", kills)
	sameWorld(t, sim, initial, nil)
}

func TestExportPlanUnchangedThenEdits(t *testing.T) {
	for _, format := range []string{"csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 8, Mailboxes: 60, PINDisplay: simulator.PINPlain})
			dir := t.TempDir()
			exp := filepath.Join(dir, "export."+format)
			code, out := runBin(t, sim, "export", "--customer", "100", "--customer", "101", "--output", exp, "--format", format, "--with-pin")
			if code != exitOK {
				t.Fatalf("export: exit %d\n%s", code, out)
			}
			code, out = runBin(t, sim, "plan", exp, "--rate", "0", "--progress", "none", "--log-level", "error")
			if code != exitOK {
				t.Fatalf("plan of the export: exit %d\n%s", code, out)
			}
			if got := statusCounts(t, job.PlanPath(exp, report.CSV)); !reflect.DeepEqual(got, map[string]int{"unchanged": 60}) {
				t.Fatalf("plan of an unedited export: %v, want all 60 unchanged", got)
			}
			if format != "csv" {
				return
			}
			// Edit three cells: two rows, one of them twice.
			b, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := func(name string) int {
				for i, c := range recs[0] {
					if c == name {
						return i
					}
				}
				t.Fatalf("no column %s", name)
				return -1
			}
			recs[3][col("description")] = "edited 3"
			recs[3][col("timezone")] = "Europe/Oslo"
			if recs[3][col("timezone")] == sim.State().Mailboxes[2]["timezone"] {
				recs[3][col("timezone")] = "Europe/London"
			}
			recs[10][col("pager")] = "<empty>"
			if sim.State().Mailboxes[9]["pager"] == "" {
				recs[10][col("pager")] = "edited@example.net"
			}
			var sb strings.Builder
			w := csv.NewWriter(&sb)
			_ = w.WriteAll(recs)
			edited := writeFile(t, "edited.csv", sb.String())
			code, out = runBin(t, sim, "plan", edited, "--rate", "0", "--progress", "none", "--log-level", "error")
			if code != exitOK {
				t.Fatalf("plan of the edit: exit %d\n%s", code, out)
			}
			l := latest(t, job.PlanPath(edited, report.CSV))
			changed := map[int]string{}
			for n, r := range l {
				if r.Status == "change" {
					changed[n] = r.Changes
				}
			}
			if len(changed) != 2 || !strings.Contains(changed[3], "description: ") || !strings.Contains(changed[3], "timezone: ") ||
				strings.Count(changed[3], "->") != 2 || strings.Count(changed[10], "->") != 1 || !strings.HasPrefix(changed[10], "pager: ") {
				t.Errorf("plan of three edited cells: %v, want rows 3 (description, timezone) and 10 (pager)", changed)
			}
		})
	}
}

// TestNoReadSendsBlind pins --no-read: every valid row is sent, nothing
// is read, no undo file.
func TestNoReadSendsBlind(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 9})
	in, _, _ := worldInput(t, sim.State(), 30, rand.New(rand.NewPCG(9, 9)))
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--rate", "0", "--progress", "none")
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	st := sim.Stats()
	if st.ByFunction["mailboxes/get"] != 0 || st.Applied != 30 {
		t.Errorf("--no-read: %d gets, %d applied; want 0 and 30", st.ByFunction["mailboxes/get"], st.Applied)
	}
	if _, err := os.Stat(strings.TrimSuffix(in, ".csv") + ".report.undo.jsonl"); err == nil {
		t.Error("--no-read wrote an undo file")
	}
}
