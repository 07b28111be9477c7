package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// Tests of the take-back (issue #20) through the real binary against
// the simulator: the checked undo, and every file bound to its switch.

// tb runs the binary quietly against sim with args, in the test's dir.
func tb(t *testing.T, sim *testSim, args ...string) cli {
	t.Helper()
	return runBinaryIn(t, simEnv(sim), "", append(args, "--rate", "0", "--progress", "none", "--log-level", "error")...)
}

// box is a mailbox field as the simulator holds it.
func box(t *testing.T, sim *testSim, customer int, mailbox, field string) string {
	t.Helper()
	m, ok := sim.Mailbox(customer, mailbox)
	if !ok {
		t.Fatalf("no mailbox %d/%s", customer, mailbox)
	}
	return m[field]
}

// edit is another admin changing a mailbox, outside the run being undone.
func edit(t *testing.T, sim *testSim, customer int, mailbox, field, value string) {
	t.Helper()
	in := writeFile(t, "other-admin.csv", fmt.Sprintf("mailbox,customer,%s\n%s,%d,%s\n", field, mailbox, customer, value))
	if res := tb(t, sim, "run", in, "--no-read"); res.code != exitOK {
		t.Fatalf("another admin's edit: exit %d\n%s", res.code, res.stderr)
	}
}

// An undo restores a field only where the switch still holds what the
// run set: another admin's edit since is a conflict, left alone (the
// row's other fields are restored), shown by plan, and overwritten only
// with --force.
func TestUndoLeavesAnotherAdminsEditAlone(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 11})
	before := map[string]string{}
	for _, mb := range []string{"1001", "1003"} {
		before[mb+"description"] = box(t, sim, 100, mb, "description")
		before[mb+"timezone"] = box(t, sim, 100, mb, "timezone")
	}
	in := writeFile(t, "night.csv", "mailbox,customer,description,timezone\n1001,100,night A,America/New_York\n1003,100,night B,America/New_York\n")
	if res := tb(t, sim, "run", in); res.code != exitOK {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	edit(t, sim, 100, "1001", "description", "edited by Bob")
	u := undo.PathFor(strings.TrimSuffix(in, ".csv") + ".report.csv")

	plan := tb(t, sim, "plan", u)
	if plan.code != exitRows {
		t.Errorf("plan of the undo: exit %d, want %d (a conflict)\n%s", plan.code, exitRows, plan.stderr)
	}
	pl := latest(t, job.PlanPath(u, report.CSV))
	if st := statusOf(pl, "1001"); st != "conflict" {
		t.Errorf("plan: mailbox 1001 is %q, want conflict", st)
	}
	if st := statusOf(pl, "1003"); st != "change" {
		t.Errorf("plan: mailbox 1003 is %q, want change", st)
	}
	if box(t, sim, 100, "1003", "description") != "night B" {
		t.Fatal("the plan of the undo changed a mailbox")
	}

	res := tb(t, sim, "run", u)
	if res.code != exitRows {
		t.Fatalf("undo: exit %d, want %d (a conflict)\n%s", res.code, exitRows, res.stderr)
	}
	if got := box(t, sim, 100, "1001", "description"); got != "edited by Bob" {
		t.Errorf("1001 description = %q after the undo, want Bob's edit kept", got)
	}
	if got := box(t, sim, 100, "1001", "timezone"); got != before["1001timezone"] {
		t.Errorf("1001 timezone = %q, want %q restored (not in conflict)", got, before["1001timezone"])
	}
	for _, f := range []string{"description", "timezone"} {
		if got := box(t, sim, 100, "1003", f); got != before["1003"+f] {
			t.Errorf("1003 %s = %q, want %q restored", f, got, before["1003"+f])
		}
	}
	rep := latest(t, strings.TrimSuffix(u, undo.Ext)+".undone.csv")
	var msg string
	for _, r := range rep {
		if r.Mailbox == "1001" {
			msg = r.Message
		}
	}
	if !strings.Contains(msg, `"night A"`) || !strings.Contains(msg, `"edited by Bob"`) {
		t.Errorf("the conflict's message %q does not give both values", msg)
	}

	// The conflict's own next step: overwrite it, as printed.
	next := nextCommand(t, res.stderr)
	if !slices.Contains(next, "--force") {
		t.Fatalf("the undo's next step %v does not offer --force for the conflict", next)
	}
	res = runBinaryIn(t, simEnv(sim), "", append(next, "--rate", "0")...)
	if res.code != exitOK {
		t.Errorf("%v: exit %d, want 0 (every field written as asked)\n%s", next, res.code, res.stderr)
	}
	if got := box(t, sim, 100, "1001", "description"); got != before["1001description"] {
		t.Errorf("after --force 1001 description = %q, want %q", got, before["1001description"])
	}
	var forced string
	for _, r := range latest(t, u+".report.csv") { // the retry's report
		if r.Mailbox == "1001" {
			forced = r.Message
		}
	}
	if !strings.Contains(forced, "overwritten (--force)") || !strings.Contains(forced, `"edited by Bob"`) {
		t.Errorf("the forced row's message %q does not name the value it overwrote", forced)
	}
}

