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

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// smallInput is rows rows over 3 mailboxes, every description naming
// its row (the audit then tells which rows were applied).
func smallInput(rows int) string {
	var b strings.Builder
	b.WriteString("mailbox,customer,description,timezone\n")
	for n := 1; n <= rows; n++ {
		fmt.Fprintf(&b, "%d,100,crash row %d,Europe/London\n", 1001+2*(n%3), n)
	}
	return b.String()
}

// appliedRows lists the rows applied since audit entry from.
func appliedRows(t testing.TB, sim *testSim, from int) []int {
	t.Helper()
	var out []int
	for _, a := range sim.Audit()[from:] {
		out = append(out, auditRow(t, a))
	}
	return out
}

func copyFile(t testing.TB, from, to string, n int) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if n < 0 {
		n = len(b)
	}
	if err := os.WriteFile(to, b[:n], 0o600); err != nil {
		t.Fatal(err)
	}
}

// A report cut by a crash anywhere inside its last record: the resume
// redoes that record's row, and only it; a report cut just after it
// sends nothing. Every earlier row was acknowledged and is not sent again.
// The report package's TestTornLastRecordAtEveryOffset cuts both formats
// at every offset (what OpenLatest reads, what OpenJournal cuts); here
// the whole resume runs at a spread of them (every 5th byte of a CSV
// record, every 7th of the longer JSONL one) and the last three.
func TestResumeAfterTornRecordAtEveryOffset(t *testing.T) {
	t.Parallel()
	for _, rf := range []string{"csv", "jsonl"} {
		t.Run(rf, func(t *testing.T) {
			const rows = 7
			sim := startSim(t, simulator.Config{Seed: 1})
			in := writeFile(t, "torn.csv", smallInput(rows))
			full := filepath.Join(t.TempDir(), "full.report."+rf)
			if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--report", full, "--report-format", rf, "--rate", "0", "--progress", "none"); res.code != exitOK {
				t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
			}
			b, err := os.ReadFile(full)
			if err != nil {
				t.Fatal(err)
			}
			start := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
			step := 5
			if rf == "jsonl" {
				step = 7
			}
			var cuts []int
			for cut := start; cut < len(b)-2; cut += step {
				cuts = append(cuts, cut)
			}
			// Each cut resumes against a simulator of its own, in
			// parallel: a run mostly waits on fsync.
			for _, cut := range append(cuts, len(b)-2, len(b)-1, len(b)) {
				t.Run(fmt.Sprint(cut), func(t *testing.T) {
					t.Parallel()
					sim := startSim(t, simulator.Config{Seed: 1})
					rep := filepath.Join(t.TempDir(), "r.report."+rf)
					copyFile(t, full, rep, cut)
					copyFile(t, report.MetaPath(full), report.MetaPath(rep), -1)
					sameSwitch(t, rep, sim)
					res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--resume", "--report", rep, "--report-format", rf, "--rate", "0", "--progress", "none")
					if res.code != exitOK {
						t.Fatalf("cut at %d: exit %d\n%s", cut, res.code, res.stderr)
					}
					wantReq, wantApplied := int64(2), fmt.Sprint([]int{rows}) // validate + apply of the torn row
					if cut == len(b) {
						wantReq, wantApplied = 0, "[]"
					}
					if got := rowRequests(sim.Stats()); got != wantReq {
						t.Errorf("cut at %d/%d: %d requests, want %d", cut, len(b), got, wantReq)
					}
					if got := fmt.Sprint(appliedRows(t, sim, 0)); got != wantApplied {
						t.Errorf("cut at %d/%d: applied rows %s, want %s", cut, len(b), got, wantApplied)
					}
					recs := reportRows(t, rep)
					if len(recs) != rows || recs[rows-1].Row != rows || recs[rows-1].Status != "ok" {
						t.Fatalf("cut at %d: report %+v", cut, recs)
					}
				})
			}
		})
	}
}

