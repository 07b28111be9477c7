package resume

import (
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/reporttest"
)

// genSource hands out rows 1..n of distinct mailboxes without holding
// them.
type genSource struct{ n, i int }

func (s *genSource) Next() (batch.Row, error) {
	if s.i == s.n {
		return batch.Row{}, io.EOF
	}
	s.i++
	return row(s.i, fmt.Sprint(100000+s.i), fmt.Sprintf("h%d", s.i)), nil
}

// BenchmarkDecide plans a --resume and a --retry-failed of a final
// report with one row in a thousand to redo (error), as ensbulk-bench's
// scale rows do at 1M, at two sizes: the peak heap it holds (garbage not
// yet collected included), which must not grow but by the few bytes per
// row of the index and bitsets, and its time per row. The retry carries
// the rows it does not redo over into its new report (Seed).
//
//	go test -run '^$' -bench Decide -benchtime 3x ./report/resume
func BenchmarkDecide(b *testing.B) {
	for _, rows := range []int{100_000, 400_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchDecide(b, rows) })
	}
}

func benchDecide(b *testing.B, rows int) {
	dir := b.TempDir()
	path := filepath.Join(dir, "in.report.csv")
	j, err := report.OpenJournal(path, report.CSV, report.SyncNone)
	if err != nil {
		b.Fatal(err)
	}
	for n := 1; n <= rows; n++ {
		st := batch.StatusOK
		if n%1000 == 500 {
			st = batch.StatusError
		}
		if err := j.WriteRecord(rec(n, fmt.Sprint(100000+n), st, fmt.Sprintf("h%d", n))); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	meta := sidecar()
	if err := report.WriteMeta(path, meta); err != nil {
		b.Fatal(err)
	}
	open := func() (batch.Source, io.Closer, error) { return &genSource{n: rows}, nopCloser{}, nil }
	for _, retry := range []bool{false, true} {
		name := map[bool]string{false: "resume", true: "retry"}[retry]
		b.Run(name, func(b *testing.B) {
			var peak uint64
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				cfg := Config{Report: path, Meta: sidecar(), Resume: true, Open: open, Dialect: testDialect}
				out := ""
				if retry {
					out = filepath.Join(dir, fmt.Sprintf("retry%d.csv", i))
					cfg = Config{Report: out, Meta: sidecar(), RetryFailed: path, Open: open, Dialect: testDialect}
				}
				stop := reporttest.WatchHeap(&peak)
				p, err := Decide(cfg)
				if err == nil && retry {
					var j *report.Journal
					if j, err = report.OpenJournal(out, report.CSV, report.SyncNone); err == nil {
						err = p.Seed(j)
						j.Close()
					}
				}
				stop()
				if err != nil {
					b.Fatal(err)
				}
				if p.Done != rows-rows/1000 {
					b.Fatalf("done %d, want %d", p.Done, rows-rows/1000)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
		})
	}
}
