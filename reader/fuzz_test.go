package reader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

// The fuzz targets feed arbitrary bytes to the reader. They never check
// what a message says, only that the reader does not panic or loop, and
// that no row it accepts breaks a rule the local checks stand for: an
// accepted row is what will be sent to a production switch.

// seedCatalog adds the catalog files with the given extensions as seeds.
// Files over 64 KiB (the over-long line case) would only slow the fuzzer.
func seedCatalog(f *testing.F, exts ...string) {
	for _, e := range loadCatalog(f) {
		ext := filepath.Ext(e.File)
		want := false
		for _, x := range exts {
			want = want || ext == x
		}
		if !want {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", e.File))
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			continue
		}
		f.Add(data, delimiterSeed(e.Options.Delimiter))
	}
}

func delimiterSeed(d string) uint8 {
	switch d {
	case ";":
		return 1
	case "\t":
		return 2
	}
	return 0
}

func FuzzCSV(f *testing.F) {
	seedCatalog(f, ".csv")
	f.Add([]byte("mailbox,pin,owner,envelope\n1001,1234,0,1\n"), uint8(0))
	f.Add([]byte("sep=;\nmailbox;pin\n1;2\n"), uint8(1))
	// Rows refused for their quotes, blank and all-empty records, a
	// quoted line break: what a filtered read must number as a full one.
	f.Add([]byte("mailbox,description\n1,\"x\"y\n2,a\"b\n\n,\n3,\"two\nlines\"\n4,ok\n5,\"z\"q\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, d uint8) {
		delim := []rune{',', ';', '\t', '|'}[int(d)%4]
		fuzzRead(t, data, Options{Name: "fuzz.csv", Format: CSV, Delimiter: delim})
	})
}

func FuzzJSONL(f *testing.F) {
	seedCatalog(f, ".jsonl", ".ndjson")
	f.Add([]byte(`{"mailbox":1001,"envelope":true,"owner":0,"pin":"0042"}`+"\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, _ uint8) {
		fuzzRead(t, data, Options{Name: "fuzz.jsonl", Format: JSONL})
	})
}

func fuzzRead(t *testing.T, data []byte, opts Options) {
	rows, err := fuzzRows(t, bytes.NewReader(data), len(data), opts)
	if err != nil {
		checkFileError(t, err, opts.Name)
	}
	prev := 0
	for _, row := range rows {
		checkRowInvariants(t, row, opts, prev)
		prev = row.Num
	}
	// Where reads happen to cut the input must not matter.
	rows1, err1 := fuzzRows(t, iotest.OneByteReader(bytes.NewReader(data)), len(data), opts)
	if fmt.Sprint(err1) != fmt.Sprint(err) || !reflect.DeepEqual(rows1, rows) {
		t.Fatalf("read one byte at a time: got %d rows, %v; read at once: %d rows, %v", len(rows1), err1, len(rows), err)
	}
	// Passing rows over (batch.Filter) must leave the others exactly as
	// a full read gives them, and count the rest.
	for _, m := range []int{2, 3} {
		checkFiltered(t, data, opts, rows, err, func(n int) bool { return n%m == 1 })
	}
}

// checkFiltered reads data again with Only(want) and compares with rows,
// err: the rows of a full read of data.
func checkFiltered(t *testing.T, data []byte, opts Options, rows []batch.Row, err error, want func(int) bool) {
	t.Helper()
	r, nerr := New(bytes.NewReader(data), opts)
	if nerr != nil {
		if fmt.Sprint(nerr) != fmt.Sprint(err) {
			t.Fatalf("filtered read: New = %v, full read: %v", nerr, err)
		}
		return
	}
	r.Only(want)
	var wantRows []batch.Row
	for _, row := range rows {
		if want(row.Num) {
			wantRows = append(wantRows, row)
		}
	}
	var filtered []batch.Row
	for n := 0; n <= len(data)+1; n++ {
		row, ferr := r.Next()
		if ferr == io.EOF {
			ferr = nil
		}
		if ferr != nil || row.Num == 0 {
			if fmt.Sprint(ferr) != fmt.Sprint(err) {
				t.Fatalf("filtered read ended with %v, full read with %v", ferr, err)
			}
			break
		}
		filtered = append(filtered, row)
	}
	if !reflect.DeepEqual(filtered, wantRows) {
		t.Fatalf("filtered read: %d rows, want the %d rows of a full read it accepts", len(filtered), len(wantRows))
	}
	if err == nil && r.Passed() != len(rows)-len(wantRows) {
		t.Fatalf("filtered read passed over %d rows, want %d", r.Passed(), len(rows)-len(wantRows))
	}
}

