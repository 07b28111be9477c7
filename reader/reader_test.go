package reader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
)

// readString reads every row of a CSV or JSONL text.
func readString(t testing.TB, text string, opts Options) ([]batch.Row, error) {
	t.Helper()
	r, err := New(strings.NewReader(text), opts)
	if err != nil {
		return nil, err
	}
	return drain(r)
}

func drain(r *Reader) ([]batch.Row, error) {
	var rows []batch.Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// TestCatalogChunked reads every catalog file through readers that hand
// out one byte, or half the asked bytes, at a time: the line end and
// quoting checks must not depend on where reads happen to cut the input.
func TestCatalogChunked(t *testing.T) {
	wraps := map[string]func(io.Reader) io.Reader{
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data-err": iotest.DataErrReader,
	}
	for _, e := range loadCatalog(t) {
		if strings.HasPrefix(filepath.Base(e.File), "long_line") {
			continue // one byte at a time through a megabyte is slow and adds nothing
		}
		data, err := os.ReadFile(filepath.Join("testdata", e.File))
		if err != nil {
			t.Fatal(err)
		}
		wantRows, wantErr := readBytes(t, data, e.options(t), nil)
		for name, wrap := range wraps {
			t.Run(filepath.Base(e.File)+"/"+name, func(t *testing.T) {
				rows, err := readBytes(t, data, e.options(t), wrap)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Errorf("got error %v, want %v", err, wantErr)
				}
				if !reflect.DeepEqual(rows, wantRows) {
					t.Errorf("got rows %+v,\nwant %+v", rows, wantRows)
				}
			})
		}
	}
}

