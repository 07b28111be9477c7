package report

import (
	"bytes"
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

// BenchmarkJournalWriteFlush measures one record written and flushed, as
// the engine does when results arrive one at a time (the worst case for
// group commit: a group of one). With SyncBatch every Flush is an fsync;
// the difference to SyncNone is the price of durability on this disk.
//
//	go test -run '^$' -bench JournalWriteFlush -benchtime 2000x ./report
func BenchmarkJournalWriteFlush(b *testing.B) {
	for _, policy := range []SyncPolicy{SyncBatch, SyncNone} {
		for _, group := range []int{1, 8} {
			b.Run(string(policy)+"/group"+strconv.Itoa(group), func(b *testing.B) {
				j, err := OpenJournal(filepath.Join(b.TempDir(), "r.report.csv"), CSV, policy)
				if err != nil {
					b.Fatal(err)
				}
				defer j.Close()
				res := batch.Result{Row: 1, Mailbox: "1001", Customer: "100", Status: batch.StatusOK,
					Phase: batch.PhaseApply, Code: "204", Message: "OK", Attempts: 1,
					Duration: 12 * time.Millisecond, Fields: []string{"description", "timezone"},
					Hash: "9f86d081884c7d659a2feaa0c55ad015"}
				b.ResetTimer()
				for i := range b.N {
					res.Row = i + 1
					if err := j.Write(res); err != nil {
						b.Fatal(err)
					}
					if (i+1)%group == 0 {
						if err := j.Flush(); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := j.Flush(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(j.Syncs())/float64(b.N), "fsyncs/record")
			})
		}
	}
}

// BenchmarkEncode measures the CPU cost of encoding one record, without
// the file: what the journal pays per row before any write(2) or fsync.
//
//	go test -run '^$' -bench Encode ./report
func BenchmarkEncode(b *testing.B) {
	for _, f := range []Format{CSV, JSONL} {
		b.Run(string(f), func(b *testing.B) {
			enc, err := NewEncoder(io.Discard, f, true)
			if err != nil {
				b.Fatal(err)
			}
			rec := FromResult(batch.Result{Row: 1, Mailbox: "1001", Customer: "100", Status: batch.StatusOK,
				Phase: batch.PhaseApply, Code: "204", Message: "OK", Attempts: 1,
				Duration: 12 * time.Millisecond, Fields: []string{"description", "timezone"},
				Hash: "9f86d081884c7d659a2feaa0c55ad015"})
			b.ReportAllocs()
			for i := range b.N {
				rec.Row = i + 1
				if err := enc.Encode(rec); err != nil {
					b.Fatal(err)
				}
				if i%64 == 63 {
					if err := enc.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := enc.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkDecode measures reading one record back, as a resume, a
// summary and the final rewrite do for every row of a report.
//
//	go test -run '^$' -bench Decode ./report
func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct {
		f       Format
		changes []batch.Change // a run with reads records them: quoted cells
	}{
		{CSV, nil}, {JSONL, nil},
		{CSV, []batch.Change{{Field: "description", Known: true, Old: "Sales 100042", New: "Reception, front desk \"B\" 100042"}, {Field: "timezone", Known: true, Old: "Europe/London", New: "Europe/Paris"}}},
	} {
		f := tc.f
		name := string(f)
		if tc.changes != nil {
			name += "-changes"
		}
		b.Run(name, func(b *testing.B) {
			var buf bytes.Buffer
			enc, err := NewEncoder(&buf, f, true)
			if err != nil {
				b.Fatal(err)
			}
			rec := FromResult(batch.Result{Row: 1, Mailbox: "1001", Customer: "100", Status: batch.StatusOK,
				Phase: batch.PhaseApply, Code: "204", Message: "OK", Attempts: 1,
				Duration: 12 * time.Millisecond, Fields: []string{"description", "timezone"},
				Hash: "9f86d081884c7d659a2feaa0c55ad015", Changes: tc.changes})
			for i := range b.N {
				rec.Row = i + 1
				if err := enc.Encode(rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := enc.Flush(); err != nil {
				b.Fatal(err)
			}
			d := NewDecoder(&buf, "bench")
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for _, err := range d.Records() {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != b.N {
				b.Fatalf("decoded %d records, want %d", n, b.N)
			}
		})
	}
}
