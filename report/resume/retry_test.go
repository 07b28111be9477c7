package resume

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// finished is the final report of a run of input(): row 2 was refused
// (404), row 5 is invalid, the others ok.
func finished() []report.Record {
	r2 := rec(2, "b", batch.StatusFailed, "h2")
	r2.Code = "404"
	r5 := rec(5, "c", batch.StatusInvalid, "h5")
	r5.Key = "pin"
	return []report.Record{
		rec(1, "a", batch.StatusOK, "h1"), r2, rec(3, "a", batch.StatusOK, "h3"),
		rec(4, "b", batch.StatusOK, "h4"), r5, rec(6, "d", batch.StatusOK, "h6"),
	}
}

func TestDecideRetry(t *testing.T) {
	fixedBox := input()
	fixedBox[1].Mailbox = "b2" // row 2 failed for its mailbox: naming another is the fix
	shifted := append([]batch.Row{row(1, "x", "hx")}, input()...)
	for i := 1; i < len(shifted); i++ {
		shifted[i].Num, shifted[i].Line = i+1, i+2
	}
	renamedOK := input()
	renamedOK[0].Mailbox = "z"
	tests := []struct {
		name      string
		rows      []batch.Row
		wantTodo  []int
		wantSeeds []int
		wantRefus *Refusal // Path and Op are filled in
	}{
		{name: "reruns rows not ok and later rows of their mailboxes", rows: input(), wantTodo: []int{2, 4, 5}, wantSeeds: []int{1, 3, 6}},
		{name: "a row refused for its mailbox may name another", rows: fixedBox, wantTodo: []int{2, 5}, wantSeeds: []int{1, 3, 4, 6}},
		{name: "an ok row naming another mailbox is refused", rows: renamedOK, wantRefus: &Refusal{Reason: RetryMismatch, Row: 1, Box: Box{Mailbox: "z"}, ReportBox: Box{Mailbox: "a"}}},
		{name: "shifted rows are refused", rows: shifted, wantRefus: &Refusal{Reason: RetryMismatch, Row: 1, Box: Box{Mailbox: "x"}, ReportBox: Box{Mailbox: "a"}}},
		{name: "rows of the report missing from the input are refused", rows: input()[:4], wantRefus: &Refusal{Reason: RetryGone, Rows: Rows{First: []int{5, 6}, Total: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			old := filepath.Join(dir, "in.report.csv")
			m := sidecar()
			writeReport(t, old, &m, finished()...)
			before, err := os.ReadFile(old)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "in.retry1.report.csv")
			p, err := Decide(Config{Report: path, Meta: sidecar(), RetryFailed: old, Open: opener(tt.rows, nil), Dialect: testDialect})
			if tt.wantRefus != nil {
				want := *tt.wantRefus
				want.Op, want.Path = OpRetry, old
				var re *Refusal
				if !errors.As(err, &re) || !reflect.DeepEqual(*re, want) {
					t.Fatalf("Decide: got %+v, want %+v", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if p.Resuming {
				t.Errorf("Resuming: got true, want false (a retry writes a new report)")
			}
			if got := todoRows(p, tt.rows); !slices.Equal(got, tt.wantTodo) {
				t.Errorf("rows handled: got %v, want %v", got, tt.wantTodo)
			}
			if p.Done != len(tt.wantSeeds) {
				t.Errorf("Done: got %d, want %d", p.Done, len(tt.wantSeeds))
			}

			j, err := report.OpenJournal(path, report.CSV, report.SyncNone)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Seed(j); err != nil {
				t.Fatalf("Seed: %v", err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if p.Seeded != len(tt.wantSeeds) {
				t.Errorf("Seeded: got %d, want %d", p.Seeded, len(tt.wantSeeds))
			}
			seeded := latestRows(t, path)
			want := finished()
			for _, n := range tt.wantSeeds {
				if got := seeded[n]; !equalRecord(got, want[n-1]) {
					t.Errorf("seeded row %d: got %+v, want %+v", n, got, want[n-1])
				}
			}
			if len(seeded) != len(tt.wantSeeds) {
				t.Errorf("seeded rows: got %d, want %d", len(seeded), len(tt.wantSeeds))
			}
			if after, _ := os.ReadFile(old); string(after) != string(before) {
				t.Errorf("retried report changed: got %q, want %q", after, before)
			}
		})
	}
}

func TestDecideRetryKeepsLineOfInput(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "in.report.csv")
	writeReport(t, old, nil, finished()...)
	rows := input()
	rows[0].Line = 40 // a multi-line cell above moved row 1 down
	path := filepath.Join(dir, "new.csv")
	p, err := Decide(Config{Report: path, Meta: sidecar(), RetryFailed: old, Open: opener(rows, nil), Dialect: testDialect})
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	j, err := report.OpenJournal(path, report.CSV, report.SyncNone)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Seed(j); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := latestRows(t, path)[1].Line, 40; got != want {
		t.Errorf("line of seeded row 1: got %d, want %d", got, want)
	}
}

func TestDecideRetryRefusesItsOwnReport(t *testing.T) {
	old := filepath.Join(t.TempDir(), "in.report.csv")
	writeReport(t, old, nil, finished()...)
	_, err := Decide(Config{Report: old, Meta: sidecar(), RetryFailed: old, Open: opener(input(), nil), Dialect: testDialect})
	var re *Refusal
	if !errors.As(err, &re) || re.Reason != RetryOfItself || re.Path != old || re.Retried != old {
		t.Errorf("Decide: got %v, want a refusal saying the report is the one retried", err)
	}
}

func equalRecord(a, b report.Record) bool {
	return a.Row == b.Row && a.Mailbox == b.Mailbox && a.Status == b.Status && a.Code == b.Code &&
		a.Key == b.Key && a.Line == b.Line && a.Hash == b.Hash && slices.Equal(a.Fields, b.Fields)
}

// The records a retry carries over wait in a temporary file that is gone
// from its directory at once: a run that is killed before Seed, or whose
// plan is refused, leaves nothing behind.
func TestDecideRetrySpoolLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	old := filepath.Join(dir, "in.report.csv")
	writeReport(t, old, nil, finished()...)
	path := filepath.Join(dir, "in.retry1.report.csv")
	p, err := Decide(Config{Report: path, Meta: sidecar(), RetryFailed: old, Open: opener(input(), nil), Dialect: testDialect})
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files after Decide: %v, want none", left)
	}
	p.Close()
	renamed := input()
	renamed[5].Mailbox = "z" // row 6, ok in the report: refused after rows 1-5 were carried over
	if _, err := Decide(Config{Report: path, Meta: sidecar(), RetryFailed: old, Open: opener(renamed, nil), Dialect: testDialect}); err == nil {
		t.Fatal("Decide: got nil, want a refusal")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files after a refused Decide: %v, want none", left)
	}
}

// A spool that cannot write (a full temporary disk) says so when it ends,
// which Decide does before the run writes anything: its encoder runs on
// a goroutine of its own, so write itself cannot fail.
func TestSpoolWriteErrorSurfaces(t *testing.T) {
	s, err := newSpool(report.CSV)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.f.Close()           // every write from now on fails
	for i := range 5000 { // more than the 64 KiB buffer holds
		if err := s.write(report.Record{Row: i + 1, Mailbox: "1001", Status: "ok", Phase: "apply", Code: "204", Message: "OK"}); err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
	}
	if err := s.end(); err == nil || !strings.Contains(err.Error(), "temporary file for the records carried over") {
		t.Fatalf("end = %v, want the temporary file's write error", err)
	}
	if err := s.end(); err == nil {
		t.Fatal("a second end forgot the error")
	}
}

// A sidecar the caller already read is the one Decide judges by: it does
// not read the retried report's sidecar again.
func TestDecideRetryTakesTheSidecarItIsGiven(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "in.report.csv")
	m := sidecar()
	writeReport(t, old, &m, finished()...)
	path := filepath.Join(dir, "in.retry1.report.csv")
	given := &Sidecar{Err: errors.New("read by the caller: unreadable")}
	now := sidecar()
	now.Switch, now.User = "https://sw.example.com", "admin" // a run that knows its switch judges the retried one's
	_, err := Decide(Config{Report: path, Meta: now, RetryFailed: old, Retried: given, Open: opener(input(), nil), Dialect: testDialect})
	var re *Refusal
	if !errors.As(err, &re) || re.Reason != SidecarUnreadable || !errors.Is(re.Err, given.Err) {
		t.Fatalf("Decide with a given unreadable sidecar: %v; want the SidecarUnreadable refusal of that error (the file's own sidecar is fine)", err)
	}
	p, err := Decide(Config{Report: path, Meta: sidecar(), RetryFailed: old, Retried: ReadSidecar(old), Open: opener(input(), nil), Dialect: testDialect})
	if err != nil || p.Retried == nil || p.Retried.Input != m.Input {
		t.Fatalf("Decide with the sidecar as read: %v, retried %+v", err, p)
	}
}