func statusOf(recs map[int]report.Record, mailbox string) string {
	for _, r := range recs {
		if r.Mailbox == mailbox {
			return r.Status
		}
	}
	return ""
}

// A report, its undo file and its validations belong to one switch: a
// resume or an undo against another is refused before anything is sent,
// and another switch's validations are not taken over.
func TestAnotherSwitchIsNeverTakenForThisOne(t *testing.T) {
	t.Parallel()
	lab := startSim(t, simulator.Config{Seed: 12})
	prod := startSim(t, simulator.Config{Seed: 12})
	in := writeFile(t, "c.csv", "mailbox,customer,description\n1001,100,a\n1003,100,b\n1005,100,c\n")
	if res := tb(t, lab, "run", in, "--max-rows", "1", "--workers", "1"); res.code != exitStopped {
		t.Fatalf("run on lab: exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	res := tb(t, prod, "run", in, "--resume")
	if res.code != exitUsage || !strings.Contains(res.stderr, lab.URL) || !strings.Contains(res.stderr, prod.URL) {
		t.Errorf("resume on prod: exit %d, want %d and a line naming both switches\n%s", res.code, exitUsage, res.stderr)
	}
	if n := prod.Stats().Requests; n != 0 {
		t.Errorf("prod received %d requests, want none", n)
	}
	if res := tb(t, lab, "run", in, "--resume"); res.code != exitOK {
		t.Fatalf("resume on lab: exit %d\n%s", res.code, res.stderr)
	}
	u := undo.PathFor(strings.TrimSuffix(in, ".csv") + ".report.csv")
	res = tb(t, prod, "run", u)
	if res.code != exitUsage || !strings.Contains(res.stderr, "belongs to switch") {
		t.Errorf("undo on prod: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	if n := prod.Stats().Requests; n != 0 {
		t.Errorf("prod received %d requests, want none", n)
	}

	// validate on lab, then run on prod: prod validates every row itself.
	in2 := writeFile(t, "v.csv", "mailbox,customer,description\n1007,100,x\n1009,100,y\n")
	if res := tb(t, lab, "validate", in2); res.code != exitOK {
		t.Fatalf("validate on lab: exit %d\n%s", res.code, res.stderr)
	}
	res = tb(t, prod, "run", in2, "--all-or-nothing")
	if res.code != exitOK {
		t.Fatalf("run on prod: exit %d\n%s", res.code, res.stderr)
	}
	if v := prod.Stats().Validated; v != 2 {
		t.Errorf("prod validated %d rows, want 2 (lab's validations say nothing of prod)", v)
	}
}

// An invocation stopped by --max-rows records no undo entry for a row it
// never sent; another admin edits that row's mailbox; the resume reads
// it then. The one undo puts back what each update replaced.
func TestUndoAfterAStopAndAnEditRestoresWhatEachUpdateReplaced(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 13})
	boxes := []string{"1001", "1003", "1005", "1007"}
	orig := map[string]string{}
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	for _, mb := range boxes {
		orig[mb] = box(t, sim, 100, mb, "description")
		fmt.Fprintf(&b, "%s,100,night %s\n", mb, mb)
	}
	in := writeFile(t, "stop.csv", b.String())
	if res := tb(t, sim, "run", in, "--max-rows", "2", "--workers", "1"); res.code != exitStopped {
		t.Fatalf("run: exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	edit(t, sim, 100, "1005", "description", "admin 1005")
	edit(t, sim, 100, "1007", "description", "admin 1007")
	if res := tb(t, sim, "run", in, "--resume"); res.code != exitOK {
		t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
	}
	u := undo.PathFor(strings.TrimSuffix(in, ".csv") + ".report.csv")
	if res := tb(t, sim, "run", u); res.code != exitOK {
		t.Fatalf("undo: exit %d\n%s", res.code, res.stderr)
	}
	want := map[string]string{"1001": orig["1001"], "1003": orig["1003"], "1005": "admin 1005", "1007": "admin 1007"}
	for mb, w := range want {
		if got := box(t, sim, 100, mb, "description"); got != w {
			t.Errorf("%s description = %q after the undo, want %q (the value its update replaced)", mb, got, w)
		}
	}
}

// A resume keeps what its undo file covers: the read mode and the undo
// path are those of the report, a missing journal is refused, and an
// undo file is JSON lines.
func TestResumeKeepsItsUndo(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 14})
	// Values of the subtest's own, so that no subtest finds its rows
	// already done by another.
	rows := func(t *testing.T) string {
		return fmt.Sprintf("mailbox,customer,description\n1001,100,a %[1]s\n1003,100,b %[1]s\n1005,100,c %[1]s\n", t.Name())
	}
	stop := func(t *testing.T, extra ...string) string {
		in := writeFile(t, "k.csv", rows(t))
		if res := tb(t, sim, append([]string{"run", in, "--max-rows", "1", "--workers", "1"}, extra...)...); res.code != exitStopped {
			t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
		}
		return in
	}
	refused := func(t *testing.T, want string, args ...string) {
		t.Helper()
		before := sim.Stats().Requests
		res := tb(t, sim, args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s", args, res.code, exitUsage, want, res.stderr)
		}
		if n := sim.Stats().Requests - before; n != 0 {
			t.Errorf("%v sent %d requests, want none", args, n)
		}
	}
	t.Run("no-read then read", func(t *testing.T) {
		in := stop(t, "--no-read")
		refused(t, "--no-read", "run", in, "--resume")
	})
	t.Run("journal deleted", func(t *testing.T) {
		in := stop(t)
		u := undo.PathFor(strings.TrimSuffix(in, ".csv") + ".report.csv")
		if err := os.Remove(undo.JournalPath(u)); err != nil {
			t.Fatal(err)
		}
		refused(t, "is missing", "run", in, "--resume")
	})
	t.Run("another undo path", func(t *testing.T) {
		in := stop(t)
		refused(t, "records into", "run", in, "--resume", "--undo", filepath.Join(t.TempDir(), "other.undo.jsonl"))
	})
	t.Run("csv undo", func(t *testing.T) {
		in := writeFile(t, "c.csv", rows(t))
		refused(t, "JSON lines", "run", in, "--undo", filepath.Join(t.TempDir(), "u.csv"))
	})
	t.Run("undo is the input", func(t *testing.T) {
		in := writeFile(t, "same.jsonl", `{"mailbox":"1001","customer":"100","description":"x"}`+"\n")
		refused(t, "is the input", "run", in, "--undo", in)
		if b, _ := os.ReadFile(in); !strings.Contains(string(b), `"x"`) {
			t.Error("the input was written")
		}
	})
}

// A retry adds to the undo file of the run it retries: one undo takes
// back the run and the retry, in order, also for a mailbox both changed.
func TestOneUndoForARunAndItsRetry(t *testing.T) {
	t.Parallel()
	sw := startSwappableSim(t, simulator.Config{Seed: 15, ForbidCustomers: []int{100}})
	sim := &testSim{Server: sw.cur.Load(), URL: sw.URL}
	initial := sim.State()
	in := writeFile(t, "r.csv", "mailbox,customer,description\n1002,101,run 1\n1001,100,run 2\n")
	if res := tb(t, sim, "run", in); res.code != exitRows {
		t.Fatalf("run: exit %d, want %d (customer 100 refused)\n%s", res.code, exitRows, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	// The rate plan is fixed, and row 1 is edited to a second value.
	st := sim.State()
	for i := range st.Customers {
		st.Customers[i].MailboxUpdatesForbidden = st.Customers[i].ID == simulator.CustomerLegacy
	}
	sim.Server = sw.swap(t, simulator.Config{Seed: 15, State: st})
	if err := os.WriteFile(in, []byte("mailbox,customer,description\n1002,101,retry 1\n1001,100,run 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := tb(t, sim, "run", in, "--retry-failed", rep, "--force"); res.code != exitOK {
		t.Fatalf("retry: exit %d\n%s", res.code, res.stderr)
	}
	if got := box(t, sim, 101, "1002", "description"); got != "retry 1" {
		t.Fatalf("1002 = %q after the retry, want %q", got, "retry 1")
	}
	u := undo.PathFor(rep)
	if res := tb(t, sim, "run", u); res.code != exitOK {
		t.Fatalf("undo: exit %d\n%s", res.code, res.stderr)
	}
	sameWorld(t, sim, initial, nil)
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(in), "*"+undo.Ext))
	if len(matches) != 1 {
		t.Errorf("undo files %v, want the run's one", matches)
	}
}

// A planted link at the undo journal's name is never written through.
func TestUndoJournalLinkIsRefused(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 16})
	in := writeFile(t, "l.csv", "mailbox,customer,description\n1001,100,x\n")
	victim := filepath.Join(t.TempDir(), "victim.txt")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := undo.PathFor(strings.TrimSuffix(in, ".csv") + ".report.csv")
	if err := os.Symlink(victim, undo.JournalPath(u)); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	res := tb(t, sim, "run", in)
	if res.code != exitUsage {
		t.Errorf("run with a planted journal link: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the link's target was written: %q", b)
	}
	if n := sim.Stats().Applied; n != 0 {
		t.Errorf("%d updates applied, want none", n)
	}
}

