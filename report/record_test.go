package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gocarina/gocsv"

	"github.com/ensbulk/ensbulk/batch"
)

// The columns are the report's contract with operators and their
// spreadsheets: their names and order do not change by accident.
func TestHeaderIsTheRecordsColumns(t *testing.T) {
	want := []string{"row", "mailbox", "customer", "status", "phase", "code", "key", "message", "attempts", "duration_ms", "fields", "line", "hash", "changes", "time"}
	if got := Header(); !reflect.DeepEqual(got, want) {
		t.Errorf("Header() = %v, want %v", got, want)
	}
	var b bytes.Buffer
	enc, err := NewEncoder(&b, CSV, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), strings.Join(want, ",")+"\n"; got != want {
		t.Errorf("header written %q, want %q", got, want)
	}
}

// The JSONL keys are the CSV columns.
func TestJSONLKeys(t *testing.T) {
	var b bytes.Buffer
	enc, err := NewEncoder(&b, JSONL, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(FromResult(result(1, batch.StatusOK, "OK"))); err != nil {
		t.Fatal(err)
	}
	want := `{"row":1,"mailbox":"1001","customer":"100","status":"ok","phase":"apply","code":"204","key":"","message":"OK","attempts":1,"duration_ms":7,"fields":["description"],"line":2,"hash":"h1","changes":"","time":""}` + "\n"
	if got := b.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

const header = "row,mailbox,customer,status,phase,code,key,message,attempts,duration_ms,fields,line,hash,changes,time\n"

// A report that is not one is refused with its file and line named, and
// an integer cell reads as written or not at all.
func TestDecodeMalformedCSV(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"other header", "row,mailbox,status\n1,1001,ok\n", "r.csv: line 1: not an ensbulk report"},
		{"extra column", strings.TrimSuffix(header, "\n") + ",extra\n", "r.csv: line 1: not an ensbulk report"},
		{"missing cell", header + "1,1001,100,ok,apply,204,,OK,1,0,description,2\n", "r.csv: line 2: wrong number of fields"},
		{"fractional attempts", header + "1,1001,100,ok,apply,204,,OK,1.9,0,description,2,h,,\n", `r.csv: line 2: attempts: strconv.ParseInt: parsing "1.9": invalid syntax`},
		{"empty row", header + ",1001,100,ok,apply,204,,OK,1,0,description,2,h,,\n", `r.csv: line 2: row: strconv.ParseInt: parsing "": invalid syntax`},
		{"hex line", header + "1,1001,100,ok,apply,204,,OK,1,0,description,0x2,h,,\n", `r.csv: line 2: line: strconv.ParseInt: parsing "0x2": invalid syntax`},
		{"unknown status", header + "1,1001,100,done,apply,204,,OK,1,0,description,2,h,,\n", "r.csv: line 2: not a report record"},
		{"stray quote", header + "1,1001,100,ok,apply,204,,\"OK,1,0,description,2,h,,\n" + "2,1003,100,ok,apply,204,,OK\",1,0,description,3,h,,\n", "r.csv: line 2: extraneous or missing \" in quoted-field"},
		{"after blank lines", header + "\n1,1001,100,ok,apply,204,,OK,1,0,description,2,h,,\n\n2,1003\n", "r.csv: line 5: wrong number of fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			for _, e := range NewDecoder(strings.NewReader(tc.text), "r.csv").Records() {
				err = e
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want one starting %q", err, tc.want)
			}
		})
	}
}

// gocsv alone would read "010" as 8; a report's integers are decimal.
func TestDecodeIntegersAreDecimal(t *testing.T) {
	text := header + "010,1001,100,ok,apply,204,,OK,+3,007,,012,h,,\n"
	var got []Record
	for r, err := range NewDecoder(strings.NewReader(text), "r.csv").Records() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 1 || got[0].Row != 10 || got[0].Attempts != 3 || got[0].DurationMS != 7 || got[0].Line != 12 {
		t.Errorf("got %+v, want row 10, attempts 3, duration 7, line 12", got)
	}
}

// Records ends with ErrTorn for a torn last line, after every whole
// record, and stops when its loop does.
func TestRecordsTornAndBreak(t *testing.T) {
	text := header + "1,1001,100,ok,apply,204,,OK,1,0,,2,h,,\n2,1003,100,ok,apply,204,,OK,1,0,,3,h,,\n3,1005,1"
	var rows []int
	var last error
	for r, err := range NewDecoder(strings.NewReader(text), "r.csv").Records() {
		if err != nil {
			last = err
			continue
		}
		rows = append(rows, r.Row)
	}
	if !reflect.DeepEqual(rows, []int{1, 2}) || !errors.Is(last, ErrTorn) {
		t.Errorf("rows %v then %v, want [1 2] then ErrTorn", rows, last)
	}
	n := 0
	for range NewDecoder(strings.NewReader(text), "r.csv").Records() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("%d records after break", n)
	}
}

func TestWriteFileAtomicMode(t *testing.T) {
	for _, perm := range []os.FileMode{0o600, 0o644, 0o640} {
		t.Run(perm.String(), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.json")
			if err := WriteFileAtomic(p, []byte("{}\n"), perm); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != perm {
				t.Errorf("mode %v, want %v", got, perm)
			}
			if b, _ := os.ReadFile(p); string(b) != "{}\n" {
				t.Errorf("content %q", b)
			}
		})
	}
}

// The hand-written CSV writer and gocsv see the same columns: for records
// with nothing to neutralise, their bytes are the same.
func TestEncoderAgreesWithGocsv(t *testing.T) {
	rs := []Record{
		FromResult(result(1, batch.StatusOK, "OK")),
		FromResult(batch.Result{Row: 2, Mailbox: "1003", Status: batch.StatusSkipped, Message: "not sent, \"quoted\""}),
	}
	var ours, theirs bytes.Buffer
	enc, err := NewEncoder(&ours, CSV, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := gocsv.MarshalCSV(rs, gocsv.NewSafeCSVWriter(csv.NewWriter(&theirs))); err != nil {
		t.Fatal(err)
	}
	if ours.String() != theirs.String() {
		t.Errorf("encoder wrote\n%s\ngocsv wrote\n%s", ours.String(), theirs.String())
	}
}