// The journal of a crashed run holds rows in the order they finished;
// the resume sends only the rows it lacks, and a later row of a mailbox
// whose earlier row is missing goes after it.
func TestResumeSendsOnlyUnfinishedRows(t *testing.T) {
	t.Parallel()
	const rows = 9 // rows n, n+3, n+6 share a mailbox
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "part.csv", smallInput(rows))
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--rate", "0", "--progress", "none"); res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	// As if killed when rows 1, 3, 2 and 6 were durable, in that order:
	// row 4 (after 1) and 5 (after 2) were in flight, 7-9 waiting.
	all := latest(t, rep)
	os.Remove(rep)
	j, err := report.OpenJournal(rep, report.CSV, report.SyncBatch)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 2, 6} {
		if err := j.WriteRecord(all[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	from := len(sim.Audit())
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--resume", "--rate", "0", "--workers", "1", "--progress", "none"); res.code != exitOK {
		t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
	}
	applied := appliedRows(t, sim, from)
	at := map[int]int{}
	for i, n := range applied {
		at[n] = i
	}
	sorted := append([]int(nil), applied...)
	sort.Ints(sorted)
	if got, want := fmt.Sprint(sorted), "[4 5 7 8 9]"; got != want {
		t.Errorf("resume applied rows %v, want %s", applied, want)
	}
	if at[7] < at[4] || at[8] < at[5] {
		t.Errorf("resume applied rows in the order %v: a row before the earlier row of its mailbox", applied)
	}
	if got := rowRequests(sim.Stats()); got != 10 {
		t.Errorf("%d requests, want 10 (5 rows validated and applied)", got)
	}
	if n := countRecords(t, rep); n != rows {
		t.Errorf("report has %d lines, want %d", n, rows)
	}
}

// A finished run resumed sends nothing, exits 0 and leaves the report as
// it was.
func TestResumeOfFinishedRunSendsNothing(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "done.csv", smallInput(6))
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0"); res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	before, _ := os.ReadFile(rep)
	sim.ResetStats()
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--rate", "0")
	if res.code != exitOK {
		t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
	}
	if n := rowRequests(sim.Stats()); n != 0 {
		t.Errorf("resume of a finished run sent %d requests", n)
	}
	if after, _ := os.ReadFile(rep); !bytes.Equal(before, after) {
		t.Errorf("report changed:\n%s\nthen:\n%s", after, before)
	}
}

// A resume is refused, with nothing sent, when the input or an option
// that changes its meaning differs from what the sidecar recorded, or
// when the report is another kind of run's. --force redoes what changed.
func TestResumeRefusesChangedInput(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	const rows = 6
	in := writeFile(t, "chg.csv", smallInput(rows))
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0"); res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	edited := strings.Replace(smallInput(rows), "crash row 2,Europe/London\n", "crash row 2,Europe/Oslo\n", 1)
	if err := os.WriteFile(in, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	refused := func(t *testing.T, args []string, want ...string) {
		t.Helper()
		sim.ResetStats()
		res := runCLI(t, context.Background(), simEnv(sim), args...)
		if res.code != exitUsage {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
		}
		for _, w := range want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("stderr does not say %q:\n%s", w, res.stderr)
			}
		}
		if n := rowRequests(sim.Stats()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	}
	t.Run("content", func(t *testing.T) {
		refused(t, []string{"run", in, "--resume"}, "input file's content", "row 2 now differs", "--force")
	})
	t.Run("empty token", func(t *testing.T) {
		refused(t, []string{"run", in, "--resume", "--empty-token", "<none>"}, `--empty-token ("<empty>" then, "<none>" now)`)
	})
	t.Run("validate report resumed as run", func(t *testing.T) {
		other := writeFile(t, "v.csv", smallInput(3))
		if res := runCLI(t, context.Background(), simEnv(sim), "validate", other, "--rate", "0"); res.code != exitOK {
			t.Fatalf("validate: exit %d\n%s", res.code, res.stderr)
		}
		vrep := strings.TrimSuffix(other, ".csv") + ".validate.report.csv"
		refused(t, []string{"run", other, "--resume", "--report", vrep}, `report of a "validate" run`)
		refused(t, []string{"run", other, "--resume", "--report", vrep, "--force"}, `report of a "validate" run`)
	})
	t.Run("force", func(t *testing.T) {
		sim.ResetStats()
		from := len(sim.Audit())
		res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--force", "--rate", "0", "--workers", "1")
		if res.code != exitOK {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		// Row 2 changed; row 5 is the later row of its mailbox.
		if got, want := fmt.Sprint(appliedRows(t, sim, from)), "[2 5]"; got != want {
			t.Errorf("--force applied rows %s, want %s", got, want)
		}
		if m, _ := sim.Mailbox(100, "1005"); m["description"] != "crash row 5" {
			t.Errorf("mailbox 1005 description %q, want the last row's", m["description"])
		}
		// The sidecar now describes the edited input: resuming again is
		// not refused, and has nothing to do.
		sim.ResetStats()
		if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume"); res.code != exitOK {
			t.Fatalf("resume after --force: exit %d\n%s", res.code, res.stderr)
		}
		if n := rowRequests(sim.Stats()); n != 0 {
			t.Errorf("resume after --force sent %d requests", n)
		}
	})
	t.Run("force with rows removed", func(t *testing.T) {
		if err := os.WriteFile(in, []byte(strings.Join(strings.SplitAfter(edited, "\n")[:rows], "")), 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, []string{"run", in, "--resume"}, "row 6 of the report is no longer in the input")
		sim.ResetStats()
		if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--resume", "--force"); res.code != exitOK {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		if n := rowRequests(sim.Stats()); n != 0 {
			t.Errorf("%d requests: no remaining row changed", n)
		}
		if n := countRecords(t, rep); n != rows-1 {
			t.Errorf("report has %d lines, want one per input row (%d)", n, rows-1)
		}
	})
}

