package resume

import (
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// input is a file of six rows: mailbox a twice, b twice, c, d.
func input() []batch.Row {
	return []batch.Row{row(1, "a", "h1"), row(2, "b", "h2"), row(3, "a", "h3"), row(4, "b", "h4"), row(5, "c", "h5"), row(6, "d", "h6")}
}

// interrupted is the report of a run of input() killed before row 6:
// row 2 ran out of retries, row 5 was skipped.
func interrupted() []report.Record {
	return []report.Record{
		rec(1, "a", batch.StatusOK, "h1"), rec(2, "b", batch.StatusError, "h2"), rec(3, "a", batch.StatusOK, "h3"),
		rec(4, "b", batch.StatusOK, "h4"), rec(5, "c", batch.StatusSkipped, "h5"),
	}
}

func TestDecideResume(t *testing.T) {
	changedSHA := sidecar()
	changedSHA.InputSHA256 = strings.Repeat("b", 64)
	edited := input()
	edited[2].Hash = "h3-edited"
	shorter := input()[:4] // row 5 (and 6, never reported) gone
	contentChange := Change{Kind: ContentChanged, Then: sidecar().InputSHA256, Now: changedSHA.InputSHA256}
	tests := []struct {
		name      string
		rows      []batch.Row
		now       report.Meta // this run's sidecar
		force     bool
		wantTodo  []int
		wantDone  int
		wantRefus []Change // the changes an InputChanged refusal names; nil: none
		wantRows  []int    // the report's rows afterwards
		wantSHA   string   // the sidecar's input sha256 afterwards
	}{
		{
			name: "unchanged input redoes error, skipped, missing and later rows of their mailboxes",
			rows: input(), now: sidecar(),
			wantTodo: []int{2, 4, 5, 6}, wantDone: 2,
			wantRows: []int{1, 2, 3, 4, 5}, wantSHA: sidecar().InputSHA256,
		},
		{
			name: "changed row is refused",
			rows: edited, now: changedSHA,
			wantRefus: []Change{contentChange, {Kind: RowsChanged, Rows: Rows{First: []int{3}, Total: 1}}},
		},
		{
			name: "changed row with force is redone and the sidecar follows the input",
			rows: edited, now: changedSHA, force: true,
			wantTodo: []int{2, 3, 4, 5, 6}, wantDone: 1,
			wantRows: []int{1, 2, 3, 4, 5}, wantSHA: changedSHA.InputSHA256,
		},
		{
			name: "lost row is refused",
			rows: shorter, now: changedSHA,
			wantRefus: []Change{contentChange, {Kind: RowsGone, Rows: Rows{First: []int{5}, Total: 1}}},
		},
		{
			name: "lost row with force leaves the report",
			rows: shorter, now: changedSHA, force: true,
			wantTodo: []int{2, 4}, wantDone: 2,
			wantRows: []int{1, 2, 3, 4}, wantSHA: changedSHA.InputSHA256,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.report.csv")
			then := sidecar()
			writeReport(t, path, &then, interrupted()...)
			p, err := Decide(Config{Report: path, Meta: tt.now, Resume: true, Force: tt.force, Open: opener(tt.rows, nil), Dialect: testDialect})
			if tt.wantRefus != nil {
				var re *Refusal
				if !errors.As(err, &re) || re.Reason != InputChanged || re.Op != OpResume || re.Path != path {
					t.Fatalf("Decide: got %v, want an InputChanged refusal to resume %s", err, path)
				}
				if !reflect.DeepEqual(re.Changes, tt.wantRefus) {
					t.Errorf("changes: got %+v, want %+v", re.Changes, tt.wantRefus)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if !p.Resuming {
				t.Errorf("Resuming: got false, want true")
			}
			if got := todoRows(p, tt.rows); !slices.Equal(got, tt.wantTodo) {
				t.Errorf("rows handled: got %v, want %v", got, tt.wantTodo)
			}
			if p.Done != tt.wantDone {
				t.Errorf("Done: got %d, want %d", p.Done, tt.wantDone)
			}
			if got := slices.Sorted(maps.Keys(latestRows(t, path))); !slices.Equal(got, tt.wantRows) {
				t.Errorf("report rows: got %v, want %v", got, tt.wantRows)
			}
			m, err := report.ReadMeta(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.InputSHA256 != tt.wantSHA || p.Meta.InputSHA256 != tt.wantSHA {
				t.Errorf("input sha256: got %.12s (sidecar) and %.12s (plan), want %.12s", m.InputSHA256, p.Meta.InputSHA256, tt.wantSHA)
			}
		})
	}
}

func TestDecideResumeRefusesAnotherReport(t *testing.T) {
	validate := sidecar()
	validate.Mode = "validate"
	jsonl := sidecar()
	jsonl.Format = report.JSONL
	tests := []struct {
		name    string
		sidecar *report.Meta // nil: none
		want    Reason
	}{
		{"no sidecar", nil, SidecarMissing},
		{"another mode", &validate, OtherMode},
		{"another format", &jsonl, OtherFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.report.csv")
			writeReport(t, path, tt.sidecar, interrupted()...)
			_, err := Decide(Config{Report: path, Meta: sidecar(), Resume: true, Open: opener(input(), nil), Dialect: testDialect})
			var re *Refusal
			if !errors.As(err, &re) || re.Reason != tt.want || re.Op != OpResume {
				t.Fatalf("Decide: got %v, want a refusal to resume: %v", err, tt.want)
			}
			// What the report is, and what this run is, for the words.
			if tt.sidecar != nil && (re.Then != *tt.sidecar || re.Now != sidecar()) {
				t.Errorf("refusal: got then %+v, now %+v; want %+v, %+v", re.Then, re.Now, *tt.sidecar, sidecar())
			}
		})
	}
}

func TestDecideReport(t *testing.T) {
	tests := []struct {
		name       string
		records    []report.Record // nil: no report file
		sidecar    bool
		resume     bool
		wantExists bool // refused with ErrReportExists
		wantFresh  bool // a new report: every row handled
	}{
		{name: "no report starts afresh", wantFresh: true},
		{name: "no report with resume starts afresh", resume: true, wantFresh: true},
		{name: "existing report is not overwritten", records: interrupted(), sidecar: true, wantExists: true},
		{name: "empty report without sidecar is started afresh on resume", records: []report.Record{}, resume: true, wantFresh: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.report.csv")
			if tt.records != nil {
				var m *report.Meta
				if tt.sidecar {
					s := sidecar()
					m = &s
				}
				writeReport(t, path, m, tt.records...)
			}
			now := sidecar()
			p, err := Decide(Config{Report: path, Meta: now, Resume: tt.resume, Open: opener(input(), nil), Dialect: testDialect})
			if got := errors.Is(err, ErrReportExists); got != tt.wantExists {
				t.Fatalf("Decide: got %v, want ErrReportExists %v", err, tt.wantExists)
			}
			if tt.wantExists {
				var re *Refusal
				if !errors.As(err, &re) || re.Reason != ReportExists {
					t.Errorf("Decide: got %v, want a ReportExists refusal", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if p.Resuming || p.Done != 0 || p.Meta != now {
				t.Errorf("plan: got resuming %v, done %d, meta %+v; want a new report with meta %+v", p.Resuming, p.Done, p.Meta, now)
			}
			rows := input()
			if got := todoRows(p, rows); len(got) != len(rows) {
				t.Errorf("rows handled: got %v, want all %d", got, len(rows))
			}
			if _, err := os.Stat(path); err == nil {
				t.Errorf("report %s: got a file, want none (the run creates it)", path)
			}
		})
	}
}

func TestDecideInputErrors(t *testing.T) {
	broken := errors.New("line 4: bare quote")
	unopened := errors.New("input changed during the run")
	tests := []struct {
		name        string
		open        batch.Opener
		wantRefused bool
		wantIs      error
	}{
		{"a row that cannot be read refuses the run", opener(input()[:2], broken), true, broken},
		{"an input that cannot be opened is returned as it is", func() (batch.Source, io.Closer, error) { return nil, nil, unopened }, false, unopened},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.report.csv")
			then := sidecar()
			writeReport(t, path, &then, interrupted()...)
			// An input whose bytes changed since: one that did not is
			// not read to decide (sameInput), the run reads it.
			now := sidecar()
			now.InputSHA256 = strings.Repeat("b", 64)
			_, err := Decide(Config{Report: path, Meta: now, Resume: true, Open: tt.open, Dialect: testDialect})
			var re *Refusal
			if got := errors.As(err, &re); got != tt.wantRefused || !errors.Is(err, tt.wantIs) {
				t.Errorf("Decide: got %v (refused %v), want %v (refused %v)", err, got, tt.wantIs, tt.wantRefused)
			}
			if tt.wantRefused && re.Reason != RowUnreadable {
				t.Errorf("Decide: got %v, want RowUnreadable (said: nothing was sent)", re.Reason)
			}
		})
	}
}

func TestMetaDiffs(t *testing.T) {
	jsonl := sidecar()
	jsonl.InputFormat = "jsonl"
	with := func(m report.Meta, f func(*report.Meta)) report.Meta { f(&m); return m }
	tests := []struct {
		name      string
		then, now report.Meta
		want      []Change
	}{
		{"same", sidecar(), sidecar(), nil},
		{"tab spelled two ways", with(sidecar(), func(m *report.Meta) { m.Delimiter = "tab" }), with(sidecar(), func(m *report.Meta) { m.Delimiter = `\t` }), nil},
		{"delimiter", sidecar(), with(sidecar(), func(m *report.Meta) { m.Delimiter = ";" }), []Change{{Kind: DelimiterChanged, Then: ",", Now: ";"}}},
		{"empty token", sidecar(), with(sidecar(), func(m *report.Meta) { m.EmptyToken = "-" }), []Change{{Kind: EmptyTokenChanged, Then: "<empty>", Now: "-"}}},
		{"csv options do not matter to jsonl", with(jsonl, func(m *report.Meta) { m.Delimiter = ";" }), jsonl, nil},
		{"format", sidecar(), jsonl, []Change{{Kind: FormatChanged, Then: "csv", Now: "jsonl"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metaDiffs(tt.then, tt.now, testDialect); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("metaDiffs: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A row without a customer may be the same mailbox as a row naming the
// login's own customer: redoing one redoes the later rows of the same
// mailbox number, whatever their customer column.
func TestDecideResumeKeysByMailboxNumber(t *testing.T) {
	withCustomer := func(r batch.Row, c string) batch.Row { r.Customer = c; return r }
	recWith := func(r report.Record, c string) report.Record { r.Customer = c; return r }
	rows := []batch.Row{
		withCustomer(row(1, "1000", "h1"), ""),
		withCustomer(row(2, "1000", "h2"), "1"),
		withCustomer(row(3, "1000", "h3"), "100"),
		withCustomer(row(4, "2000", "h4"), "1"),
	}
	path := filepath.Join(t.TempDir(), "in.report.csv")
	meta := sidecar()
	writeReport(t, path, &meta,
		recWith(rec(1, "1000", batch.StatusError, "h1"), ""),
		recWith(rec(2, "1000", batch.StatusOK, "h2"), "1"),
		recWith(rec(3, "1000", batch.StatusOK, "h3"), "100"),
		recWith(rec(4, "2000", batch.StatusOK, "h4"), "1"),
	)
	p, err := Decide(Config{Report: path, Meta: sidecar(), Resume: true, Open: opener(rows, nil), Dialect: testDialect})
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if got, want := todoRows(p, rows), []int{1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("rows handled: got %v, want %v", got, want)
	}
}