// withTwin returns a state where mailbox number of customer from also
// exists in customer to, holding description desc.
func withTwin(st *simulator.State, number string, from, to int, desc string) {
	for _, m := range st.Mailboxes {
		if m["mailbox"] == number && m["customer"] == fmt.Sprint(from) {
			twin := simulator.Mailbox{}
			for k, v := range m {
				twin[k] = v
			}
			twin["customer"], twin["description"] = fmt.Sprint(to), desc
			st.Mailboxes = append(st.Mailboxes, twin)
			return
		}
	}
	panic("no mailbox " + number)
}

// A row without a customer means the user's own: its undo line names
// that customer, and the undo is refused to another user (who would
// take the same line for another mailbox). A plan compares each row
// with the mailbox of its own customer, not another customer's mailbox
// of the same number.
func TestTheCustomerTheRowMeant(t *testing.T) {
	t.Parallel()
	gen, err := simulator.New(simulator.Config{Seed: 17})
	if err != nil {
		t.Fatal(err)
	}
	st := gen.State()
	gen.Close()
	withTwin(st, "1001", 100, simulator.CustomerAcme, "acme's own 1001")
	sim := startSim(t, simulator.Config{State: st})
	acme := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "acme", "ENSWITCH_PASSWORD": "acme-demo-pass"}
	in := writeFile(t, "own.csv", "mailbox,description\n1001,changed by acme\n")
	if res := runBinaryIn(t, acme, "", "run", in, "--rate", "0", "--log-level", "error"); res.code != exitOK {
		t.Fatalf("run as acme: exit %d\n%s", res.code, res.stderr)
	}
	if got := box(t, sim, simulator.CustomerAcme, "1001", "description"); got != "changed by acme" {
		t.Fatalf("acme's 1001 = %q", got)
	}
	u := undo.PathFor(strings.TrimSuffix(in, ".csv") + ".report.csv")
	b, err := os.ReadFile(u)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`"customer":"%d"`, simulator.CustomerAcme); !strings.Contains(string(b), want) {
		t.Errorf("the undo file does not name acme's customer (%s):\n%s", want, b)
	}
	if res := tb(t, sim, "run", u); res.code != exitUsage {
		t.Errorf("the undo as admin: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	if got := box(t, sim, 100, "1001", "description"); got == "acme's own 1001" {
		t.Error("admin's undo wrote customer 100's mailbox")
	}
	if res := runBinaryIn(t, acme, "", "run", u, "--rate", "0", "--log-level", "error"); res.code != exitOK {
		t.Fatalf("the undo as acme: exit %d\n%s", res.code, res.stderr)
	}
	if got := box(t, sim, simulator.CustomerAcme, "1001", "description"); got != "acme's own 1001" {
		t.Errorf("acme's 1001 = %q after the undo, want it back", got)
	}

	// plan: customer 100's 1001 is compared with its own values, not
	// with what the row for acme's 1001 leaves.
	orig100 := box(t, sim, 100, "1001", "description")
	plan := writeFile(t, "twins.csv", fmt.Sprintf("mailbox,customer,description\n1001,%d,same text\n1001,100,same text\n", simulator.CustomerAcme))
	if res := tb(t, sim, "plan", plan); res.code != exitOK {
		t.Fatalf("plan: exit %d\n%s", res.code, res.stderr)
	}
	recs := latest(t, job.PlanPath(plan, report.CSV))
	if recs[2].Status != "change" || orig100 == "same text" {
		t.Errorf("plan: customer 100's 1001 is %q, want change (it holds %q)", recs[2].Status, orig100)
	}
}

