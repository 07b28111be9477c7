package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report/reporttest"
)

// hostileRecord is a record of row n whose cells take the CSV writer's
// every path: quotes, delimiters, formula prefixes, and now and then a
// line longer than a read window.
func hostileRecord(n int, rnd *rand.Rand) Record {
	st := batch.Statuses[rnd.IntN(len(batch.Statuses))]
	r := Record{Row: n, Mailbox: fmt.Sprint(1000 + n%97), Customer: "100", Status: string(st), Phase: "apply",
		Code: "204", Attempts: 1 + n%3, DurationMS: int64(n % 50), Fields: FieldNames{"description"},
		Line: n + 1, Hash: fmt.Sprintf("%016x", rnd.Uint64()), Time: "2026-01-02T03:04:05.000Z"}
	switch n % 7 {
	case 1:
		r.Message = `said "no", then, "maybe"`
	case 2:
		r.Mailbox = "=cmd|' /C calc'!A0"
	case 3:
		r.Fields = FieldNames{}
		r.Customer = ""
	case 4:
		r.Changes = `description: "a,b" -> 'x'`
	case 5:
		r.Message = " leading space, trailing "
	}
	if n%5000 == 17 {
		r.Changes = strings.Repeat("description: a -> b; ", 4000) // > 64 KiB
	}
	return r
}

// OpenLatest and Finalize must give, for a journal in completion order
// with superseded records, what decoding every record does: each row's
// last record, in row order, byte for byte what the encoder writes. The
// journal spans several index pages and read windows, and holds lines
// longer than a window.
func TestLatestReaderMatchesFullDecode(t *testing.T) {
	// Pages of 1,024 rows: the same paths as 65,536 (the journal spans
	// two pages), at a sixty-fourth of the rows. Set before the subtests
	// run and put back after both; no other test of the package runs in
	// parallel with this one.
	saved := pageRows
	pageRows = 1 << 10
	t.Cleanup(func() { pageRows = saved })
	for _, f := range []Format{CSV, JSONL} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			rnd := rand.New(rand.NewPCG(1, uint64(len(f))))
			// Rows finish near file order, as a pool of 64 workers
			// finishes them, but for a stretch in any order.
			rows := pageRows + 123
			var order []int
			for i := 0; i < rows; i += 64 {
				for _, k := range rnd.Perm(min(64, rows-i)) {
					order = append(order, i+k)
				}
			}
			rnd.Shuffle(min(2000, len(order)/2), func(i, j int) { order[i], order[j] = order[j], order[i] })
			var recs []Record
			for _, i := range order {
				if i%11 == 3 {
					continue // a row never finished
				}
				recs = append(recs, hostileRecord(i+1, rnd))
				if i%13 == 0 {
					// Superseded later by the row's final record.
					recs = append(recs[:len(recs)-1], Record{Row: i + 1, Status: string(batch.StatusValid), Phase: "validate", Fields: FieldNames{}}, recs[len(recs)-1])
				}
			}
			// A resume appends newer records for some rows at the end.
			for n := 5; n <= rows; n += 977 {
				recs = append(recs, hostileRecord(n, rnd))
			}
			path := filepath.Join(t.TempDir(), "r.report."+string(f))
			buf := bytes.NewBufferString(encodeReport(t, f, recs))
			if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}

			want := map[int]Record{}
			for rec, err := range NewDecoder(bytes.NewReader(buf.Bytes()), path).Records() {
				if err != nil {
					t.Fatal(err)
				}
				want[rec.Row] = rec
			}
			got := rowsOf(t, path)
			if len(got) != len(want) {
				t.Fatalf("rows: got %d, want %d", len(got), len(want))
			}
			for n, w := range want {
				if g := got[n]; fmt.Sprint(g) != fmt.Sprint(w) {
					t.Fatalf("row %d: got %+v, want %+v", n, g, w)
				}
			}

			c, err := FinalizeCount(path, f)
			if err != nil {
				t.Fatal(err)
			}
			var exp bytes.Buffer
			enc, _ := NewEncoder(&exp, f, true)
			byStatus := map[batch.Status]int{}
			for n := 1; n <= rows; n++ {
				if w, ok := want[n]; ok {
					if err := enc.Encode(w); err != nil {
						t.Fatal(err)
					}
					byStatus[batch.Status(w.Status)]++
				}
			}
			enc.Flush()
			final, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(final, exp.Bytes()) {
				t.Fatalf("final report (%d bytes) differs from the latest records encoded in row order (%d bytes)", len(final), exp.Len())
			}
			if c.Rows != len(want) || fmt.Sprint(c.ByStatus) != fmt.Sprint(byStatus) {
				t.Errorf("counts: got %d rows %v, want %d %v", c.Rows, c.ByStatus, len(want), byStatus)
			}
			lr, err := OpenLatest(path)
			if err != nil {
				t.Fatal(err)
			}
			defer lr.Close()
			if !lr.Sorted() {
				t.Errorf("a final report: Sorted() is false")
			}
		})
	}
}

// A malformed record met on the walk in row order is named by its line
// in the file, as the sequential decoder names it.
func TestLatestReaderNamesBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.report.csv")
	var buf bytes.Buffer
	enc, _ := NewEncoder(&buf, CSV, true)
	for _, n := range []int{3, 1, 2} {
		enc.Encode(FromResult(result(n, batch.StatusOK, "OK")))
	}
	enc.Flush()
	lines := strings.SplitAfter(buf.String(), "\n")
	lines[2] = strings.Replace(lines[2], ",1,", ",x1,", 1) // row 1's attempts, on line 3
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Count(path)
	if err == nil || !strings.Contains(err.Error(), path+": line 3: attempts") {
		t.Errorf("Count: got %v, want an error naming line 3 and its attempts cell", err)
	}
}

