package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// fixSample rewrites the six deliberately bad rows of samples/changes.csv
// (rows 53-58) to valid ones. Rows 57 and 58 named a mailbox that does
// not exist and one of a customer whose plan forbids updates: the fix
// names existing mailboxes of customers 101 and 100.
func fixSample(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fixes := map[string]string{
		"1013,100,,12ab,,,,,,,":                    "1013,100,,4821,,,,,,,",
		"1015,100,,,,,,,Europe/Londn,,":            "1015,100,,,,,,,Europe/London,,",
		"1017,100,,,,,,,,yes,":                     "1017,100,,,,,,,,1,",
		"1006,101,,,,,front desk at bluefjord,,,,": "1006,101,,,,,frontdesk@bluefjord.example,,,,",
		"1999,101,Spa (does not exist),,,,,,,,":    "1042,101,Spa,,,,,,,,",
		"9001,102,,,owner,,,,,,":                   "1043,100,,,owner,,,,,,",
	}
	s := string(b)
	for from, to := range fixes {
		if !strings.Contains(s, from+"\n") {
			t.Fatalf("sample lacks the row %q", from)
		}
		s = strings.Replace(s, from+"\n", to+"\n", 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// appliedBoxes lists "customer/mailbox" of the updates applied since
// audit entry from, sorted.
func appliedBoxes(sim *testSim, from int) []string {
	var out []string
	for _, a := range sim.Audit()[from:] {
		out = append(out, fmt.Sprintf("%d/%s", a.Customer, a.Mailbox))
	}
	sort.Strings(out)
	return out
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The sample's six bad rows, fixed and retried: only they are sent, the
// run ends all ok in a new report of 58 lines, and the old report and its
// sidecar are left byte for byte as they were.
func TestRetryFailedSample(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	initial := sim.State()
	in := sample(t, "changes.csv")
	old := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--rate", "0"); res.code != exitRows {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	oldReport, oldMeta := readFile(t, old), readFile(t, old+".meta.json")
	fixSample(t, in)

	sim.ResetStats()
	from := len(sim.Audit())
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--retry-failed", old, "--rate", "0")
	if res.code != exitOK {
		t.Fatalf("retry: exit %d, want 0\n%s", res.code, res.stderr)
	}
	if n := rowRequests(sim.Stats()); n != 12 {
		t.Errorf("retry sent %d requests, want 12 (6 rows validated and applied)", n)
	}
	if got, want := strings.Join(appliedBoxes(sim, from), " "), "100/1013 100/1015 100/1017 100/1043 101/1006 101/1042"; got != want {
		t.Errorf("retry applied %s, want %s", got, want)
	}
	if !bytes.Equal(readFile(t, old), oldReport) || !bytes.Equal(readFile(t, old+".meta.json"), oldMeta) {
		t.Error("the retried report or its sidecar changed")
	}
	rep := strings.TrimSuffix(in, ".csv") + ".retry1.report.csv"
	if n := countRecords(t, rep); n != 58 {
		t.Errorf("new report has %d lines, want 58", n)
	}
	for n, r := range latest(t, rep) {
		if r.Status != "ok" {
			t.Errorf("row %d is %s in the new report: %s", n, r.Status, r.Message)
		}
	}
	checkState(t, sim, expectState(t, initial, in, rep))
	if !strings.Contains(res.stderr, rep) {
		t.Errorf("the summary does not name the new report %s:\n%s", rep, res.stderr)
	}
}

// A retry reruns a row that was ok when an earlier row of its mailbox
// was not, so that it is applied after the earlier row again.
func TestRetryRerunsLaterRowsOfMailbox(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "later.csv", "mailbox,customer,description,timezone\n"+
		"1001,100,first,Europe/Londn\n"+ // row 1: 400
		"1003,100,other,Europe/Oslo\n"+ // row 2: ok, another mailbox
		"1001,100,second,Europe/Berlin\n") // row 3: ok
	old := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--rate", "0"); res.code != exitRows {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	if err := os.WriteFile(in, []byte(strings.Replace(string(readFile(t, in)), "Londn", "London", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	from := len(sim.Audit())
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--retry-failed", old, "--rate", "0", "--workers", "8"); res.code != exitOK {
		t.Fatalf("retry: exit %d\n%s", res.code, res.stderr)
	}
	var order []string
	for _, a := range sim.Audit()[from:] {
		order = append(order, a.Mailbox+":"+a.Params["description"])
	}
	if got, want := strings.Join(order, " "), "1001:first 1001:second"; got != want {
		t.Errorf("retry applied %s, want %s", got, want)
	}
	if n := rowRequests(sim.Stats()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	m, _ := sim.Mailbox(100, "1001")
	if m["description"] != "second" || m["timezone"] != "Europe/Berlin" {
		t.Errorf("mailbox 1001 = %s/%s, want the last row's second/Europe/Berlin", m["description"], m["timezone"])
	}
	rep := strings.TrimSuffix(in, ".csv") + ".retry1.report.csv"
	got, was := latest(t, rep), latest(t, old)
	if len(got) != 3 || got[2].Attempts != was[2].Attempts || got[2].Status != "ok" || got[1].Status != "ok" || got[3].Status != "ok" {
		t.Errorf("new report %+v", got)
	}
}

// A retry is refused, with nothing sent and no report written, when the
// input no longer matches the report row for row, or when it would
// overwrite the report it retries.
func TestRetryRefusals(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	old := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0"); res.code != exitRows {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	fixSample(t, in)
	fixed := string(readFile(t, in))
	lines := strings.SplitAfter(fixed, "\n")
	tests := []struct {
		name  string
		input string // content of the input ("" = as fixed)
		args  []string
		want  string
	}{
		{"row inserted at the top", lines[0] + "1002,101,new first row,,,,,,,,\n" + strings.Join(lines[1:], ""), nil,
			`row 1 is mailbox "1002" (customer 101) in the input but "1001" (customer 100) in the report`},
		{"mailbox of an ok row changed", strings.Replace(fixed, "1003,100,Northwind Dr. Aasen", "1005,100,Northwind Dr. Aasen", 1), nil,
			`row 2 is mailbox "1005"`},
		{"rows removed", strings.Join(lines[:len(lines)-3], ""), nil, "rows 57 and 58 of the report are not in the input"},
		{"report is the retried one", "", []string{"--retry-failed", old, "--report", old}, "is the report being retried"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := tt.input
			if content == "" {
				content = fixed
			}
			if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			args := tt.args
			if args == nil {
				args = []string{"--retry-failed", old}
			}
			before := readFile(t, old)
			sim.ResetStats()
			res := runCLI(t, context.Background(), simEnv(sim), append([]string{"run", in, "--rate", "0"}, args...)...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, res.stderr)
			}
			if n := rowRequests(sim.Stats()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
			if !bytes.Equal(readFile(t, old), before) {
				t.Error("the retried report changed")
			}
			if m, _ := filepath.Glob(strings.TrimSuffix(in, ".csv") + ".retry*"); len(m) != 0 {
				t.Errorf("files written: %v", m)
			}
		})
	}
}

// The summary's retry command carries the options that change how the
// input is read, quoted for a shell, and works as printed.
func TestSummaryRetryCommandWorks(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := filepath.Join(t.TempDir(), "my changes")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "semi.csv")
	if err := os.WriteFile(in, []byte("mailbox;customer;description;timezone;pager\n1001;100;a;Europe/Londn;\n1003;100;b;;~\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	first := runCLI(t, context.Background(), simEnv(sim), "run", in, "--delimiter", ";", "--empty-token", "~", "--rate", "0")
	if first.code != exitRows {
		t.Fatalf("exit %d\n%s", first.code, first.stderr)
	}
	want := fmt.Sprintf("ensbulk run '%s' --delimiter ';' --empty-token '~' --retry-failed '%s'", in, rep)
	if !strings.Contains(first.stderr, "next: fix the rows above, then: "+want+"\n") {
		t.Errorf("the run's summary lacks %q:\n%s", want, first.stderr)
	}
	sum := runCLI(t, context.Background(), nil, "summary", rep)
	if !strings.Contains(sum.stdout, want) {
		t.Fatalf("summary lacks %q:\n%s", want, sum.stdout)
	}
	if err := os.WriteFile(in, []byte(strings.Replace(string(readFile(t, in)), "Londn", "London", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, context.Background(), simEnv(sim), append(unquoteWords(t, strings.TrimPrefix(want, "ensbulk ")), "--rate", "0")...)
	if res.code != exitOK {
		t.Fatalf("the printed command: exit %d\n%s", res.code, res.stderr)
	}
	if m, _ := sim.Mailbox(100, "1003"); m["pager"] != "" {
		t.Errorf("row 2's empty token was not read as empty: pager %q", m["pager"])
	}
}

// unquoteWords splits words as a shell would, for the single quotes
// shellQuote writes.
func unquoteWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var w strings.Builder
	in, started := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, started = !in, true
		case r == ' ' && !in:
			if started {
				out = append(out, w.String())
			}
			w.Reset()
			started = false
		default:
			w.WriteRune(r)
			started = true
		}
	}
	if in {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if started {
		out = append(out, w.String())
	}
	return out
}

// A retry stopped half-way is resumed with the command it prints, which
// names the retry's own report (resuming the default report would resume
// the one retried), and finishes it.
func TestRetryStoppedResumesItsOwnReport(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	old := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--rate", "0"); res.code != exitRows {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	oldReport := readFile(t, old)
	fixSample(t, in)
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--retry-failed", old, "--rate", "0", "--workers", "1", "--max-rows", "2")
	if res.code != exitStopped {
		t.Fatalf("retry with --max-rows: exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".retry1.report.csv"
	want := "ensbulk run " + in + " --resume --report " + rep
	if !strings.Contains(res.stderr, "next: "+want+"\n") {
		t.Fatalf("the stopped retry does not print %q:\n%s", want, res.stderr)
	}
	sim.ResetStats()
	res = runCLI(t, context.Background(), simEnv(sim), append(unquoteWords(t, strings.TrimPrefix(want, "ensbulk ")), "--rate", "0", "--no-read")...)
	if res.code != exitOK {
		t.Fatalf("the printed command: exit %d\n%s", res.code, res.stderr)
	}
	if n := rowRequests(sim.Stats()); n != 4 {
		t.Errorf("the resumed retry sent %d requests, want 4 (the 4 rows left, applied: the stopped retry validated them)", n)
	}
	if n := countRecords(t, rep); n != 58 {
		t.Errorf("retry report has %d lines, want 58", n)
	}
	if !bytes.Equal(readFile(t, old), oldReport) {
		t.Error("the retried report changed")
	}
}