// A run that cannot write its report stops before sending anything.
func TestUnwritableReportSendsNothing(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "w.csv", smallInput(3))
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Mode bits do not stop root (the tests may run as root): these
	// paths cannot be written by anyone.
	for name, rep := range map[string]string{
		"missing directory": filepath.Join(dir, "nope", "r.report.csv"),
		"parent is a file":  filepath.Join(file, "r.report.csv"),
		"report is a dir":   dir,
	} {
		t.Run(name, func(t *testing.T) {
			sim.ResetStats()
			res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--report", rep)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, rep) {
				t.Errorf("stderr does not name the report:\n%s", res.stderr)
			}
			if n := rowRequests(sim.Stats()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// A resume passes over the rows it does not redo without parsing them
// (batch.Filter): on a file with blank lines, a record of empty cells,
// quoted values, a value running over two lines and rows refused
// locally, it must still number every row as the first run did, redo
// exactly the unfinished rows and leave one report line per row.
func TestResumeOfAnAwkwardFileRedoesTheRightRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, input string
		rows              int   // rows in the input (the all-empty record is none)
		kept              []int // rows whose records survived the "crash"
		want              string
	}{
		{
			name: "csv", file: "awkward.csv", rows: 8, kept: []int{1, 2, 4, 6},
			input: "mailbox,customer,description,timezone\n" +
				"1001,100,crash row 1,Europe/London\n" +
				"\n" +
				"1003,100,\"crash row 2\",Europe/London\n" +
				",,,\n" + // a record of empty cells: number 3, no row
				"1005,100,\"crash\nrow 4\",Europe/London\n" + // refused: a line break in a value
				"1001,100,crash row 5,Europe/London\n" +
				"1003,100,crash row 6,\"Europe/London\"\n" +
				"1005,100,crash row 7,Europe/London\n" +
				"\n\n" +
				"1001,100,crash row 8,Europe/London\n" +
				"1003,100,crash row 9,Europe/London\n",
			want: "[5 7 8 9]",
		},
		{
			name: "jsonl", file: "awkward.jsonl", rows: 8, kept: []int{1, 3, 4, 6},
			input: `{"mailbox":"1001","customer":100,"description":"crash row 1"}` + "\n" +
				"\n" +
				`{"mailbox":"1003","customer":100,"description":"crash row 3"}` + "\n" +
				`{"mailbox":"1005","PIN":"1234"}` + "\n" + // refused: a case-variant key
				`{"mailbox":"1001","customer":100,"description":"crash row 5"}` + "\n" +
				`{"mailbox":"1003","customer":100,"description":"crash row 6"}` + "\n" +
				"  \n" +
				`{"mailbox":"1005","customer":100,"description":"crash row 8"}` + "\n" +
				`{"mailbox":"1001","customer":100,"description":"crash row 9"}` + "\n" +
				`{"mailbox":"1003","customer":100,"description":"crash row 10"}` + "\n",
			want: "[5 8 9 10]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 1})
			in := writeFile(t, tc.file, tc.input)
			rep := in + ".report.csv"
			if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--rate", "0", "--progress", "none", "--report", rep); res.code != exitRows {
				t.Fatalf("exit %d, want %d (one row refused)\n%s", res.code, exitRows, res.stderr)
			}
			all := latest(t, rep)
			if len(all) != tc.rows {
				t.Fatalf("first run reported %d rows, want %d", len(all), tc.rows)
			}
			os.Remove(rep)
			j, err := report.OpenJournal(rep, report.CSV, report.SyncBatch)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.kept {
				rec, ok := all[n]
				if !ok {
					t.Fatalf("no record of row %d in the first run's report", n)
				}
				if err := j.WriteRecord(rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			from := len(sim.Audit())
			if res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--no-read", "--resume", "--rate", "0", "--progress", "none", "--report", rep); res.code != exitRows {
				t.Fatalf("resume: exit %d, want %d\n%s", res.code, exitRows, res.stderr)
			}
			applied := appliedRows(t, sim, from)
			sort.Ints(applied)
			if got := fmt.Sprint(applied); got != tc.want {
				t.Errorf("resume applied rows %s, want %s", got, tc.want)
			}
			final := latest(t, rep)
			if n := countRecords(t, rep); n != tc.rows || len(final) != tc.rows {
				t.Errorf("report has %d lines for %d rows, want %d", n, len(final), tc.rows)
			}
			for n, rec := range final {
				if all[n].Mailbox != rec.Mailbox || all[n].Status != rec.Status {
					t.Errorf("row %d: %s %s after the resume, %s %s in the first run", n, rec.Mailbox, rec.Status, all[n].Mailbox, all[n].Status)
				}
			}
		})
	}
}

// sameSwitch makes the report at rep one of sim's switch: a test that
// replays a report against a fresh simulator of the same state plays the
// same switch, which a real resume would find at the same URL.
func sameSwitch(t testing.TB, rep string, sim *testSim) {
	t.Helper()
	m, err := report.ReadMeta(rep)
	if err != nil {
		t.Fatal(err)
	}
	m.Switch = enswitch.SwitchID(sim.URL)
	if err := report.WriteMeta(rep, m); err != nil {
		t.Fatal(err)
	}
}