func fuzzRows(t *testing.T, src io.Reader, size int, opts Options) ([]batch.Row, error) {
	r, err := New(src, opts)
	if err != nil {
		return nil, err
	}
	var rows []batch.Row
	// Every row uses up at least one byte, so more rows than bytes means
	// the reader is looping.
	for n := 0; n <= size+1; n++ {
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	t.Fatalf("more rows than input bytes (%d): the reader is looping", size)
	return nil, nil
}

func checkFileError(t *testing.T, err error, name string) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("got %T %v, want a *FileError", err, err)
	}
	if fe.File != name || fe.Message == "" {
		t.Fatalf("file error %+v: want File %q and a message", fe, name)
	}
}

func checkRowInvariants(t *testing.T, row batch.Row, opts Options, prev int) {
	t.Helper()
	if row.Num <= prev {
		t.Fatalf("row number %d after %d: numbers must increase", row.Num, prev)
	}
	if opts.Format == JSONL && row.Line != row.Num {
		t.Fatalf("JSONL row %d on line %d: the row number is the line number", row.Num, row.Line)
	}
	if opts.Format == CSV && row.Line < row.Num+1 {
		t.Fatalf("CSV row %d on line %d: the header is on line 1 or later", row.Num, row.Line)
	}
	if len(row.Hash) != 32 {
		t.Fatalf("row %d: hash %q, want 32 hex digits", row.Num, row.Hash)
	}
	if row.Err != nil {
		e := row.Err
		if e.File != opts.Name || e.Row != row.Num || e.Line != row.Line || e.Message == "" {
			t.Fatalf("row %d: error %+v does not name file, row, line and a message", row.Num, e)
		}
		return
	}

	// An accepted row: this is what would be sent.
	if len(row.Params) == 0 || row.Params[0].Name != "mailbox" || row.Params[0].Value != row.Mailbox || row.Mailbox == "" {
		t.Fatalf("row %d: params %q must start with the row's non-empty mailbox %q", row.Num, row.Params, row.Mailbox)
	}
	customer := ""
	last := -1
	for _, p := range row.Params {
		i := schema.Index(p.Name)
		if i < 0 || schema.IsReserved(p.Name) {
			t.Fatalf("row %d: param %q is not a field that data may set", row.Num, p.Name)
		}
		if i <= last {
			t.Fatalf("row %d: params %q are not in schema order without repeats", row.Num, row.Params)
		}
		last = i
		f, _ := schema.Lookup(p.Name)
		v := p.Value
		if !utf8.ValidString(v) {
			t.Fatalf("row %d: %s = %q is not valid UTF-8", row.Num, p.Name, v)
		}
		for _, c := range v {
			if c != '\t' && unicode.IsControl(c) {
				t.Fatalf("row %d: %s = %q holds control character %U", row.Num, p.Name, v, c)
			}
		}
		if p.Name != "description" && strings.TrimSpace(v) != v {
			t.Fatalf("row %d: %s = %q has surrounding space", row.Num, p.Name, v)
		}
		token := opts.EmptyToken
		if token == "" {
			token = DefaultEmptyToken
		}
		if opts.Format == CSV && v == token {
			t.Fatalf("row %d: %s sends the empty token %q itself", row.Num, p.Name, v)
		}
		switch {
		case p.Name == "pin" && v == "":
			t.Fatalf("row %d: pin sent as \"\": a PIN can never be cleared", row.Num)
		case v == "" && f.EmptyMeans == "":
			t.Fatalf("row %d: %s sent as \"\" but has no empty value", row.Num, p.Name)
		case f.Type == schema.Bool01 && v != "0" && v != "1":
			t.Fatalf("row %d: %s = %q, want 0 or 1", row.Num, p.Name, v)
		case f.Type == schema.Integer && !plainDecimal(v):
			t.Fatalf("row %d: %s = %q, want plain decimal", row.Num, p.Name, v)
		}
		if p.Name == "customer" {
			customer = v
		}
	}
	if customer != row.Customer {
		t.Fatalf("row %d: Customer %q but customer param %q", row.Num, row.Customer, customer)
	}
}

// plainDecimal restates the integer rule independently of schema.PlainInteger.
func plainDecimal(s string) bool {
	if s == "0" {
		return true
	}
	if s == "" || s[0] < '1' || s[0] > '9' || len(s) > 18 {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}
