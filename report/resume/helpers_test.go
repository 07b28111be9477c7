package resume

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// rowsSource hands out rows, then err (io.EOF when nil).
type rowsSource struct {
	rows []batch.Row
	err  error
}

func (s *rowsSource) Next() (batch.Row, error) {
	if len(s.rows) == 0 {
		if s.err != nil {
			return batch.Row{}, s.err
		}
		return batch.Row{}, io.EOF
	}
	r := s.rows[0]
	s.rows = s.rows[1:]
	return r, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// opener reads rows, then fails with err when it is not nil.
func opener(rows []batch.Row, err error) batch.Opener {
	return func() (batch.Source, io.Closer, error) {
		return &rowsSource{rows: append([]batch.Row(nil), rows...), err: err}, nopCloser{}, nil
	}
}

// row is row n of an input: a CSV data record on line n+1.
func row(n int, mailbox, hash string) batch.Row {
	return batch.Row{Num: n, Line: n + 1, Mailbox: mailbox, Hash: hash}
}

// rec is the report's record of row n.
func rec(n int, mailbox string, st batch.Status, hash string) report.Record {
	return report.Record{Row: n, Mailbox: mailbox, Status: string(st), Phase: "apply", Line: n + 1, Hash: hash, Fields: []string{"pin"}}
}

// writeReport writes a report through the journal, as a run does, and
// its sidecar when meta is not nil.
func writeReport(t *testing.T, path string, meta *report.Meta, recs ...report.Record) {
	t.Helper()
	j, err := report.OpenJournal(path, report.CSV, report.SyncNone)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := j.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if meta != nil {
		if err := report.WriteMeta(path, *meta); err != nil {
			t.Fatal(err)
		}
	}
}

// testDialect reads like the command: tab spelled "tab" or `\t`.
var testDialect = Dialect{
	CSV: "csv",
	ParseDelimiter: func(s string) (rune, error) {
		if s == "tab" || s == `\t` {
			return '\t', nil
		}
		if r := []rune(s); len(r) == 1 {
			return r[0], nil
		}
		return 0, errors.New("bad delimiter")
	},
}

// sidecar is the sidecar of a CSV run of in.csv.
func sidecar() report.Meta {
	return report.Meta{Version: 1, Input: "in.csv", InputSHA256: strings.Repeat("a", 64), InputFormat: "csv",
		EmptyToken: "<empty>", Delimiter: ",", Mode: "run", Format: report.CSV}
}

// todoRows are the rows of the input p has the run handle.
func todoRows(p *Plan, rows []batch.Row) []int {
	var out []int
	for i := range rows {
		if p.Todo(rows[i].Num) {
			out = append(out, rows[i].Num)
		}
	}
	return out
}

// latestRows are the row numbers of the report at path.
func latestRows(t *testing.T, path string) map[int]report.Record {
	t.Helper()
	lr, err := report.OpenLatest(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	l := map[int]report.Record{}
	for rec, err := range lr.All() {
		if err != nil {
			t.Fatal(err)
		}
		l[rec.Row] = rec
	}
	return l
}
