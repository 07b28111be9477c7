package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/gocarina/gocsv"
)

// Decoder reads records of either format. A last line without its newline
// (a write cut by a crash) is not a record: Next returns ErrTorn for it.
// Every record is one physical line (see FromResult), so a malformed
// record is named by its file and line.
//
// A CSV report also reads back after a spreadsheet saved it, as the
// input reader reads such files: a UTF-8 byte order mark, CRLF line ends,
// an Excel "sep=" first line, cells quoted that need not be, lines of
// empty cells, and semicolons for commas (Excel's separator where the
// decimal point is a comma). The delimiter is the one that splits the
// header into exactly Header(): nothing is guessed from the data. Records
// a resumed run appended after the spreadsheet's lines are in ensbulk's
// own commas, and read too. What a spreadsheet may have rewritten in a
// cell is still checked as for any report (see cellReader).
type Decoder struct {
	br    *bufio.Reader
	f     Format
	line  int
	name  string
	sep   rune        // from a sep= line, 0 if none
	crlf  bool        // the last line read ended in CRLF
	sheet bool        // a spreadsheet saved the file (see Next)
	cells *cellReader // CSV only
	out   []Record    // gocsv's target: one record
}

// NewDecoder reads records from r; the format is told by the first line.
func NewDecoder(r io.Reader, name string) *Decoder {
	return &Decoder{br: bufio.NewReaderSize(r, 64<<10), name: name}
}

// ErrTorn is returned for a last line cut short by a crash.
var ErrTorn = errors.New("last record is incomplete")

// utf8BOM is what Excel's "CSV UTF-8" puts before the first line.
var utf8BOM = []byte("\xef\xbb\xbf")

// Next returns the next record, io.EOF at the end, ErrTorn for a final
// partial line.
func (d *Decoder) Next() (Record, error) {
	for {
		line, err := d.readLine()
		if err != nil {
			return Record{}, err
		}
		if d.f == "" {
			var record bool
			if line, record, err = d.start(line); err != nil {
				return Record{}, err
			}
			if !record {
				continue
			}
		}
		if d.f == CSV && d.cells.empty(line) {
			continue // a spreadsheet's row of empty cells
		}
		return d.decodeLine(line)
	}
}

// start reads a line that comes before the report's format is known: a
// byte order mark and a "sep=" line (a spreadsheet's), then a CSV header,
// which must be Header() split by a comma or a semicolon, or the first
// record of a JSONL report. record says line (given back without a byte
// order mark) is a record to decode.
func (d *Decoder) start(line []byte) (rest []byte, record bool, err error) {
	if bytes.HasPrefix(line, utf8BOM) {
		line, d.sheet = line[len(utf8BOM):], true
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return line, false, nil
	}
	if d.sep == 0 && d.line == 1 {
		if sep, ok := sepLine(line); ok {
			d.sep, d.sheet = sep, true
			return line, false, nil
		}
	}
	if line[0] == '{' {
		d.f = JSONL
		return line, true, nil
	}
	// gocsv would read a report with other columns, leaving the missing
	// ones zero: the header must be this one.
	delim, ok := headerDelimiter(line, d.sep)
	if !ok {
		return line, false, fmt.Errorf("%s: line %d: not an ensbulk report (header %q)", d.name, d.line, firstN(string(line), 80))
	}
	// ensbulk writes neither a byte order mark, a sep= line, semicolons
	// nor CRLF: any of them says a spreadsheet saved the file, and may
	// have rewritten its numbers.
	d.f = CSV
	d.sheet = d.sheet || delim != ',' || d.crlf
	d.cells = newCellReader(delim, d.sheet)
	d.out = make([]Record, 1)
	return line, false, nil
}

// decodeLine decodes one record line of the format already seen.
func (d *Decoder) decodeLine(line []byte) (Record, error) {
	var rec Record
	var err error
	if d.f == JSONL {
		err = json.Unmarshal(line, &rec)
	} else {
		rec, err = d.decodeCSV(line)
	}
	if err != nil {
		return Record{}, fmt.Errorf("%s: line %d: %w", d.name, d.line, err)
	}
	if rec.Row <= 0 || !validStatus(rec.Status) {
		return Record{}, fmt.Errorf("%s: line %d: not a report record", d.name, d.line)
	}
	return rec, nil
}

// sepLine reads Excel's "sep=;" first line.
func sepLine(line []byte) (rune, bool) {
	if len(line) != 5 || !strings.EqualFold(string(line[:4]), "sep=") {
		return 0, false
	}
	switch line[4] {
	case ',', ';':
		return rune(line[4]), true
	}
	return 0, false
}

