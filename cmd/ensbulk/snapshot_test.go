package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// snapshotRows is an input whose rows are long enough that the reader's
// buffer holds only the first few hundred: the rest are read from the
// file while the apply pass runs.
func snapshotRows(n int, tag string) string {
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,%d,%s %04d %s\n", 1001+i, 100+i%2, tag, i+1, strings.Repeat("x", 200))
	}
	return b.String()
}

// The input is edited in place (same length, another length) or appended
// to while the apply pass runs. The run applies exactly the rows it
// validated: every update the simulator received carries the original
// description, each row once, the report has one line per original row,
// and stderr says once that the file changed.
func TestInputChangedDuringApplyIsNotApplied(t *testing.T) {
	t.Parallel() // its own simulator and files
	const rows = 800
	original := snapshotRows(rows, "orig")
	edits := []struct {
		name string
		edit func(path string) error
	}{
		{"in place, same length", func(path string) error {
			return overwrite(path, snapshotRows(rows, "EDIT"), false)
		}},
		{"in place, longer", func(path string) error {
			return overwrite(path, snapshotRows(rows, "EDITED-AND-LONGER"), true)
		}},
		{"appended", func(path string) error {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			extra := strings.SplitN(snapshotRows(50, "APPENDED"), "\n", 2)[1]
			if _, err := f.WriteString(extra); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}},
	}
	for _, tt := range edits {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: rows})
			in := writeFile(t, "edit.csv", original)
			p := startEnsbulk(t, simEnv(sim), "run", in, "--rate", "0", "--workers", "4", "--progress", "none")

			// Validation runs at full speed; once the first row is applied
			// the server slows down, so most rows are still unread when
			// the file changes.
			waitFor(t, 60*time.Second, "the apply phase to start", func() bool { return len(sim.Audit()) > 0 })
			if err := sim.SetFaults(simulator.Faults{Latency: 10 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			if err := tt.edit(in); err != nil {
				t.Fatal(err)
			}
			if n := len(sim.Audit()); n > rows/2 {
				t.Fatalf("%d of %d rows were applied before the edit: too late to tell", n, rows)
			}
			code, _ := p.wait(t, 120*time.Second)
			stderr := p.stderr.String()
			if code != exitOK {
				t.Fatalf("exit %d, want %d\n%s", code, exitOK, tail(stderr, 30))
			}

			applied, unvalidated := map[string]int{}, 0
			for _, a := range sim.Audit() {
				applied[a.Mailbox]++
				if d := a.Params["description"]; !strings.HasPrefix(d, "orig ") {
					if unvalidated++; unvalidated <= 3 {
						t.Errorf("mailbox %s got description %.30q: a row that was never validated was applied", a.Mailbox, d)
					}
				}
			}
			if unvalidated > 0 {
				t.Errorf("%d updates carried content that was never validated", unvalidated)
			}
			if len(applied) != rows {
				t.Errorf("%d mailboxes updated, want %d", len(applied), rows)
			}
			for box, n := range applied {
				if n != 1 {
					t.Errorf("mailbox %s updated %d times, want once", box, n)
				}
			}
			rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
			if n := countRecords(t, rep); n != rows {
				t.Errorf("report has %d lines, want one per row validated (%d)", n, rows)
			}
			notOK := 0
			for _, rec := range latest(t, rep) {
				if rec.Status != "ok" {
					if notOK++; notOK <= 3 {
						t.Errorf("row %d: status %s %s, want ok", rec.Row, rec.Status, rec.Message)
					}
				}
			}
			if n := strings.Count(stderr, "changed during the run"); n != 1 {
				t.Errorf("stderr says %d times that the input changed, want once:\n%s", n, tail(stderr, 20))
			}
		})
	}
}

// overwrite rewrites the file in place: same inode, from offset 0, cut to
// the new length when truncate is set.
func overwrite(path, content string, truncate bool) error {
	flag := os.O_WRONLY
	if truncate {
		flag |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(content), 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
