package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// Staging (issue 24) through the real binary against the simulator: a
// canary, a failure threshold, and the run of an approved plan.

// boxesOf returns up to n mailbox numbers of customer in the state.
func boxesOf(t *testing.T, st *simulator.State, customer string, n int) []string {
	t.Helper()
	var out []string
	for _, m := range st.Mailboxes {
		if m["customer"] == customer && len(out) < n {
			out = append(out, m["mailbox"])
		}
	}
	if len(out) < n {
		t.Fatalf("customer %s has %d mailboxes, want %d", customer, len(out), n)
	}
	return out
}

// stagedInput writes an input that sets a new description on each
// mailbox, customers interleaved as given, and returns its path.
func stagedInput(t *testing.T, name string, rows [][2]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	for i, r := range rows {
		fmt.Fprintf(&b, "%s,%s,staged %d\n", r[0], r[1], i+1)
	}
	return writeFile(t, name, b.String())
}

// twoCustomers is 6 mailboxes of customer 100 then 6 of customer 101.
func twoCustomers(t *testing.T, st *simulator.State) [][2]string {
	var rows [][2]string
	for _, c := range []string{"100", "101"} {
		for _, mb := range boxesOf(t, st, c, 6) {
			rows = append(rows, [2]string{mb, c})
		}
	}
	return rows
}

