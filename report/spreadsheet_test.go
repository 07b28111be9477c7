package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

// sheetSave is how a spreadsheet saves a CSV report it opened.
type sheetSave struct {
	delim     rune
	bom, crlf bool
	quoteAll  bool // LibreOffice's "quote all text cells"
	sepLine   bool // an Excel "sep=" first line
	tail      int  // rows of empty cells and blank lines after the last record
}

// save reads a report as a spreadsheet opens it (every cell as General)
// and writes it back as saved: numbers as the spreadsheet shows them
// (leading zeros gone, more than 11 digits in scientific notation),
// cells quoted only when they must be (or all of them), its delimiter,
// line ends and byte order mark.
func (s sheetSave) save(t *testing.T, report string) string {
	t.Helper()
	cr := csv.NewReader(strings.NewReader(report))
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	eol := "\n"
	if s.crlf {
		eol = "\r\n"
	}
	var b strings.Builder
	if s.bom {
		b.WriteString("\ufeff")
	}
	if s.sepLine {
		b.WriteString("sep=" + string(s.delim) + eol)
	}
	for _, row := range rows {
		for i, cell := range row {
			if i > 0 {
				b.WriteRune(s.delim)
			}
			b.WriteString(s.cell(generalNumber(cell)))
		}
		b.WriteString(eol)
	}
	for i := range s.tail {
		if i%2 == 0 {
			b.WriteString(strings.Repeat(string(s.delim), len(rows[0])-1) + eol)
		} else {
			b.WriteString(eol)
		}
	}
	return b.String()
}

