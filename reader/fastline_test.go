package reader

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

// TestFastPathAgrees reads files whose lines the fast path takes or must
// leave to encoding/csv, once in large reads (the fast path sees whole
// lines) and once a byte at a time (it never does: encoding/csv reads
// everything), and wants the same rows, line numbers and errors.
func TestFastPathAgrees(t *testing.T) {
	head := "mailbox,description,pin\n"
	tests := []struct {
		name, body string
		delim      rune
	}{
		{"plain", "1001,Reception,1234\n1002,Bar,\n", ','},
		{"crlf", "1001,Reception,1234\r\n1002,Bar,5678\r\n", ','},
		{"blank lines", "\n1001,a,1234\n\n\r\n1002,b,1234\n\n", ','},
		{"quoted", "1001,\"Reception, front desk\",1234\n1002,\"Warehouse \"\"B\"\"\",\"5678\"\n", ','},
		{"quoted empty and last", "1001,\"\",\"1234\"\n1002,b,\"\"\n", ','},
		{"quote then delimiter at end", "1001,\"a\",\n", ','},
		{"bare quote", "1001,say \"hi\",1234\n1002,b,1234\n", ','},
		{"text after closing quote", "1001,\"a\"b,1234\n1002,b,1234\n", ','},
		{"quoted line break", "1001,\"two\nlines\",1234\n1002,b,1234\n", ','},
		{"quoted line break crlf", "1001,\"two\r\nlines\",1234\r\n1002,b,1234\r\n", ','},
		{"open quote to the end", "1001,\"never closed,1234\n1002,b,1234\n", ','},
		{"ragged", "1001,a\n1002,b,1234,extra\n1003,c,1234\n", ','},
		{"all empty", ",,\n1001,a,1234\n", ','},
		{"no final line end", "1001,a,1234\n1002,b,1234", ','},
		{"lone cr", "1001,a,1234\n1002,b\r1234\n", ','},
		{"semicolons", "1001;\"a;b\";1234\n1002;b;1234\n", ';'},
		{"multibyte delimiter", "1001§\"a§b\"§1234\n1002§b§1234\n", '§'},
		{"tabs", "1001\t\"a\tb\"\t1234\n1002\tb\t\n", '\t'},
		{"invalid utf8", "1001,a\xff,1234\n1002,\"b\xfe\",1234\n", ','},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := head
			if tc.delim != ',' {
				h = strings.ReplaceAll(head, ",", string(tc.delim))
			}
			data := []byte(h + strings.Repeat(tc.body, 3))
			opts := Options{Name: "t.csv", Format: CSV, Delimiter: tc.delim}
			fast, fastErr := readRows(t, bytes.NewReader(data), opts)
			slow, slowErr := readRows(t, iotest.OneByteReader(bytes.NewReader(data)), opts)
			if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) {
				t.Fatalf("error: large reads %v, byte at a time %v", fastErr, slowErr)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("large reads:\n%+v\nbyte at a time:\n%+v", fast, slow)
			}
		})
	}
}

// TestFastPathTaken makes sure the fast path is not silently bypassed.
func TestFastPathTaken(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSyntheticCSV(&b, 500); err != nil {
		t.Fatal(err)
	}
	r, err := New(&b, Options{Name: "s.csv"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// Every line the fast path reads counts in lineOffset.
	if r.lineOffset < 490 {
		t.Errorf("fast path read %d of 500 lines, want nearly all", r.lineOffset)
	}
}

func readRows(t *testing.T, src io.Reader, opts Options) ([]batch.Row, error) {
	t.Helper()
	r, err := New(src, opts)
	if err != nil {
		return nil, err
	}
	var rows []batch.Row
	for range 1000 {
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	t.Fatal("reader is looping")
	return nil, nil
}

// TestNoHash: the same rows, without their digests.
func TestNoHash(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSyntheticCSV(&b, 50); err != nil {
		t.Fatal(err)
	}
	with, err := readRows(t, bytes.NewReader(b.Bytes()), Options{Name: "s.csv"})
	if err != nil {
		t.Fatal(err)
	}
	without, err := readRows(t, bytes.NewReader(b.Bytes()), Options{Name: "s.csv", NoHash: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range with {
		if without[i].Hash != "" {
			t.Fatalf("row %d: hash %q with NoHash", without[i].Num, without[i].Hash)
		}
		with[i].Hash = ""
	}
	if !reflect.DeepEqual(with, without) {
		t.Errorf("rows differ beyond the hash")
	}
}

// TestReaderTallyAgrees: the reader's own tally (built from its slots)
// counts as Tally.Add over the rows it returned.
func TestReaderTallyAgrees(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSyntheticCSV(&b, 300); err != nil {
		t.Fatal(err)
	}
	b.WriteString("1,2,x,2,owner,<empty>,12,Europe/Oslo\n") // an invalid row too
	r, err := New(&b, Options{Name: "s.csv"})
	if err != nil {
		t.Fatal(err)
	}
	want := NewTally()
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want.Add(row)
	}
	got := r.Tally()
	if got.Rows != want.Rows || got.Invalid != want.Invalid || want.Invalid != 1 {
		t.Errorf("rows %d, invalid %d; Add counts rows %d, invalid %d", got.Rows, got.Invalid, want.Rows, want.Invalid)
	}
	for _, name := range schema.Names() {
		gs, gk, gc := got.Counts(name)
		ws, wk, wc := want.Counts(name)
		if gs != ws || gk != wk || gc != wc {
			t.Errorf("%s: set/keep/clear %d/%d/%d, Add counts %d/%d/%d", name, gs, gk, gc, ws, wk, wc)
		}
	}
}
