package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
)

func result(row int, status batch.Status, msg string) batch.Result {
	return batch.Result{Row: row, Line: row + 1, Mailbox: fmt.Sprint(1000 + row), Customer: "100",
		Status: status, Phase: batch.PhaseApply, Code: "204", Message: msg, Attempts: 1,
		Duration: 7 * time.Millisecond, Fields: []string{"description"}, Hash: fmt.Sprintf("h%d", row)}
}

// writeJournal writes rows 1..n (ok) to a new journal and returns its bytes.
func writeJournal(t *testing.T, path string, f Format, n int) []byte {
	t.Helper()
	j, err := OpenJournal(path, f, SyncNone)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := j.Write(result(i, batch.StatusOK, "OK")); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rowsOf(t *testing.T, path string) map[int]Record {
	t.Helper()
	lr, err := OpenLatest(path)
	if err != nil {
		t.Fatalf("OpenLatest: %v", err)
	}
	defer lr.Close()
	l := map[int]Record{}
	prev := 0
	for rec, err := range lr.All() {
		if err != nil {
			t.Fatalf("LatestReader: %v", err)
		}
		if rec.Row <= prev {
			t.Fatalf("LatestReader: row %d after row %d, want row order", rec.Row, prev)
		}
		prev = rec.Row
		l[rec.Row] = rec
	}
	if lr.Rows() != len(l) {
		t.Errorf("LatestReader.Rows: got %d, want %d", lr.Rows(), len(l))
	}
	return l
}

// A crash can cut the journal at any byte of the record being written.
// At every such offset: OpenLatest ignores the torn record (and keeps every
// whole one), OpenJournal cuts it off, and the next record appended
// starts on a clean line, so the file reads back whole.
func TestTornLastRecordAtEveryOffset(t *testing.T) {
	for _, f := range []Format{CSV, JSONL} {
		t.Run(string(f), func(t *testing.T) {
			const n = 5
			dir := t.TempDir()
			full := writeJournal(t, filepath.Join(dir, "full"), f, n)
			start := bytes.LastIndexByte(full[:len(full)-1], '\n') + 1 // the last record
			for cut := start; cut <= len(full); cut++ {
				p := filepath.Join(dir, fmt.Sprintf("cut%d", cut))
				if err := os.WriteFile(p, full[:cut], 0o600); err != nil {
					t.Fatal(err)
				}
				whole := n - 1
				if cut == len(full) {
					whole = n
				}
				if got := rowsOf(t, p); len(got) != whole {
					t.Fatalf("cut at %d/%d: OpenLatest has %d rows, want %d", cut, len(full), len(got), whole)
				}
				j, err := OpenJournal(p, f, SyncNone)
				if err != nil {
					t.Fatalf("cut at %d: %v", cut, err)
				}
				if st, _ := os.Stat(p); cut < len(full) && st.Size() != int64(start) {
					t.Fatalf("cut at %d: OpenJournal left %d bytes, want %d (the torn record cut off)", cut, st.Size(), start)
				}
				if err := j.Write(result(n, batch.StatusOK, "redone")); err != nil {
					t.Fatal(err)
				}
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
				got := rowsOf(t, p)
				if len(got) != n {
					t.Fatalf("cut at %d: %d rows after the append, want %d", cut, len(got), n)
				}
				for i := 1; i < n; i++ {
					if got[i].Message != "OK" {
						t.Fatalf("cut at %d: row %d = %+v", cut, i, got[i])
					}
				}
				if got[n].Message != "redone" {
					t.Fatalf("cut at %d: row %d message %q, want the appended record", cut, n, got[n].Message)
				}
			}
		})
	}
}

// A crash while the header of a new CSV report is written leaves part of
// a header: the next open starts the file afresh.
func TestTornHeader(t *testing.T) {
	header := strings.Join(Header(), ",") + "\n"
	for cut := 0; cut < len(header); cut++ {
		p := filepath.Join(t.TempDir(), "r.csv")
		if err := os.WriteFile(p, []byte(header[:cut]), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := rowsOf(t, p); len(got) != 0 {
			t.Fatalf("cut at %d: %d rows", cut, len(got))
		}
		j, err := OpenJournal(p, CSV, SyncNone)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Write(result(1, batch.StatusOK, "OK")); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		if !strings.HasPrefix(string(b), header) || strings.Count(string(b), "\n") != 2 {
			t.Fatalf("cut at %d: file is\n%s", cut, b)
		}
	}
}

// Finalize keeps the latest record of every row (a resumed run appends
// newer ones), in row order, one line each, and leaves no temporary file.
func TestFinalizeRowOrderLatestWins(t *testing.T) {
	for _, f := range []Format{CSV, JSONL} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "r.report."+string(f))
			j, err := OpenJournal(p, f, SyncBatch)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []batch.Result{
				result(3, batch.StatusOK, "OK"), result(1, batch.StatusError, "gave up"),
				result(2, batch.StatusSkipped, "not sent"), result(1, batch.StatusOK, "OK"),
			} {
				if err := j.Write(r); err != nil {
					t.Fatal(err)
				}
				if err := j.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if j.Syncs() != 4 {
				t.Errorf("syncs = %d, want one per flush (4)", j.Syncs())
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if err := Finalize(p, f); err != nil {
				t.Fatal(err)
			}
			var rows []string
			for r, err := range NewDecoder(mustOpen(t, p), p).Records() {
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, fmt.Sprintf("%d:%s", r.Row, r.Status))
			}
			if got, want := strings.Join(rows, " "), "1:ok 2:skipped 3:ok"; got != want {
				t.Errorf("finalized rows %q, want %q", got, want)
			}
			if n := countLines(t, p); n != 3+boolInt(f == CSV) {
				t.Errorf("%d lines", n)
			}
			if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
			if tmps, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(tmps) != 0 {
				t.Errorf("temporary files left: %v", tmps)
			}
		})
	}
}