func TestCanaryStopsThenResumeFinishes(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 3})
	rows := twoCustomers(t, sim.State())
	in := stagedInput(t, "canary.csv", rows)
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"

	res := tb(t, sim, "run", in, "--canary", "4")
	if res.code != exitStopped {
		t.Fatalf("canary: exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	if got := sim.Stats().Applied; got != 4 {
		t.Errorf("the canary applied %d updates, want 4", got)
	}
	recs := latest(t, rep)
	per := map[string]int{}
	for _, r := range recs {
		if r.Status == "ok" {
			per[r.Customer]++
		}
	}
	if per["100"] != 2 || per["101"] != 2 {
		t.Errorf("canary rows ok per customer = %v, want 2 of each (round-robin)", per)
	}
	if c := statusCounts(t, rep); c["ok"] != 4 || c["skipped"] != 8 {
		t.Errorf("statuses after the canary = %v, want 4 ok, 8 skipped", c)
	}
	for _, want := range []string{"canary: what the 4 rows changed:", "read back after the update: 4 as sent, 0 differ", "next: ensbulk run " + in + " --resume"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	m, err := report.ReadMeta(rep)
	if err != nil || m.Canary != 4 {
		t.Errorf("sidecar canary = %d (%v), want 4", m.Canary, err)
	}

	res = tb(t, sim, "run", in, "--resume")
	if res.code != exitOK {
		t.Fatalf("resume: exit %d, want 0\n%s", res.code, res.stderr)
	}
	if got := sim.Stats().Applied; got != 12 {
		t.Errorf("%d updates applied in all, want 12 (the canary's are not sent again)", got)
	}
	if c := statusCounts(t, rep); c["ok"] != 12 {
		t.Errorf("statuses after the resume = %v, want 12 ok", c)
	}
	for i, r := range rows {
		if got := box(t, sim, atoiT(t, r[1]), r[0], "description"); got != fmt.Sprintf("staged %d", i+1) {
			t.Errorf("mailbox %s/%s = %q", r[1], r[0], got)
		}
	}

	page := filepath.Join(filepath.Dir(in), "canary.html")
	if res := runBinaryIn(t, simEnv(sim), "", "summary", rep, "--html", page); res.code != exitOK {
		t.Fatalf("summary --html: exit %d\n%s", res.code, res.stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(b), "a canary run: it applied 4 rows first") {
		t.Errorf("the page does not say it was a canary run (%v)", err)
	}
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A server that answers 204 and keeps the old value: the canary's
// read-back reports mismatch and the canary stops, not clean.
func TestCanaryMismatch(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 4, Faults: simulator.Faults{IgnoreRate: 1}})
	in := stagedInput(t, "ignored.csv", twoCustomers(t, sim.State()))
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	res := tb(t, sim, "run", in, "--canary", "2")
	if res.code != exitStopped {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	if c := statusCounts(t, rep); c["mismatch"] != 2 || c["skipped"] != 10 {
		t.Errorf("statuses = %v, want 2 mismatch, 10 skipped", c)
	}
	if !strings.Contains(res.stderr, "NOT every canary row is ok and read back as sent") || !strings.Contains(res.stderr, "reads \"") {
		t.Errorf("stderr does not say the canary differs:\n%s", res.stderr)
	}
	if got := sim.Stats().Faults[simulator.FaultIgnore]; got != 2 {
		t.Errorf("%d updates sent, want 2", got)
	}
}

// failAtApply validates in against the whole world, then serves a world
// without the mailboxes named in gone: the run takes the validations
// over and finds those mailboxes missing at apply (404 from the read).
func failAtApply(t *testing.T, rows [][2]string, gone func(i int) bool) (*swappableSim, string) {
	t.Helper()
	world := simulator.Generate(200, 5)
	sw := startSwappableSim(t, simulator.Config{State: world})
	in := stagedInput(t, "fail.csv", rows)
	env := map[string]string{"ENSWITCH_URL": sw.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	if res := runBinaryIn(t, env, "", "validate", in, "--rate", "0", "--progress", "none", "--log-level", "error"); res.code != exitOK {
		t.Fatalf("validate: exit %d\n%s", res.code, res.stderr)
	}
	missing := map[string]bool{}
	for i, r := range rows {
		if gone(i) {
			missing[r[1]+"/"+r[0]] = true
		}
	}
	less := *world
	less.Mailboxes = nil
	for _, m := range world.Mailboxes {
		if !missing[m["customer"]+"/"+m["mailbox"]] {
			less.Mailboxes = append(less.Mailboxes, m)
		}
	}
	sw.swap(t, simulator.Config{State: &less})
	return sw, in
}

func TestMaxFailuresStopsAfterTheLimit(t *testing.T) {
	world := simulator.Generate(200, 5)
	rows := [][2]string{}
	for _, mb := range boxesOf(t, world, "100", 12) {
		rows = append(rows, [2]string{mb, "100"})
	}
	// Row 1 ok, then every row fails: the 4th failure (row 5) stops it.
	sw, in := failAtApply(t, rows, func(i int) bool { return i > 0 })
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	env := map[string]string{"ENSWITCH_URL": sw.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	res := runBinaryIn(t, env, "", "run", in, "--max-failures", "3", "--workers", "1", "--rate", "0", "--progress", "none", "--log-level", "error")
	if res.code != exitStopped {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	if c := statusCounts(t, rep); c["ok"] != 1 || c["failed"] != 4 || c["skipped"] != 7 {
		t.Errorf("statuses = %v, want 1 ok, 4 failed, 7 skipped", c)
	}
	if !strings.Contains(res.stderr, "--max-failures 3: 4 of 5 rows sent failed at apply") {
		t.Errorf("stderr does not give the reason:\n%s", res.stderr)
	}
	recs := latest(t, rep)
	for n := 6; n <= 12; n++ {
		if recs[n].Status != "skipped" || recs[n].Attempts != 0 {
			t.Errorf("row %d = %s after %d attempts, want skipped, never sent", n, recs[n].Status, recs[n].Attempts)
		}
	}
}

func TestMaxFailuresPercentAfterTheSample(t *testing.T) {
	world := simulator.Generate(200, 5)
	var rows [][2]string
	for _, c := range []string{"100", "101"} {
		for _, mb := range boxesOf(t, world, c, 15) {
			rows = append(rows, [2]string{mb, c})
		}
	}
	// Rows 1 and 2 fail (100% of the first, but under the sample of 20);
	// 2 of 20 is 10%, not beyond it; row 21 fails: 3 of 21 is 14%.
	sw, in := failAtApply(t, rows, func(i int) bool { return i == 0 || i == 1 || i == 20 })
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	env := map[string]string{"ENSWITCH_URL": sw.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	res := runBinaryIn(t, env, "", "run", in, "--max-failures", "10%", "--workers", "1", "--rate", "0", "--progress", "none", "--log-level", "error")
	if res.code != exitStopped {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	if c := statusCounts(t, rep); c["ok"] != 18 || c["failed"] != 3 || c["skipped"] != 9 {
		t.Errorf("statuses = %v, want 18 ok, 3 failed, 9 skipped", c)
	}
	if !strings.Contains(res.stderr, "--max-failures 10%: 3 of 21 rows sent failed at apply") {
		t.Errorf("stderr does not give the reason:\n%s", res.stderr)
	}
	// The resume goes on: the limit is per invocation.
	res = runBinaryIn(t, env, "", "run", in, "--resume", "--rate", "0", "--progress", "none", "--log-level", "error")
	if res.code != exitRows {
		t.Fatalf("resume: exit %d, want %d (the 3 failed rows)\n%s", res.code, exitRows, res.stderr)
	}
	if c := statusCounts(t, rep); c["ok"] != 27 || c["failed"] != 3 {
		t.Errorf("statuses after the resume = %v, want 27 ok, 3 failed", c)
	}
}

func TestMaxFailuresFlag(t *testing.T) {
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "x.csv", "mailbox,customer,description\n1001,100,x\n")
	for _, bad := range []string{"-1", "abc", "0%", "100%", "5%%", "1.5"} {
		if res := tb(t, sim, "run", in, "--max-failures", bad); res.code != exitUsage {
			t.Errorf("--max-failures %s: exit %d, want %d\n%s", bad, res.code, exitUsage, res.stderr)
		}
	}
	if got := sim.Stats().Applied; got != 0 {
		t.Errorf("%d updates applied by refused invocations", got)
	}
}

// planApplyWorld is a switch, an input of 6 rows over two customers (one
// row unchanged: it sets the value the mailbox holds) and its plan.
func planApplyWorld(t *testing.T) (*testSim, string, string, [][2]string) {
	sim := startSim(t, simulator.Config{Seed: 6})
	rows := twoCustomers(t, sim.State())[3:9] // 3 of customer 100, 3 of 101
	var b strings.Builder
	b.WriteString("mailbox,customer,description,timezone\n")
	for i, r := range rows {
		desc := fmt.Sprintf("approved %d", i+1)
		if i == 2 {
			desc = box(t, sim, atoiT(t, r[1]), r[0], "description")
		}
		tz := "Europe/Oslo"
		if i == 2 {
			tz = box(t, sim, atoiT(t, r[1]), r[0], "timezone")
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s\n", r[0], r[1], desc, tz)
	}
	in := writeFile(t, "night.csv", b.String())
	if res := tb(t, sim, "plan", in); res.code != exitOK {
		t.Fatalf("plan: exit %d\n%s", res.code, res.stderr)
	}
	return sim, in, job.PlanPath(in, report.CSV), rows
}

func TestPlanApplyAppliesExactlyThePlan(t *testing.T) {
	sim, in, plan, rows := planApplyWorld(t)
	if c := statusCounts(t, plan); c["change"] != 5 || c["unchanged"] != 1 {
		t.Fatalf("plan = %v, want 5 change, 1 unchanged", c)
	}
	// Since the plan: another admin edits row 2's mailbox, and row 4's
	// timezone already holds the planned value (no conflict: nothing to
	// send for that field).
	edit(t, sim, atoiT(t, rows[1][1]), rows[1][0], "description", "edited by Bob")
	edit(t, sim, atoiT(t, rows[3][1]), rows[3][0], "timezone", "Europe/Oslo")
	applied := sim.Stats().Applied

	res := tb(t, sim, "run", in, "--plan", plan)
	if res.code != exitRows {
		t.Fatalf("run --plan: exit %d, want %d (a conflict)\n%s", res.code, exitRows, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	recs := latest(t, rep)
	want := map[int]string{1: "ok", 2: "conflict", 3: "unchanged", 4: "ok", 5: "ok", 6: "ok"}
	for n, st := range want {
		if recs[n].Status != st {
			t.Errorf("row %d = %s (%s), want %s", n, recs[n].Status, recs[n].Message, st)
		}
	}
	if got := sim.Stats().Applied - applied; got != 4 {
		t.Errorf("%d updates sent, want 4 (not the conflict, not the unchanged row)", got)
	}
	if recs[3].Attempts != 0 || !strings.Contains(recs[3].Message, "the plan found it unchanged") {
		t.Errorf("row 3: %d attempts, %q; want not sent, as planned", recs[3].Attempts, recs[3].Message)
	}
	if !strings.Contains(recs[2].Message, `description expected "`) || !strings.Contains(recs[2].Message, `now "edited by Bob"; nothing sent`) {
		t.Errorf("row 2's message = %q", recs[2].Message)
	}
	// The conflict's row is left alone as a whole: its timezone too.
	if got := box(t, sim, atoiT(t, rows[1][1]), rows[1][0], "timezone"); got == "Europe/Oslo" {
		t.Error("row 2's timezone was written although its row is a conflict")
	}
	if got := box(t, sim, atoiT(t, rows[0][1]), rows[0][0], "description"); got != "approved 1" {
		t.Errorf("row 1's description = %q, want the planned one", got)
	}
	// Row 4 sent only its description: the timezone already held.
	if !strings.HasPrefix(recs[4].Changes, "description: ") || strings.Contains(recs[4].Changes, "timezone") {
		t.Errorf("row 4 changes = %q, want the description only", recs[4].Changes)
	}
	if !strings.Contains(res.stderr, "next: fix the rows above, then: ensbulk plan "+in+" --report ") {
		t.Errorf("the next step is not a new plan:\n%s", res.stderr)
	}
	m, err := report.ReadMeta(rep)
	if err != nil || m.Plan != plan || m.PlanSHA256 == "" {
		t.Errorf("sidecar plan = %q %q (%v)", m.Plan, m.PlanSHA256, err)
	}
}

// run --plan refuses, before anything is sent, a plan made against
// another switch, a plan of another input, a report that is not a plan's,
// and the flags that would send without the plan's checks.
func TestPlanApplyRefuses(t *testing.T) {
	sim, in, plan, _ := planApplyWorld(t)
	applied := sim.Stats().Applied

	other := startSim(t, simulator.Config{Seed: 6})
	res := tb(t, other, "run", in, "--plan", plan)
	if res.code != exitUsage || !strings.Contains(res.stderr, "was made against switch") {
		t.Errorf("another switch: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	if got := other.Stats().Applied + other.Stats().Validated; got != 0 {
		t.Errorf("another switch: %d requests answered, want none", got)
	}

	changed := writeFile(t, "night2.csv", strings.Replace(string(readFile(t, in)), "approved 1", "approved one", 1))
	res = tb(t, sim, "run", changed, "--plan", plan)
	if res.code != exitUsage || !strings.Contains(res.stderr, "was made from another input") {
		t.Errorf("another input: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}

	notPlan := strings.TrimSuffix(in, ".csv") + ".validate.report.csv"
	if res := tb(t, sim, "validate", in); res.code != exitOK {
		t.Fatalf("validate: exit %d\n%s", res.code, res.stderr)
	}
	res = tb(t, sim, "run", in, "--plan", notPlan)
	if res.code != exitUsage || !strings.Contains(res.stderr, "not of a plan") {
		t.Errorf("a validate report: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	for _, args := range [][]string{{"--no-read"}, {"--force"}} {
		res = tb(t, sim, append([]string{"run", in, "--plan", plan}, args...)...)
		if res.code != exitUsage {
			t.Errorf("--plan %v: exit %d, want %d\n%s", args, res.code, exitUsage, res.stderr)
		}
	}
	if got := sim.Stats().Applied - applied; got != 0 {
		t.Errorf("refused runs applied %d updates", got)
	}
	if _, err := os.Stat(strings.TrimSuffix(changed, ".csv") + ".report.csv"); err == nil {
		t.Error("a refused run left a report")
	}
}

// A plan report edited after approval (a row's new value no longer the
// input's) is refused before anything is sent.
func TestPlanApplyRefusesAnEditedPlan(t *testing.T) {
	sim, in, plan, _ := planApplyWorld(t)
	b := string(readFile(t, plan))
	edited := strings.Replace(b, "-> approved 1", "-> approved 9", 1)
	if edited == b {
		t.Fatal("the plan has no change to approved 1")
	}
	if err := os.WriteFile(plan, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	res := tb(t, sim, "run", in, "--plan", plan)
	if res.code != exitUsage || !strings.Contains(res.stderr, "sets description to") {
		t.Errorf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	if got := sim.Stats().Applied; got != 0 {
		t.Errorf("%d updates applied after a refusal", got)
	}
}
