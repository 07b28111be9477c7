package htmlpage

import (
	"bytes"
	"flag"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/reporttest"
)

// soak selects the 10,000,000-row page (make soak).
var soak = flag.Bool("soak", false, "make the page of a 10,000,000-row report (make soak; about a minute)")

// TestSoakPage10M makes the page of a 10,000,000-row report streamed
// from a generator through the report's own encoder and decoder (nothing
// on disk): 50,000 customers, a 404 message per failed row, a
// description per row, 5.5 hours of timeline. The page must stay under
// 5 MB and the aggregation's live heap flat in rows.
func TestSoakPage10M(t *testing.T) {
	if !*soak {
		t.Skip("the 10,000,000-row page runs with -soak (make soak)")
	}
	const rows = 10_000_000
	g := gen{mode: "plan", start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), perSecond: 500, customers: 50_000}
	var peak uint64
	stop := reporttest.WatchHeap(&peak)
	began := time.Now()
	s, err := FromReader(g.reader(t, rows, report.CSV), "generated", Limits{})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	aggregated := time.Since(began)
	var b bytes.Buffer
	err = Render(&b, s, Info{Report: "generated.report.csv"})
	stop()
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	t.Logf("%d rows: page %d bytes, aggregated in %s (%.0f ns/row), page in %s, live heap peak %.1f MB",
		s.Rows, b.Len(), aggregated.Round(time.Millisecond), float64(aggregated.Nanoseconds())/rows, took.Round(time.Millisecond), float64(peak)/(1<<20))
	if s.Rows != rows {
		t.Errorf("%d rows aggregated, want %d", s.Rows, rows)
	}
	if b.Len() >= 5<<20 {
		t.Errorf("page of %d rows = %d bytes, want under 5 MB", rows, b.Len())
	}
	// The bounded tables (10,000 customers, 1,000 failure groups, 120
	// buckets of 3.7 KB of histogram) are a few megabytes; a heap that
	// held anything per row would be gigabytes.
	if peak > 64<<20 {
		t.Errorf("live heap grew by %d MB, want under 64 MB", peak>>20)
	}
}

// BenchmarkAggregate is the aggregation's cost per record (decoded
// records, not the decoding).
func BenchmarkAggregate(b *testing.B) {
	g := gen{mode: "run", start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), perSecond: 500, customers: 50_000}
	recs := make([]report.Record, 4096)
	for i := range recs {
		recs[i] = report.FromResult(g.result(i + 1))
	}
	s := NewStats(Limits{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Add(recs[i%len(recs)])
	}
}
