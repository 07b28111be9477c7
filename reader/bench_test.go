package reader

import (
	"bufio"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// benchRows is the size of the benchmark file. It does not depend on b.N:
// each iteration reads the whole file, so rows/s is comparable between runs
// and between the two benchmarks.
const benchRows = 100_000

// writeBenchFile writes the synthetic file once per benchmark (the parent
// of a sub-benchmark runs only once).
func writeBenchFile(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := WriteSyntheticCSV(f, benchRows); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkReadCSV reads the file with our reader: parsing, header and
// value checks, params in schema order, hashing, tally.
func BenchmarkReadCSV(b *testing.B) {
	path := writeBenchFile(b)
	b.Run("rows=100000", func(b *testing.B) {
		benchFile(b, path, func(f *os.File) (int, error) {
			r, err := New(f, Options{Name: "bench.csv"})
			if err != nil {
				return 0, err
			}
			n := 0
			for {
				row, err := r.Next()
				if err == io.EOF {
					return n, nil
				}
				if err != nil {
					return n, err
				}
				if row.Err != nil {
					b.Fatalf("synthetic row refused: %v", row.Err)
				}
				n++
			}
		})
	})
}

// BenchmarkEncodingCSV reads the same file with plain encoding/csv (one
// allocation per record, as ours), the floor our reader is measured against.
func BenchmarkEncodingCSV(b *testing.B) {
	path := writeBenchFile(b)
	b.Run("rows=100000", func(b *testing.B) {
		benchFile(b, path, func(f *os.File) (int, error) {
			cr := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
			cr.ReuseRecord = true
			if _, err := cr.Read(); err != nil { // header
				return 0, err
			}
			n := 0
			for {
				_, err := cr.Read()
				if err == io.EOF {
					return n, nil
				}
				if err != nil {
					return n, err
				}
				n++
			}
		})
	})
}

func benchFile(b *testing.B, path string, read func(*os.File) (int, error)) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := read(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if n != benchRows {
			b.Fatalf("read %d rows, want %d", n, benchRows)
		}
		rows += n
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(rows), "B/row")
}