// BenchmarkFinalize measures the end of a run of 100,000 rows: the
// journal in completion order (a passed validation, then the final
// result of each row) rewritten in row order and counted. Its peak heap
// is reported per row: the index is 5 bytes a row.
//
//	go test -run '^$' -bench Finalize -benchtime 5x ./report
func BenchmarkFinalize(b *testing.B) {
	const rows = 100_000
	dir := b.TempDir()
	var buf bytes.Buffer
	enc, _ := NewEncoder(&buf, CSV, true)
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, phase := range []batch.Status{batch.StatusValid, batch.StatusOK} {
		for i := 0; i < rows; i += 64 {
			for _, k := range rnd.Perm(min(64, rows-i)) {
				r := FromResult(batch.Result{Row: i + k + 1, Mailbox: fmt.Sprint(1000 + i + k), Customer: "100", Status: phase,
					Phase: batch.PhaseApply, Code: "204", Message: "OK", Attempts: 1, Duration: 12 * time.Millisecond,
					Fields: []string{"description", "timezone"}, Hash: "9f86d081884c7d659a2feaa0c55ad015"})
				enc.Encode(r)
			}
		}
	}
	enc.Flush()
	path := filepath.Join(dir, "r.report.csv")
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		stop := reporttest.WatchHeap(&peak)
		c, err := FinalizeCount(path, CSV)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if c.Rows != rows {
			b.Fatalf("rows %d, want %d", c.Rows, rows)
		}
	}
	b.ReportMetric(float64(peak)/rows, "peak-heap-B/row")
}

// NextBrief reads the leading fields of each row's latest record as
// Next does, whatever the cells hold (quotes, commas, the spreadsheet
// guard), and says what is wrong with a line as Next does.
func TestNextBriefReadsWhatNextReads(t *testing.T) {
	odd := []string{"", "1000", "a,b", `say "hi"`, "=1+1", "-5", "'x", "Zoë", " ", "1e5"}
	statuses := []batch.Status{batch.StatusOK, batch.StatusFailed, batch.StatusSkipped, batch.StatusValid}
	rng := rand.New(rand.NewPCG(8, 22))
	path := filepath.Join(t.TempDir(), "r.report.csv")
	j, err := OpenJournal(path, CSV, SyncNone)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		rec := Record{Row: 1 + rng.IntN(1000), Mailbox: odd[rng.IntN(len(odd))], Customer: odd[rng.IntN(len(odd))],
			Status: string(statuses[rng.IntN(len(statuses))]), Phase: "apply", Code: odd[rng.IntN(len(odd))],
			Key: odd[rng.IntN(len(odd))], Message: odd[rng.IntN(len(odd))], Attempts: i % 3, Changes: odd[rng.IntN(len(odd))]}
		if err := j.WriteRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	full, short := openTwice(t, path)
	for {
		want, werr := full.Next()
		got, gerr := short.NextBrief()
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("Next: %v; NextBrief: %v", werr, gerr)
		}
		if werr != nil {
			break
		}
		lead := func(r Record) [6]string {
			return [6]string{fmt.Sprint(r.Row), r.Mailbox, r.Customer, r.Status, r.Phase, r.Code}
		}
		if lead(got) != lead(want) {
			t.Fatalf("NextBrief: %+v\nNext:      %+v", got, want)
		}
	}
}

// A line NextBrief does not vouch for is read whole: a report with a bad
// line is refused by NextBrief as by Next (before a resume sends
// anything), and an odd but good one reads the same.
func TestNextBriefRefusesWhatNextRefuses(t *testing.T) {
	hdr := strings.Join(Header(), ",") + "\n"
	for _, tc := range []struct {
		name, line string
		bad        bool
	}{
		{"whole", "1,1000,,ok,apply,204,,OK,1,2,pin,2,h,,t", false},
		{"quoted changes with a comma", `1,1000,,ok,apply,204,,OK,1,2,pin,2,h,"a: """" -> b, c",t`, false},
		{"quoted integer", `1,1000,,ok,apply,204,,OK,"1",2,pin,2,h,,t`, false},
		{"too few cells", "1,1000,,ok,apply,204,,OK,1,2", true},
		{"too many cells", "1,1000,,ok,apply,204,,OK,1,2,pin,2,h,,t,extra", true},
		{"attempts not a number", "1,1000,,ok,apply,204,,OK,x,2,pin,2,h,,t", true},
		{"line not a number", "1,1000,,ok,apply,204,,OK,1,2,pin,2.5,h,,t", true},
		{"quote not closed", `1,1000,,ok,apply,204,,OK,1,2,pin,2,h,"a -> b,t`, true},
		{"text after a closing quote", `1,1000,,ok,apply,204,,OK,1,2,pin,2,h,"a"b,t`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.report.csv")
			if err := os.WriteFile(path, []byte(hdr+tc.line+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			full, short := openTwice(t, path)
			want, werr := full.Next()
			got, gerr := short.NextBrief()
			if (werr != nil) != tc.bad || (gerr != nil) != tc.bad {
				t.Fatalf("Next: %v; NextBrief: %v; want an error: %v", werr, gerr, tc.bad)
			}
			if !tc.bad && (got.Row != want.Row || got.Status != want.Status || got.Code != want.Code) {
				t.Errorf("NextBrief %+v, Next %+v", got, want)
			}
		})
	}
}

// openTwice opens the report at path with two readers, one to read whole
// (Next) and one to read briefly (NextBrief), closed when the test ends.
func openTwice(t *testing.T, path string) (full, short *LatestReader) {
	t.Helper()
	for _, r := range []**LatestReader{&full, &short} {
		lr, err := OpenLatest(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lr.Close() })
		*r = lr
	}
	return full, short
}
