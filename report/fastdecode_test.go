package report

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// fastAgrees checks that a line the fast path reads is read the same by
// the general path (encoding/csv and gocsv), and that a line the brief
// read vouches for (NextBrief) is one the general path reads, with the
// same leading cells: brief and restReads walk the cells on their own.
func fastAgrees(t *testing.T, line []byte) bool {
	t.Helper()
	d := &Decoder{cells: newCellReader(',', false)}
	if short, ok := brief(line); ok {
		whole, err := d.decodeWith(line, ',')
		if err != nil {
			t.Fatalf("brief read %q as %+v; the general path refuses it: %v", line, short, err)
		}
		lead := Record{Row: whole.Row, Mailbox: whole.Mailbox, Customer: whole.Customer, Status: whole.Status, Phase: whole.Phase, Code: whole.Code}
		if !reflect.DeepEqual(short, lead) {
			t.Fatalf("line %q:\nbrief   %+v\ngeneral %+v", line, short, lead)
		}
	}
	fast, ok := d.cells.fast(line)
	if !ok {
		return false
	}
	want, err := d.decodeWith(line, ',')
	if err != nil {
		t.Fatalf("fast read %q as %+v; the general path refuses it: %v", line, fast, err)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("line %q:\nfast    %+v\ngeneral %+v", line, fast, want)
	}
	return true
}

// Every line the encoder writes, quoted cells included, is read by the
// fast path, and as the general path reads it.
func TestFastDecodeReadsWhatTheEncoderWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 5))
	odd := []string{"", " ", "a,b", `say "hi"`, `"`, `""`, `","`, "=SUM(A1)", "-1", "+x", "@me", "Zoë 北京", "tab\there", `trailing\`, "x -> y", `description: "a" -> "b, c"`}
	pick := func() string {
		if rng.IntN(3) == 0 {
			return odd[rng.IntN(len(odd))] + odd[rng.IntN(len(odd))]
		}
		return odd[rng.IntN(len(odd))]
	}
	var buf bytes.Buffer
	enc, err := NewEncoder(&buf, CSV, false)
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i := range 2000 {
		r := Record{Row: i + 1, Mailbox: pick(), Customer: pick(), Status: "ok", Phase: "apply", Code: "204", Key: pick(),
			Message: pick(), Attempts: rng.IntN(5), DurationMS: rng.Int64N(1e6), Fields: FieldNames{"description", "pager"},
			Line: i + 2, Hash: "abc", Changes: pick(), Time: "2026-12-07T00:00:00.000Z"}
		recs = append(recs, r)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("%d lines for %d records (a cell held a line break?)", len(lines), len(recs))
	}
	quoted := 0
	for _, l := range lines {
		if !fastAgrees(t, []byte(l)) {
			t.Errorf("the fast path does not read the encoder's line %q", l)
		}
		if strings.Contains(l, `"`) {
			quoted++
		}
	}
	if quoted < len(lines)/4 {
		t.Fatalf("only %d of %d lines have a quoted cell: the test does not exercise them", quoted, len(lines))
	}
}

// Lines csv reads otherwise or refuses are left to the general path.
func TestFastDecodeLeavesOddLines(t *testing.T) {
	base := `1,1001,100,ok,apply,204,,OK,1,12,description,2,h,x,2026-12-07T00:00:00.000Z`
	for _, l := range []string{
		strings.Replace(base, ",OK,", `,"OK"x,`, 1), // text after a closing quote
		strings.Replace(base, ",OK,", `,O"K,`, 1),   // a bare quote
		strings.Replace(base, ",OK,", `,"OK,`, 1),   // never closed
		base + "\r", // a carriage return
		strings.Replace(base, ",OK,", `,"O,K",extra,`, 1), // one cell too many
	} {
		if fastAgrees(t, []byte(l)) {
			t.Errorf("the fast path read %q", l)
		}
	}
}

func FuzzFastDecode(f *testing.F) {
	f.Add([]byte(`1,1001,100,ok,apply,204,,"a ""b"", c",1,12,description,2,h,"x: ""a"" -> ""b""",2026-12-07T00:00:00.000Z`))
	f.Add([]byte(`1,1001,100,ok,apply,204,,OK,1,12,description,2,h,,2026-12-07T00:00:00.000Z`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return
		}
		fastAgrees(t, line)
	})
}

// The fast path sets fields by position (setCell): each position must be
// the field Header names there, as gocsv places it.
func TestSetCellFollowsTheHeader(t *testing.T) {
	cols := columns()
	if len(cols) != recordCells {
		t.Fatalf("Record has %d cells, setCell knows %d", len(cols), recordCells)
	}
	for i, col := range cols {
		var rec Record
		cell := "7"
		if !rec.setCell(i, cell) {
			t.Fatalf("setCell(%d, %q) refused", i, cell)
		}
		v := reflect.ValueOf(rec)
		for j := range v.NumField() {
			f := v.Field(j)
			set := !f.IsZero()
			if set != (j == col.index) {
				t.Errorf("setCell(%d) (column %s) set field %s: %v", i, col.name, v.Type().Field(j).Name, set)
			}
		}
	}
}
