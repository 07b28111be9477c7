package reader

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
)

// catalog is testdata/catalog.json: the one list of odd and bad inputs and
// what each must give, shared with the binary's end-to-end tests (see
// testdata/README.md).
type catalog struct {
	About   string         `json:"about"`
	Entries []catalogEntry `json:"entries"`
}

type catalogEntry struct {
	File    string `json:"file"`
	Kind    string `json:"kind"` // "file", "row" or "ok"
	Exit    int    `json:"exit"`
	Note    string `json:"note"`
	Options struct {
		Format     string `json:"format"`
		Delimiter  string `json:"delimiter"`
		EmptyToken string `json:"empty_token"`
	} `json:"options"`
	FileError *struct {
		Line     int    `json:"line"`
		Column   string `json:"column"`
		Contains string `json:"contains"`
	} `json:"file_error"`
	Rows []catalogRow `json:"rows"`
}

type catalogRow struct {
	Row      int        `json:"row"`
	Line     int        `json:"line"`
	Mailbox  string     `json:"mailbox"`
	Customer *string    `json:"customer"`
	Params   [][]string `json:"params"`
	Error    *struct {
		Column   string `json:"column"`
		Contains string `json:"contains"`
	} `json:"error"`
}

func loadCatalog(t testing.TB) []catalogEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c catalog
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("catalog.json: %v", err)
	}
	return c.Entries
}

// options turns an entry's options into reader Options, as the binary's
// flags would.
func (e *catalogEntry) options(t testing.TB) Options {
	t.Helper()
	f, err := DetectFormat(e.File, e.Options.Format)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Name: filepath.Base(e.File), Format: f, EmptyToken: e.Options.EmptyToken, Hints: flagHints}
	if e.Options.Delimiter != "" {
		d, size := utf8.DecodeRuneInString(e.Options.Delimiter)
		if size != len(e.Options.Delimiter) {
			t.Fatalf("delimiter %q is not one character", e.Options.Delimiter)
		}
		o.Delimiter = d
	}
	return o
}

// readAll reads every row of an entry's file; err is the file error, if any.
func readAll(t testing.TB, e *catalogEntry) (rows []batch.Row, err error) {
	t.Helper()
	f, ferr := os.Open(filepath.Join("testdata", e.File))
	if ferr != nil {
		t.Fatal(ferr)
	}
	defer f.Close()
	r, err := New(f, e.options(t))
	if err != nil {
		return nil, err
	}
	return drain(r)
}

func TestCatalog(t *testing.T) {
	entries := loadCatalog(t)
	if len(entries) < 40 {
		t.Errorf("catalog has %d entries, want at least 40", len(entries))
	}
	seen := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		t.Run(filepath.Base(e.File), func(t *testing.T) {
			if seen[e.File] {
				t.Fatalf("%s is in the catalog twice", e.File)
			}
			seen[e.File] = true
			checkEntryShape(t, e)
			rows, err := readAll(t, e)

			if e.FileError != nil {
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Fatalf("got error %v, want a *FileError", err)
				}
				want := e.FileError
				if fe.Line != want.Line || fe.Column != want.Column || !strings.Contains(fe.Message, want.Contains) {
					t.Errorf("got file error line %d column %q message %q,\nwant line %d column %q message containing %q",
						fe.Line, fe.Column, fe.Message, want.Line, want.Column, want.Contains)
				}
				if name := filepath.Base(e.File); fe.File != name || !strings.HasPrefix(fe.Error(), name+": ") {
					t.Errorf("got %q (File %q), want it to start with the file name %q", fe.Error(), fe.File, name)
				}
			} else if err != nil {
				t.Fatalf("got error %v, want none", err)
			}

			if len(rows) != len(e.Rows) {
				for _, r := range rows {
					t.Logf("got row %d line %d mailbox %q params %v err %v", r.Num, r.Line, r.Mailbox, r.Params, r.Err)
				}
				t.Fatalf("got %d rows, want %d", len(rows), len(e.Rows))
			}
			for j, want := range e.Rows {
				checkRow(t, filepath.Base(e.File), rows[j], want)
			}
		})
	}
}

// checkEntryShape keeps the catalog's kind and exit code honest, since the
// binary's tests rely on them without reading the rows.
func checkEntryShape(t *testing.T, e *catalogEntry) {
	t.Helper()
	invalid := false
	for _, r := range e.Rows {
		if r.Error != nil {
			invalid = true
		}
	}
	var kind string
	var exit int
	switch {
	case e.FileError != nil:
		kind, exit = "file", 2
	case invalid:
		kind, exit = "row", 1
	default:
		kind, exit = "ok", 0
	}
	if e.Kind != kind || e.Exit != exit {
		t.Errorf("catalog says kind %q exit %d, its expectations say kind %q exit %d", e.Kind, e.Exit, kind, exit)
	}
	if e.Note == "" {
		t.Errorf("catalog entry has no note")
	}
}

func checkRow(t *testing.T, file string, got batch.Row, want catalogRow) {
	t.Helper()
	if got.Num != want.Row || got.Line != want.Line || got.Mailbox != want.Mailbox {
		t.Errorf("got row %d line %d mailbox %q, want row %d line %d mailbox %q",
			got.Num, got.Line, got.Mailbox, want.Row, want.Line, want.Mailbox)
	}
	if want.Customer != nil && got.Customer != *want.Customer {
		t.Errorf("row %d: got customer %q, want %q", want.Row, got.Customer, *want.Customer)
	}
	if len(got.Hash) != 32 {
		t.Errorf("row %d: got hash %q, want 32 hex digits", want.Row, got.Hash)
	}
	if want.Error != nil {
		e := got.Err
		if e == nil {
			t.Errorf("row %d: got no error (params %v), want one in column %q containing %q", want.Row, got.Params, want.Error.Column, want.Error.Contains)
			return
		}
		if e.Column != want.Error.Column || !strings.Contains(e.Message, want.Error.Contains) {
			t.Errorf("row %d: got error column %q message %q,\nwant column %q message containing %q",
				want.Row, e.Column, e.Message, want.Error.Column, want.Error.Contains)
		}
		if e.File != file || e.Row != got.Num || e.Line != got.Line {
			t.Errorf("row %d: error names file %q row %d line %d, want %q row %d line %d",
				want.Row, e.File, e.Row, e.Line, file, got.Num, got.Line)
		}
		return
	}
	if got.Err != nil {
		t.Errorf("row %d: got error %v, want params %v", want.Row, got.Err, want.Params)
		return
	}
	wantParams := []batch.Param{}
	for _, p := range want.Params {
		if len(p) != 2 {
			t.Fatalf("row %d: param %v is not a [name, value] pair", want.Row, p)
		}
		wantParams = append(wantParams, batch.Param{Name: p[0], Value: p[1]})
	}
	gotParams := append([]batch.Param{}, got.Params...)
	if !reflect.DeepEqual(gotParams, wantParams) {
		t.Errorf("row %d: got params %v,\nwant %v", want.Row, gotParams, wantParams)
	}
}

// flagHints word advice as ensbulk's flags do: the catalog holds what an
// operator reads (cmd/ensbulk's catalog test checks the same cases through
// the binary, with the command's own hints).
var flagHints = Hints{
	Delimiter: func(d rune) string {
		if d == '\t' {
			return `--delimiter '\t' (a tab)`
		}
		return fmt.Sprintf("--delimiter '%c'", d)
	},
	Format: func(f Format) string { return "--format " + string(f) },
}