func TestRewriteDropsRows(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.jsonl")
	writeJournal(t, p, JSONL, 4)
	if err := Rewrite(p, func(r Record) bool { return r.Row <= 2 }); err != nil {
		t.Fatal(err)
	}
	got := rowsOf(t, p)
	if len(got) != 2 || got[1].Row != 1 || got[2].Row != 2 {
		t.Fatalf("rows after Rewrite: %v", got)
	}
	if b, _ := os.ReadFile(p); b[0] != '{' {
		t.Errorf("Rewrite changed the format:\n%s", b)
	}
}

// A run killed in the middle of a rewrite (Finalize, the sidecar) leaves
// a temporary file; the next run on the report removes it, and only its.
func TestOpenJournalRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.report.csv")
	stale := []string{".c.report.csv.tmp123", ".c.report.csv.meta.json.tmp9"}
	other := ".d.report.csv.tmp1"
	for _, name := range append(stale, other) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	j, err := OpenJournal(p, CSV, SyncBatch)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s not removed", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, other)); err != nil {
		t.Errorf("another report's temporary file was removed: %v", err)
	}
}

func TestOpenJournalRefusesUnwritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{
		"missing directory": filepath.Join(dir, "nope", "r.csv"),
		"parent is a file":  filepath.Join(file, "r.csv"),
		"path is a dir":     dir,
	} {
		t.Run(name, func(t *testing.T) {
			if j, err := OpenJournal(p, CSV, SyncBatch); err == nil {
				j.Close()
				t.Fatalf("OpenJournal(%s) succeeded", p)
			}
		})
	}
}

// Records go through both encodings unchanged: formula-like cells,
// quotes, commas, line breaks (kept on one line), empty field lists.
func TestRecordRoundTrip(t *testing.T) {
	rs := []batch.Result{
		{Row: 1, Mailbox: "=1+1", Customer: "-2", Status: batch.StatusInvalid, Phase: batch.PhaseLocal, Key: "@x",
			Message: "bad \"value\", see\nline two", Fields: []string{"pin", "timezone"}, Hash: "abc", Line: 3},
		{Row: 2, Mailbox: "'quoted", Status: batch.StatusSkipped, Message: "+ not sent\r\n"},
	}
	for _, f := range []Format{CSV, JSONL} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			enc, err := NewEncoder(&b, f, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if err := enc.Encode(FromResult(r)); err != nil {
					t.Fatal(err)
				}
			}
			if err := enc.Flush(); err != nil {
				t.Fatal(err)
			}
			text := b.String()
			if lines := strings.Count(text, "\n"); lines != len(rs)+boolInt(f == CSV) {
				t.Errorf("%d lines, want one per record:\n%s", lines, text)
			}
			d := NewDecoder(strings.NewReader(text), "mem")
			for _, r := range rs {
				got, err := d.Next()
				if err != nil {
					t.Fatal(err)
				}
				if want := FromResult(r); !reflect.DeepEqual(got, want) {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
			}
			if f == CSV && !strings.Contains(text, "'=1+1") {
				t.Errorf("formula cell not neutralised:\n%s", text)
			}
		})
	}
}

func TestMetaRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.csv")
	m := Meta{Version: 1, Input: "c.csv", InputSHA256: "ab", InputFormat: "csv", EmptyToken: "<empty>",
		Delimiter: ";", Mode: "run", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Format: CSV}
	if err := WriteMeta(p, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMeta(p)
	if err != nil {
		t.Fatal(err)
	}
	if got != m {
		t.Errorf("got %+v, want %+v", got, m)
	}
	if st, _ := os.Stat(MetaPath(p)); st.Mode().Perm() != 0o600 {
		t.Errorf("sidecar mode %v", st.Mode().Perm())
	}
}

func mustOpen(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func countLines(t *testing.T, p string) int {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestFirstNKeepsRunesWhole(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc..."},
		{"æøå", 3, "æ..."}, // 2-byte runes: byte 3 is inside ø
		{"æøå", 4, "æø..."},
	} {
		if got := firstN(tc.s, tc.n); got != tc.want {
			t.Errorf("firstN(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestLongMessageStaysValidUTF8(t *testing.T) {
	r := FromResult(batch.Result{Row: 1, Status: batch.StatusInvalid, Message: "x" + strings.Repeat("ø", 400)})
	if !utf8.ValidString(r.Message) || !strings.HasSuffix(r.Message, "...") {
		t.Errorf("message %q", r.Message)
	}
}

// A full disk is one clear error that names the report once.
func TestJournalDiskFullNamesReportOnce(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	const path = "/srv/reports/in.report.csv"
	j := &Journal{path: path, f: full, bw: bufio.NewWriterSize(full, 64<<10), policy: SyncNone}
	if j.enc, err = NewEncoder(j.bw, CSV, false); err != nil {
		t.Fatal(err)
	}
	if err := j.Write(batch.Result{Row: 1, Mailbox: "1001", Status: batch.StatusOK}); err != nil {
		t.Fatal(err)
	}
	err = j.Flush()
	if err == nil {
		t.Fatal("Flush to a full disk: no error")
	}
	if got, want := err.Error(), "report "+path+": write: no space left on device"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("error %v is not ENOSPC", err)
	}
}

// A report removed while it is written fails the next flush, also one
// with nothing new to write.
func TestJournalRemovedFailsFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.report.csv")
	j, err := OpenJournal(path, CSV, SyncNone)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(); err == nil || !strings.Contains(err.Error(), "removed or replaced") {
		t.Errorf("Flush after removal = %v, want removed or replaced", err)
	}
}