// An unedited export plans all unchanged and applies nothing, whatever
// odd values the switch holds; --with-pin replaces an earlier export
// with a 0600 file, never writes through a planted link, and never
// overwrites a file that is not an export.
func TestExportRoundTripsAndWritesOnlyItsOwn(t *testing.T) {
	t.Parallel()
	gen, err := simulator.New(simulator.Config{Seed: 18})
	if err != nil {
		t.Fatal(err)
	}
	st := gen.State()
	gen.Close()
	for i, v := range oddValues {
		st.Mailboxes[2*i]["description"] = v // customer 100's
	}
	sim := startSim(t, simulator.Config{State: st, PINDisplay: simulator.PINPlain,
		NullColumns: []string{"dnumber", "notify_dnumber", "pager", "description"}})
	dir := t.TempDir()
	for _, format := range []string{"csv", "jsonl"} {
		out := filepath.Join(dir, "box."+format)
		if res := runBinaryIn(t, simEnv(sim), "", "export", "--customer", "100", "--output", out, "--format", format); res.code != exitOK {
			t.Fatalf("export %s: exit %d\n%s", format, res.code, res.stderr)
		}
		if res := tb(t, sim, "plan", out); res.code != exitOK {
			t.Fatalf("plan of the %s export: exit %d\n%s", format, res.code, res.stderr)
		}
		rep := job.PlanPath(out, report.CSV)
		if c := statusCounts(t, rep); len(c) != 1 || c["unchanged"] == 0 {
			t.Errorf("plan of the unedited %s export: %v, want all unchanged", format, c)
		}
		applied := sim.Stats().Applied
		if res := tb(t, sim, "run", out); res.code != exitOK {
			t.Fatalf("run of the %s export: exit %d\n%s", format, res.code, res.stderr)
		}
		if n := sim.Stats().Applied - applied; n != 0 {
			t.Errorf("running the unedited %s export applied %d updates, want none", format, n)
		}
	}
	sameWorld(t, &testSim{Server: sim.Server}, st, nil)

	// --with-pin over an earlier export of mode 0644.
	out := filepath.Join(dir, "pins.csv")
	if err := os.WriteFile(out, []byte("mailbox,customer,description\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runBinaryIn(t, simEnv(sim), "", "export", "--customer", "100", "--output", out, "--with-pin"); res.code != exitOK {
		t.Fatalf("export --with-pin: exit %d\n%s", res.code, res.stderr)
	}
	if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("export --with-pin over a 0644 file: mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	// A planted link and a file that is not an export.
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(victim, link); err == nil {
		runBinaryIn(t, simEnv(sim), "", "export", "--customer", "100", "--output", link, "--with-pin")
		if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
			t.Errorf("export wrote through a planted link: %q", b[:min(len(b), 40)])
		}
	}
	if res := runBinaryIn(t, simEnv(sim), "", "export", "--customer", "100", "--output", victim); res.code != exitUsage {
		t.Errorf("export over a file that is not an export: exit %d, want %d", res.code, exitUsage)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("export overwrote a file that is not an export: %q", b[:min(len(b), 40)])
	}
}

// One 429 with a Retry-After of a year (a misconfigured proxy) stops the
// run with exit 5 and the server's wait named, instead of holding it a
// year; the resume, once the server is sane, finishes it.
func TestAYearsRetryAfterStopsTheRun(t *testing.T) {
	t.Parallel()
	sw := startSwappableSim(t, simulator.Config{Seed: 19, Faults: simulator.Faults{RateLimit: 0.001, RetryAfter: 365 * 24 * time.Hour}})
	sim := &testSim{Server: sw.cur.Load(), URL: sw.URL}
	in := writeFile(t, "y.csv", "mailbox,customer,description\n1001,100,y1\n1003,100,y2\n")
	res := tb(t, sim, "run", in, "--log-level", "warn")
	if res.code != exitStopped || !strings.Contains(res.stderr, "8760h0m0s") || !strings.Contains(res.stderr, "10m0s") {
		t.Fatalf("exit %d, want %d and the wait asked and the cap named\n%s", res.code, exitStopped, res.stderr)
	}
	sim.Server = sw.swap(t, simulator.Config{Seed: 19})
	if res := tb(t, sim, "run", in, "--resume"); res.code != exitOK {
		t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
	}
	if got := box(t, sim, 100, "1003", "description"); got != "y2" {
		t.Errorf("1003 = %q after the resume, want y2", got)
	}
}

// --keep N with --rotate keeps the N newest nights set aside, each with
// its undo file, and removes the older ones; without --rotate it is
// refused.
func TestRotateKeepsTheNewestNights(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 21})
	dir := t.TempDir()
	in := filepath.Join(dir, "nightly.csv")
	for night := 1; night <= 4; night++ {
		if err := os.WriteFile(in, []byte(fmt.Sprintf("mailbox,customer,description\n1001,100,night %d\n", night)), 0o644); err != nil {
			t.Fatal(err)
		}
		if res := tb(t, sim, "run", in, "--resume", "--rotate", "--keep", "2"); res.code != exitOK {
			t.Fatalf("night %d: exit %d\n%s", night, res.code, res.stderr)
		}
	}
	reps, _ := filepath.Glob(filepath.Join(dir, "nightly.report.2*.csv"))
	undos, _ := filepath.Glob(filepath.Join(dir, "nightly.report.2*.undo.jsonl"))
	if len(reps) != 2 || len(undos) != 2 {
		t.Errorf("after 4 nights with --keep 2: reports set aside %v, undo files %v; want 2 of each", reps, undos)
	}
	if res := tb(t, sim, "run", in, "--resume", "--keep", "2"); res.code != exitUsage {
		t.Errorf("--keep without --rotate: exit %d, want %d", res.code, exitUsage)
	}
}