func (s sheetSave) cell(v string) string {
	_, numErr := strconv.ParseFloat(v, 64)
	if s.quoteAll && numErr != nil || strings.ContainsAny(v, string(s.delim)+"\"\r\n") {
		return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	return v
}

// generalNumber is a cell of digits as a spreadsheet's General format
// shows it.
func generalNumber(v string) string {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return v
	}
	n, _ := strconv.ParseFloat(v, 64)
	if len(strings.TrimLeft(v, "0")) > 11 {
		m, e, _ := strings.Cut(strconv.FormatFloat(n, 'E', 5, 64), "E")
		return strings.TrimSuffix(strings.TrimRight(m, "0"), ".") + "E" + e
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

// spreadsheetRecords are results whose cells a spreadsheet saves as
// they were: text with the delimiters, quotes and formula characters a
// report may hold.
func spreadsheetRecords() []Record {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	var recs []Record
	for i, msg := range []string{"OK", "Invalid PIN; use 4 digits", `"description" is too long, max 64`, "=1+1 looks like a formula", "-5 dB"} {
		r := result(i+1, batch.StatusOK, msg)
		r.Mailbox = fmt.Sprint(1001 + i)
		r.Customer = "7"
		r.Fields = []string{"description", "pin"}
		r.Duration = time.Duration(1234+i) * time.Millisecond
		r.Attempts = 2
		r.Time = at
		if i == 1 {
			r.Status, r.Code, r.Key = batch.StatusInvalid, "400", "pin"
		}
		r.Changes = []batch.Change{{Field: "description", Old: "a,b", New: "c;d", Known: true}}
		recs = append(recs, FromResult(r))
	}
	return recs
}

func encodeCSV(t *testing.T, recs []Record) string {
	t.Helper()
	return encodeReport(t, CSV, recs)
}

// encodeReport is recs as a report of format f, header included.
func encodeReport(t *testing.T, f Format, recs []Record) string {
	t.Helper()
	var b bytes.Buffer
	enc, err := NewEncoder(&b, f, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func decodeAll(text string) ([]Record, error) {
	var got []Record
	for r, err := range NewDecoder(strings.NewReader(text), "r.csv").Records() {
		if err != nil {
			return got, err
		}
		got = append(got, r)
	}
	return got, nil
}

// A report saved back by a spreadsheet reads as the records written:
// Excel's "CSV UTF-8" (byte order mark, CRLF), its semicolon save where
// the decimal point is a comma, every text cell quoted, a sep= line, and
// the empty rows a spreadsheet leaves at the end.
func TestDecodeSpreadsheetSaves(t *testing.T) {
	want := spreadsheetRecords()
	text := encodeCSV(t, want)
	for _, tc := range []struct {
		name string
		save sheetSave
	}{
		{"as written", sheetSave{delim: ','}},
		{"excel csv utf-8", sheetSave{delim: ',', bom: true, crlf: true, tail: 3}},
		{"excel semicolons", sheetSave{delim: ';', bom: true, crlf: true, tail: 4}},
		{"semicolons without bom", sheetSave{delim: ';'}},
		{"all text quoted", sheetSave{delim: ';', quoteAll: true, crlf: true}},
		{"all text quoted, commas", sheetSave{delim: ',', quoteAll: true, bom: true}},
		{"sep line", sheetSave{delim: ';', sepLine: true, bom: true, crlf: true, tail: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := tc.save.save(t, text)
			got, err := decodeAll(saved)
			if err != nil {
				t.Fatalf("%v\nfile:\n%s", err, saved)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// A resumed run appends ensbulk's own comma records to a report a
// spreadsheet saved with semicolons: both read.
func TestDecodeSemicolonReportWithAppendedRecords(t *testing.T) {
	recs := spreadsheetRecords()
	saved := sheetSave{delim: ';', bom: true, crlf: true}.save(t, encodeCSV(t, recs[:3]))
	appended := strings.SplitN(encodeCSV(t, recs[3:]), "\n", 2)[1]
	got, err := decodeAll(saved + appended)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Errorf("got  %+v\nwant %+v", got, recs)
	}
}

// What a spreadsheet rewrote beyond recovery, or a file that is not a
// report in any dialect, is refused with its line named; the header's
// delimiter is never guessed from the data.
func TestDecodeSpreadsheetDamage(t *testing.T) {
	long := spreadsheetRecords()[:1]
	long[0].Mailbox = "441234567890"
	longCust := spreadsheetRecords()[:1]
	longCust[0].Customer = "100000000000"
	semiHeader := strings.ReplaceAll(header, ",", ";")
	for _, tc := range []struct {
		name, text, want string
	}{
		{"long mailbox", sheetSave{delim: ',', bom: true, crlf: true}.save(t, encodeCSV(t, long)),
			`r.csv: line 2: mailbox "4.41235E+11" is a number as a spreadsheet shows it`},
		{"long customer", sheetSave{delim: ';'}.save(t, encodeCSV(t, longCust)),
			`r.csv: line 2: customer "1E+11" is a number as a spreadsheet shows it`},
		{"sep line disagrees", "sep=,\n" + semiHeader, "r.csv: line 2: not an ensbulk report"},
		{"tab header", strings.ReplaceAll(header, ",", "\t"), "r.csv: line 1: not an ensbulk report"},
		{"semicolon short record", semiHeader + "1;1001;7;ok\n", "r.csv: line 2: wrong number of fields"},
		{"formatted duration", semiHeader + "1;1001;7;ok;apply;204;;OK;1;1.234;;2;h;;\n", `r.csv: line 2: duration_ms: strconv.ParseInt: parsing "1.234"`},
		{"bom only", "\ufeff\n", ""},
		{"ensbulk's own 1e3 mailbox", header + "1,1e3,7,invalid,local,,mailbox,mailbox must be digits,0,0,,2,h,,\n", ""},
		{"1e3 mailbox after a save with commas", sheetSave{delim: ',', crlf: true}.save(t, header+"1,1e3,7,invalid,local,,mailbox,mailbox must be digits,0,0,,2,h,,\n"),
			`r.csv: line 2: mailbox "1e3" is a number as a spreadsheet shows it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeAll(tc.text)
			if tc.want == "" {
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want one starting %q", err, tc.want)
			}
		})
	}
}