func readBytes(t testing.TB, data []byte, opts Options, wrap func(io.Reader) io.Reader) ([]batch.Row, error) {
	t.Helper()
	var src io.Reader = bytes.NewReader(data)
	if wrap != nil {
		src = wrap(src)
	}
	r, err := New(src, opts)
	if err != nil {
		return nil, err
	}
	return drain(r)
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		path, override string
		want           Format
		wantErr        string
	}{
		{"changes.csv", "", CSV, ""},
		{"CHANGES.CSV", "", CSV, ""},
		{"dir.v2/changes.jsonl", "", JSONL, ""},
		{"changes.ndjson", "", JSONL, ""},
		{"-", "", CSV, ""},
		{"-", "jsonl", JSONL, ""},
		{"changes.txt", "csv", CSV, ""},
		{"changes.csv", "NDJSON", JSONL, ""},
		{"changes.txt", "", "", "pass the format csv or the format jsonl"},
		{"changes.csv.gz", "", "", "pass the format"},
		{"changes", "", "", "pass the format"},
		{"changes.csv", "xlsx", "", `unknown format "xlsx"`},
	}
	for _, tt := range tests {
		t.Run(tt.path+"+"+tt.override, func(t *testing.T) {
			got, err := DetectFormat(tt.path, tt.override)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"quote delimiter", Options{Delimiter: '"'}, "invalid delimiter"},
		{"newline delimiter", Options{Delimiter: '\n'}, "invalid delimiter"},
		{"delimiter for jsonl", Options{Format: JSONL, Delimiter: ';'}, "CSV input only"},
		{"unknown format", Options{Format: "xml"}, "unknown format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Name = "in"
			_, err := New(strings.NewReader("mailbox\n1\n"), tt.opts)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || fe.File != "in" {
				t.Fatalf("got %v, want a *FileError for file in containing %q", err, tt.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "changes.csv")
	if err := os.WriteFile(csvPath, []byte("mailbox,pin\n1001,1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("file", func(t *testing.T) {
		r, c, err := Open(csvPath, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rows, err := drain(r)
		if err != nil || len(rows) != 1 || rows[0].Mailbox != "1001" {
			t.Fatalf("got %+v, %v; want one row for 1001", rows, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, _, err := Open(filepath.Join(dir, "nope.csv"), Options{})
		var fe *FileError
		if !errors.As(err, &fe) || !errors.Is(err, fs.ErrNotExist) || fe.File != filepath.Join(dir, "nope.csv") {
			t.Fatalf("got %v, want a *FileError naming the file and wrapping fs.ErrNotExist", err)
		}
	})
	t.Run("bad header closes the file", func(t *testing.T) {
		p := filepath.Join(dir, "bad.csv")
		os.WriteFile(p, []byte("mailbox,PIN\n"), 0o600)
		r, c, err := Open(p, Options{})
		if err == nil || r != nil || c != nil {
			t.Fatalf("got %v, %v, %v; want only an error", r, c, err)
		}
		if !strings.HasPrefix(err.Error(), p+": line 1: ") {
			t.Errorf("got %q, want it to start with the path and line", err)
		}
	})
	t.Run("unknown extension", func(t *testing.T) {
		_, _, err := Open(filepath.Join(dir, "changes.txt"), Options{})
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "pass the format csv") {
			t.Fatalf("got %v, want a *FileError with a hint to pass the format", err)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			pw.Write([]byte(`{"mailbox":"7","PIN":"1"}` + "\n"))
			pw.Close()
		}()
		old := os.Stdin
		os.Stdin = pr
		defer func() { os.Stdin = old; pr.Close() }()
		r, c, err := Open("-", Options{Format: JSONL})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		rows, err := drain(r) // Close must not have closed stdin
		if err != nil || len(rows) != 1 || rows[0].Err == nil || rows[0].Err.File != "stdin" {
			t.Fatalf("got %+v, %v; want one refused row from stdin", rows, err)
		}
	})
}

// failingReader returns data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadErrorIsFileError(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, format := range []Format{CSV, JSONL} {
		t.Run(string(format), func(t *testing.T) {
			data := "mailbox\n1001\n1002\n"
			if format == JSONL {
				data = `{"mailbox":"1001"}` + "\n" + `{"mailbox":"1002"}` + "\n"
			}
			r, err := New(&failingReader{data: []byte(data + "100"), err: boom}, Options{Name: "f", Format: format})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := drain(r)
			var fe *FileError
			if len(rows) != 2 || !errors.As(err, &fe) || !errors.Is(err, boom) {
				t.Fatalf("got %d rows, %v; want 2 rows then a *FileError wrapping the read error", len(rows), err)
			}
			if want := "f: read failed after row 2: disk on fire"; err.Error() != want {
				t.Errorf("got %q, want %q", err.Error(), want)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after a file error gave %v, want the same error again", again)
			}
		})
	}
}

func TestEOFIsSticky(t *testing.T) {
	r, err := New(strings.NewReader("mailbox\n1\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	drain(r)
	for i := 0; i < 2; i++ {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("got %v, want io.EOF", err)
		}
	}
}

// endless yields prefix, then line forever, counting the bytes handed out.
type endless struct {
	prefix, line []byte
	n            int
	read         int
}

func (e *endless) Read(p []byte) (int, error) {
	k := 0
	for k < len(p) {
		var src []byte
		if e.n < len(e.prefix) {
			src = e.prefix[e.n:]
		} else {
			src = e.line[(e.n-len(e.prefix))%len(e.line):]
		}
		c := copy(p[k:], src)
		k += c
		e.n += c
	}
	e.read += k
	return k, nil
}

// TestUnendingRecordIsRefused checks that memory stays bounded when a
// record never ends: a quote left open, or a file with no line feeds.
func TestUnendingRecordIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		src    *endless
		header bool // the fault is in the header, so New reports it
		want   string
		line   int
	}{
		{"open quote", &endless{prefix: []byte("mailbox,description\n1001,ok\n1002,\"never closed\n"), line: []byte("1003,more text\n")}, false, "closing quote (\") is missing", 3},
		{"no line feed", &endless{prefix: []byte("mailbox,description\n"), line: []byte("1003,x,")}, false, "longer than", 2},
		{"no line feed in header", &endless{line: []byte("mailbox,")}, true, "longer than", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.src, Options{Name: "big.csv"})
			if !tt.header {
				if err != nil {
					t.Fatal(err)
				}
				_, err = drain(r)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Line != tt.line || !strings.Contains(fe.Message, tt.want) {
				t.Fatalf("got %v, want a file error on line %d containing %q", err, tt.line, tt.want)
			}
			if tt.src.read > 2*MaxRecordBytes {
				t.Errorf("read %d bytes before giving up, want at most %d", tt.src.read, 2*MaxRecordBytes)
			}
		})
	}
}

// TestHash: the hash follows the params, not the format or column order,
// and leaves the PIN's value out.
func TestHash(t *testing.T) {
	csvRows, err := readString(t, "pager,mailbox,pin,envelope\na@example.com,1001,1234,1\na@example.com,1001,9999,1\nb@example.com,1001,1234,1\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	jsonRows, err := readString(t, `{"mailbox":1001,"envelope":true,"pin":"1234","pager":"a@example.com"}`+"\n", Options{Format: JSONL})
	if err != nil {
		t.Fatal(err)
	}
	if csvRows[0].Hash != jsonRows[0].Hash {
		t.Errorf("same params, got hashes %s (CSV) and %s (JSONL), want equal", csvRows[0].Hash, jsonRows[0].Hash)
	}
	if csvRows[0].Hash != csvRows[1].Hash {
		t.Errorf("rows differing only in PIN got different hashes: the hash must not depend on the PIN")
	}
	if csvRows[0].Hash == csvRows[2].Hash {
		t.Errorf("rows with different pagers got the same hash %s", csvRows[0].Hash)
	}
}

func TestTally(t *testing.T) {
	text := "mailbox,pager,pin,envelope,owner\n" +
		"1001,a@example.com,1234,1,\n" +
		"1002,<empty>,<empty>,0,\n" +
		"1003,<empty>,,,\n" +
		"1004,x,1,yes,\n"
	r, err := New(strings.NewReader(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := drain(r)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	if err := r.Tally().WriteTable(&got); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"column    set  keep  clear\n" +
		"envelope    2     1      -\n" +
		"owner       0     3      -\n" +
		"pager       1     0      2\n" +
		"pin         1     2      -\n" +
		"4 rows, 3 valid, 1 invalid (not counted above)\n" +
		"1 rows give pin as empty: a PIN cannot be cleared, so those keep their PIN\n"
	if got.String() != want {
		t.Errorf("got table\n%s\nwant\n%s", got.String(), want)
	}

	// Fed with rows alone, a Tally sees only the columns rows send.
	tl := NewTally()
	for _, row := range rows {
		tl.Add(row)
	}
	if cols := tl.Columns(); !reflect.DeepEqual(cols, []string{"envelope", "pager", "pin"}) {
		t.Errorf("got columns %v, want [envelope pager pin]", cols)
	}
	if set, keep, clr := tl.Counts("pager"); set != 1 || keep != 0 || clr != 2 {
		t.Errorf("pager: got set %d keep %d clear %d, want 1 0 2", set, keep, clr)
	}
	if tl.Rows != 4 || tl.Invalid != 1 || tl.PinsKeptEmpty != 0 {
		t.Errorf("got rows %d invalid %d pins kept %d, want 4 1 0", tl.Rows, tl.Invalid, tl.PinsKeptEmpty)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1200: "1,200", 1234567: "1,234,567", -1200: "-1,200"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestSyntheticCSVIsValid: every generated row passes the local checks,
// and the output depends only on the row count.
func TestSyntheticCSVIsValid(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteSyntheticCSV(&a, 5000); err != nil {
		t.Fatal(err)
	}
	WriteSyntheticCSV(&b, 5000)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two runs gave different output")
	}
	r, err := New(&a, Options{Name: "synthetic.csv"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := drain(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5000 {
		t.Fatalf("got %d rows, want 5000", len(rows))
	}
	for _, row := range rows {
		if row.Err != nil {
			t.Fatalf("generated row refused: %v", row.Err)
		}
	}
	tl := r.Tally()
	if _, _, clr := tl.Counts("pager"); clr == 0 || tl.PinsKeptEmpty != 0 {
		t.Errorf("want some pagers cleared and no empty pins, got %d cleared, %d pins kept", clr, tl.PinsKeptEmpty)
	}
	if _, keep, _ := tl.Counts("pin"); keep == 0 {
		t.Error("want some rows that keep their pin")
	}
}

// TestAllocsPerRow keeps the per-row cost flat: the params slice, the
// record's one string, the hash string, and little else.
func TestAllocsPerRow(t *testing.T) {
	var buf bytes.Buffer
	WriteSyntheticCSV(&buf, 1000)
	data := buf.Bytes()
	const rows = 1000
	var r *Reader
	perFile := testing.AllocsPerRun(5, func() {
		var err error
		r, err = New(bytes.NewReader(data), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	})
	if per := perFile / rows; per > 3.2 {
		t.Errorf("got %.2f allocations per row, want at most 3.2", per)
	}
}

// TestLongValuesAreCutInMessages: a message quotes at most about 40 bytes
// of a bad value, whatever its size.
func TestLongValuesAreCutInMessages(t *testing.T) {
	long := strings.Repeat("9", 5000)
	rows, err := readString(t, `{"mailbox":"1","owner":`+long+`,"envelope":"`+strings.Repeat("é", 100)+`"}`+"\n", Options{Format: JSONL})
	if err != nil || len(rows) != 1 || rows[0].Err == nil {
		t.Fatalf("got %+v, %v; want one refused row", rows, err)
	}
	if msg := rows[0].Err.Message; len(msg) > 300 || !strings.Contains(msg, "...") {
		t.Errorf("got a %d-byte message %q, want it short with the value cut", len(msg), msg)
	}
	if got := show(strings.Repeat("é", 100)); !utf8.ValidString(got) || len(got) > 50 {
		t.Errorf("show cut a long value to %q, want valid UTF-8 of about 40 bytes", got)
	}
}

func TestExact(t *testing.T) {
	tests := []struct {
		f            Format
		field, value string
		want         bool
	}{
		{CSV, "description", "plain", true},
		{CSV, "description", " spaced ", true}, // description keeps its spaces
		{CSV, "callerid", " spaced ", false},
		{CSV, "description", "<empty>", false},
		{JSONL, "description", "<empty>", true},
		{CSV, "description", "two\nlines", false},
		{CSV, "description", "", true},
		{CSV, "envelope", "", false},
		{CSV, "envelope", "1", true},
		{CSV, "envelope", "yes", false},
		{CSV, "owner", "010", false},
		{CSV, "description", "Zoë 北京", true},
		{CSV, "nosuch", "x", false},
	}
	for _, tt := range tests {
		if got := Exact(tt.f, tt.field, tt.value, DefaultEmptyToken); got != tt.want {
			t.Errorf("Exact(%s, %s, %q) = %v, want %v", tt.f, tt.field, tt.value, got, tt.want)
		}
	}
}
