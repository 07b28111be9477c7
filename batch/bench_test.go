package batch

import (
	"context"
	"fmt"
	"testing"
)

// instant answers every request at once: what is left is the engine's own
// cost per request (scheduler, governor, results, writer).
type instant struct{}

func (instant) Update(_ context.Context, _ []Param, validate bool) (Response, error) {
	if validate {
		return Response{Code: "201"}, nil
	}
	return Response{Code: "204"}, nil
}

type discardSink struct{}

func (discardSink) Write(Result) error { return nil }
func (discardSink) Flush() error       { return nil }

// BenchmarkRun runs the engine over 10,000 rows (validate + apply) with an
// instant sender and a sink that keeps nothing; ns/op is per row.
func BenchmarkRun(b *testing.B) {
	const rows = 10000
	rs := mkRows(rows, func(i int) string { return fmt.Sprint(100000 + i) })
	for _, workers := range []int{8, 64} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sum, err := Run(context.Background(), opener(rs), instant{}, discardSink{}, Options{Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				if sum.ByStatus[StatusOK] != rows {
					b.Fatalf("ok = %d, want %d", sum.ByStatus[StatusOK], rows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*rows), "ns/request")
		})
	}
}