// headerDelimiter returns the delimiter that splits line into exactly
// Header(): sep when a sep= line named one, else a comma or a semicolon.
func headerDelimiter(line []byte, sep rune) (rune, bool) {
	want := Header()
	for _, d := range []rune{',', ';'} {
		if sep != 0 && d != sep {
			continue
		}
		cr := csv.NewReader(bytes.NewReader(line))
		cr.Comma = d
		if cells, err := cr.Read(); err == nil && slices.Equal(cells, want) {
			return d, true
		}
	}
	return 0, false
}

// Records walks the records left in file order: every record, then at
// most one error (ErrTorn for a torn last line, which a reader of a
// journal treats as its end). The end of the file ends the walk without
// an error.
func (d *Decoder) Records() iter.Seq2[Record, error] {
	return batch.Seq(d.Next)
}

// readLine returns the next line that is not blank, without its line
// ending.
func (d *Decoder) readLine() ([]byte, error) {
	for {
		line, err := d.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: rare, so copied.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = d.br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF {
			if len(bytes.TrimSpace(line)) > 0 {
				return nil, ErrTorn
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		d.line++
		line = bytes.TrimSuffix(line, []byte("\n"))
		d.crlf = bytes.HasSuffix(line, []byte("\r"))
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
	}
}

// decodeCSV reads one CSV record from its line: the cells are split and
// checked by a cellReader, and gocsv puts them into the record's fields
// by position (the header was checked to be Header()). A line the
// header's semicolons do not read is tried with commas, the delimiter of
// every record ensbulk itself appends.
func (d *Decoder) decodeCSV(line []byte) (Record, error) {
	if !d.cells.sheet && d.cells.delim == ',' {
		if rec, ok := d.cells.fast(line); ok {
			return rec, nil
		}
	}
	rec, err := d.decodeWith(line, d.cells.delim)
	if err != nil && d.cells.delim != ',' {
		if r, err2 := d.decodeWith(line, ','); err2 == nil {
			return r, nil
		}
	}
	return rec, err
}

func (d *Decoder) decodeWith(line []byte, delim rune) (Record, error) {
	d.cells.cr.Comma = delim
	d.cells.src.Reset(line)
	if err := gocsv.UnmarshalCSVWithoutHeaders(d.cells, &d.out); err != nil {
		return Record{}, err
	}
	return d.out[0], nil
}

// Format returns the format seen so far ("" before the first line).
func (d *Decoder) Format() Format { return d.f }

func validStatus(s string) bool {
	for _, st := range batch.Statuses {
		if string(st) == s {
			return true
		}
	}
	return false
}

// cellReader is the CSV reader gocsv reads a record from. It is handed one
// line at a time and reads it as a whole input: a record never continues
// on the next line, so a stray quote is an error on its own line rather
// than a record swallowing the lines after it. It checks what gocsv is
// lax about: an integer cell must be a decimal integer (gocsv reads "010"
// as 8, "1.9" as 1 and "" as 0), and text cells are given back as written
// (see unsafe). In a file a spreadsheet saved, a mailbox or customer in
// scientific notation is refused: it is how the spreadsheet showed a
// long number, whose digits are lost. (ensbulk's own report may hold one:
// the mailbox of an invalid row, as the input gave it.)
type cellReader struct {
	cr    *csv.Reader
	src   *bytes.Reader
	cols  []column
	delim rune // the header's
	sheet bool // a spreadsheet saved the file
}

func newCellReader(delim rune, sheet bool) *cellReader {
	c := &cellReader{src: bytes.NewReader(nil), cols: columns(), delim: delim, sheet: sheet}
	// One csv.Reader for every line: it reads each line to its end of
	// input and is ready for the next after Reset.
	c.cr = csv.NewReader(c.src)
	c.cr.Comma = delim
	c.cr.FieldsPerRecord = len(c.cols)
	c.cr.ReuseRecord = true
	return c
}

// empty reports whether line is a row of empty cells, as a spreadsheet
// writes for rows it once formatted.
func (c *cellReader) empty(line []byte) bool {
	for _, b := range line {
		if b != byte(c.delim) && b != ' ' && b != '"' {
			return false
		}
	}
	return true
}

// fast decodes a line, the common case, without csv and
// gocsv: 10 times faster, and what a resume of a million rows spends
// most of its reading on (BenchmarkDecode). Quoted cells (the changes of
// a row, a message with a comma) are read here too. ok is false for a
// line it does not read exactly as the general path would (a quote out
// of place, a carriage return, a cell count or integer that is wrong):
// that path then reads it, or says what is wrong with it.
func (c *cellReader) fast(line []byte) (rec Record, ok bool) {
	if bytes.IndexByte(line, '\r') >= 0 || len(c.cols) != recordCells {
		return Record{}, false
	}
	s := string(line)
	for i := range recordCells {
		var cell string
		if cell, s, ok = nextCell(s, i == recordCells-1); !ok {
			return Record{}, false
		}
		if !rec.setCell(i, cell) {
			return Record{}, false
		}
	}
	return rec, true
}

// recordCells is how many cells a record has (Header).
const recordCells = 15

// setCell sets the field of cell i (in Header's order: Record's fields
// in declaration order, as gocsv places them) as gocsv would from cell;
// false for an integer it would not read. Without reflection: the fast
// path's cost a record was half reflect.Value's (BenchmarkDecode).
// TestSetCellFollowsTheHeader keeps the two orders one.
func (rec *Record) setCell(i int, cell string) bool {
	if p := rec.textCell(i); p != nil {
		*p = unsafe(cell)
		return true
	}
	var err error
	switch i {
	case 0:
		rec.Row, err = strconv.Atoi(cell)
	case 8:
		rec.Attempts, err = strconv.Atoi(cell)
	case 9:
		rec.DurationMS, err = strconv.ParseInt(cell, 10, 64)
	case 10:
		err = rec.Fields.UnmarshalCSV(cell)
	case 11:
		rec.Line, err = strconv.Atoi(cell)
	default:
		return false
	}
	return err == nil
}

// textCell is the string field of cell i, nil when it is not one.
func (rec *Record) textCell(i int) *string {
	switch i {
	case 1:
		return &rec.Mailbox
	case 2:
		return &rec.Customer
	case 3:
		return &rec.Status
	case 4:
		return &rec.Phase
	case 5:
		return &rec.Code
	case 6:
		return &rec.Key
	case 7:
		return &rec.Message
	case 12:
		return &rec.Hash
	case 13:
		return &rec.Changes
	case 14:
		return &rec.Time
	}
	return nil
}

// nextCell splits the first comma-separated cell off s as encoding/csv
// reads it: a cell that starts with a quote runs to the quote that is not
// doubled, with "" read as one quote, and must end the line or meet a
// comma. ok is false for anything csv would read otherwise or refuse (a
// quote inside an unquoted cell, text after a closing quote, a cell count
// that is not the columns'): the general path then reads the line.
func nextCell(s string, last bool) (cell, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		j := strings.IndexByte(s, ',')
		switch {
		case last && j >= 0, !last && j < 0:
			return "", "", false
		case last:
			cell = s
		default:
			cell, rest = s[:j], s[j+1:]
		}
		return cell, rest, strings.IndexByte(cell, '"') < 0
	}
	var b strings.Builder
	body := s[1:]
	for {
		q := strings.IndexByte(body, '"')
		if q < 0 {
			return "", "", false // not closed on this line
		}
		if q+1 < len(body) && body[q+1] == '"' {
			b.WriteString(body[:q+1])
			body = body[q+2:]
			continue
		}
		if b.Len() == 0 {
			cell = body[:q]
		} else {
			b.WriteString(body[:q])
			cell = b.String()
		}
		after := body[q+1:]
		switch {
		case last && after == "":
			return cell, "", true
		case !last && strings.HasPrefix(after, ","):
			return cell, after[1:], true
		}
		return "", "", false
	}
}

// Read returns the current line's cells, checked.
func (c *cellReader) Read() ([]string, error) {
	cells, err := c.cr.Read()
	if err != nil {
		// csv's own line count is of the lines it was handed; the
		// Decoder names the line in the file.
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	for i, col := range c.cols {
		switch col.kind {
		case reflect.String:
			cells[i] = unsafe(cells[i])
			if c.sheet && (col.name == "mailbox" || col.name == "customer") && scientific(cells[i]) {
				return nil, fmt.Errorf("%s %q is a number as a spreadsheet shows it, not the %s the report held: "+
					"the spreadsheet rewrote it when it saved the report; open the report with the mailbox and customer columns as text (see the README, \"Reports in a spreadsheet\")", col.name, cells[i], col.name)
			}
		case reflect.Int, reflect.Int64:
			n, err := strconv.ParseInt(cells[i], 10, col.bits)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", col.name, err)
			}
			cells[i] = strconv.FormatInt(n, 10)
		}
	}
	return cells, nil
}

// scientific reports whether s is a number in the form a spreadsheet
// shows a long one: 4.41235E+11.
func scientific(s string) bool {
	m, e, ok := strings.Cut(strings.ToUpper(s), "E")
	if !ok || m == "" || e == "" {
		return false
	}
	m = strings.TrimPrefix(m, "-")
	whole, frac, _ := strings.Cut(m, ".")
	e = strings.TrimLeft(e, "+-")
	return digits(whole) && (frac == "" || digits(frac)) && digits(e)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ReadAll returns the current line's record: gocsv reads all its reader
// has, and each call is handed one line.
func (c *cellReader) ReadAll() ([][]string, error) {
	cells, err := c.Read()
	if err != nil {
		return nil, err
	}
	return [][]string{cells}, nil
}
