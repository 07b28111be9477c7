// Package report turns results into bytes and back: the report written as
// a run goes (durable, append-only), the final report in row order, its
// sidecar of metadata for resume, the summary of a report, and the
// selection of rows to retry. The report's columns are the fields of
// Record: a column is added, renamed or moved there.
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
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gocarina/gocsv"

	"github.com/ensbulk/ensbulk/batch"
)

// Format is the report's encoding.
type Format string

// Report formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// ParseFormat accepts "csv" or "jsonl".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "csv":
		return CSV, nil
	case "jsonl", "ndjson":
		return JSONL, nil
	}
	return "", fmt.Errorf("report format %q: want csv or jsonl", s)
}

// FormatOf returns the format a report path's extension names: .csv, or
// .jsonl or .ndjson (any case); ok is false for any other name.
func FormatOf(path string) (f Format, ok bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, true
	case ".jsonl", ".ndjson":
		return JSONL, true
	}
	return "", false
}

// DefaultPath is the report path of a run of input: changes.csv ->
// changes.report.csv (changes.report.jsonl for a JSONL report). See
// DefaultPathFor.
func DefaultPath(input string, f Format) string { return DefaultPathFor(input, "run", f) }

// DefaultPathFor is the report path of a mode's run of input. Only a
// run's report is STEM.report.F; every other mode names itself
// (changes.validate.report.csv), so that validate and run never write
// the same report. The stem is the input's name without a .csv
// extension, and with any other (good.jsonl -> good.jsonl.report.csv), so
// that good.csv and good.jsonl never share a report either. A plan's is
// changes.plan.csv.
func DefaultPathFor(input, mode string, f Format) string {
	switch mode {
	case "", "run":
		return reportStem(input) + ".report." + string(f)
	case "plan":
		return reportStem(input) + ".plan." + string(f)
	}
	return reportStem(input) + "." + mode + ".report." + string(f)
}

// RetryPath is the report of the n-th retry of input's reports:
// changes.retry1.report.csv.
func RetryPath(input string, n int, f Format) string {
	return fmt.Sprintf("%s.retry%d.report.%s", reportStem(input), n, f)
}

// reportStem is what the default reports of input are named after.
func reportStem(input string) string {
	if input == "-" || input == "" {
		return "stdin"
	}
	if ext := filepath.Ext(input); strings.EqualFold(ext, ".csv") {
		return strings.TrimSuffix(input, ext)
	}
	return input
}

// Record is one line of a report. It is the only declaration of the
// report's columns: the CSV header, the order of the CSV cells and the
// JSONL keys all come from its tags, so a column is added, renamed or moved
// here and nowhere else.
type Record struct {
	Row        int        `csv:"row" json:"row"`
	Mailbox    string     `csv:"mailbox" json:"mailbox"`
	Customer   string     `csv:"customer" json:"customer"`
	Status     string     `csv:"status" json:"status"`
	Phase      string     `csv:"phase" json:"phase"`
	Code       string     `csv:"code" json:"code"`
	Key        string     `csv:"key" json:"key"`
	Message    string     `csv:"message" json:"message"`
	Attempts   int        `csv:"attempts" json:"attempts"`
	DurationMS int64      `csv:"duration_ms" json:"duration_ms"`
	Fields     FieldNames `csv:"fields" json:"fields"`
	Line       int        `csv:"line" json:"line"`
	Hash       string     `csv:"hash" json:"hash"`
	// Changes is what the read before the update found the row changes,
	// "field: old -> new; ..." (see FormatChanges); a PIN shows as
	// "pin: changed", never its value.
	Changes string `csv:"changes" json:"changes"`
	// Time is when the row's result was written, RFC 3339 UTC.
	Time string `csv:"time" json:"time"`
}

// FieldNames is the names of the fields a row changes (never their
// values). In CSV it is one cell, the names joined by ';'; in JSONL an
// array.
type FieldNames []string

// MarshalCSV joins the names with ';'.
func (f FieldNames) MarshalCSV() (string, error) { return strings.Join(f, ";"), nil }

// UnmarshalCSV splits a cell at ';'; an empty cell is no names (not nil,
// so that a record reads back equal to the one written).
func (f *FieldNames) UnmarshalCSV(s string) error {
	if s == "" {
		*f = FieldNames{}
		return nil
	}
	*f = strings.Split(s, ";")
	return nil
}

// column is one cell of a CSV record.
type column struct {
	name  string
	index int // of the field in Record
	kind  reflect.Kind
	bits  int // of an integer
}

// columns lists Record's CSV cells in the order gocsv places them: the
// exported fields not tagged "-", in declaration order.
func columns() []column {
	t := reflect.TypeFor[Record]()
	cols := make([]column, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("csv"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		c := column{name: name, index: i, kind: f.Type.Kind()}
		if c.kind == reflect.Int || c.kind == reflect.Int64 {
			c.bits = f.Type.Bits()
		}
		cols = append(cols, c)
	}
	return cols
}

// Header returns the report's CSV columns, in order.
func Header() []string {
	cols := columns()
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.name
	}
	return h
}

// FromResult makes the record of a result; messages are kept on one line
// so that every record is exactly one physical line (a report cut by a
// crash is then cut between records or inside the last one, never
// ambiguously), and short.
func FromResult(r batch.Result) Record {
	f := r.Fields
	if f == nil {
		f = []string{}
	}
	return Record{
		Row: r.Row, Mailbox: oneLine(r.Mailbox), Customer: oneLine(r.Customer), Status: string(r.Status),
		Phase: string(r.Phase), Code: oneLine(r.Code), Key: oneLine(r.Key), Message: trimMessage(r.Message),
		Attempts: r.Attempts, DurationMS: r.Duration.Milliseconds(), Fields: f, Line: r.Line, Hash: r.Hash,
		Changes: FormatChanges(r.Changes), Time: formatTime(r.Time),
	}
}

// TimeLayout is how a record's time is written.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// FormatChanges writes changes as "field: old -> new", joined by "; ". A
// value is quoted (Go syntax) when it is empty or could be misread (it
// holds ";", "->", a quote, or space at an end); an old value the read
// did not show is "?"; a secret field is "pin: changed".
func FormatChanges(cs []batch.Change) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Field)
		if c.Secret {
			b.WriteString(": changed")
			continue
		}
		b.WriteString(": ")
		if c.Known {
			b.WriteString(ShowValue(c.Old))
		} else {
			b.WriteString("?")
		}
		b.WriteString(" -> ")
		b.WriteString(ShowValue(c.New))
	}
	return b.String()
}

// ShowValue is a value as FormatChanges writes it.
func ShowValue(v string) string {
	if v == "" || v == "?" || strings.ContainsAny(v, ";\"\r\n\t") || strings.Contains(v, "->") ||
		strings.TrimSpace(v) != v || !utf8.ValidString(v) {
		return strconv.Quote(v)
	}
	return v
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}

// Encoder writes records in one format.
//
// Its CSV writer is hand-written rather than gocsv's MarshalCSV, which
// on the journal's write path cost 1.4 µs and 18 allocations per record
// against 0.28 µs and 1 for cells listed by hand (BenchmarkEncode/csv),
// and 5.5% more per record written with one fsync per 8 records
// (BenchmarkJournalWriteFlush batch/group8; medians of 3): over the 2% the
// journal may spend on it. This writer still takes its columns from
// Record alone (see columns), at 0.38 µs and 1 allocation; reports are
// read back with gocsv.
type Encoder struct {
	f     Format
	w     io.Writer
	cw    *csv.Writer
	cols  []column
	one   Record
	rv    reflect.Value // one, addressable
	cells []string
}

// NewEncoder writes to w; header writes the CSV header first.
func NewEncoder(w io.Writer, f Format, header bool) (*Encoder, error) {
	e := &Encoder{f: f, w: w}
	if f != CSV {
		return e, nil
	}
	e.cw = csv.NewWriter(w)
	e.cols = columns()
	e.rv = reflect.ValueOf(&e.one).Elem()
	e.cells = make([]string, len(e.cols))
	if header {
		if err := e.cw.Write(Header()); err != nil {
			return nil, err
		}
		if err := e.Flush(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Encode writes one record. CSV records stay buffered until Flush: a
// csv.Writer given the journal's *bufio.Writer writes straight into it,
// so a flush per record would be a write(2) per record.
func (e *Encoder) Encode(r Record) error {
	if e.f == JSONL {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		_, err = e.w.Write(b)
		return err
	}
	e.one = r
	for i, c := range e.cols {
		v := e.rv.Field(c.index)
		switch c.kind {
		case reflect.String:
			e.cells[i] = safe(v.String())
		case reflect.Int, reflect.Int64:
			e.cells[i] = strconv.FormatInt(v.Int(), 10)
		default:
			m, ok := v.Addr().Interface().(gocsv.TypeMarshaller)
			if !ok {
				return fmt.Errorf("report column %s: %s has no MarshalCSV", c.name, v.Type())
			}
			s, err := m.MarshalCSV()
			if err != nil {
				return fmt.Errorf("report column %s: %w", c.name, err)
			}
			e.cells[i] = s
		}
	}
	return e.cw.Write(e.cells)
}

// Flush hands buffered CSV records to the underlying writer.
func (e *Encoder) Flush() error {
	if e.cw == nil {
		return nil
	}
	e.cw.Flush()
	return e.cw.Error()
}

// safe neutralises a cell a spreadsheet would run as a formula (=, +, -,
// @, tab, CR) by prefixing an apostrophe; a leading apostrophe is doubled so
// that unsafe() gives back exactly the original.
func safe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}

func unsafe(s string) string {
	if strings.HasPrefix(s, "'") {
		return s[1:]
	}
	return s
}

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
	delim rune          // the header's
	sheet bool          // a spreadsheet saved the file
	one   Record        // fast's target
	rv    reflect.Value // one, addressable
}

func newCellReader(delim rune, sheet bool) *cellReader {
	c := &cellReader{src: bytes.NewReader(nil), cols: columns(), delim: delim, sheet: sheet}
	c.rv = reflect.ValueOf(&c.one).Elem()
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

// fast decodes a line without quotes, the common case, without csv and
// gocsv: 10 times faster, and what a resume of a million rows spends
// most of its reading on (BenchmarkDecode). ok is false for a line it
// does not read exactly as the general path would (any quote, a cell
// count or integer that is wrong): that path then reads it, or says
// what is wrong with it.
func (c *cellReader) fast(line []byte) (rec Record, ok bool) {
	if bytes.IndexByte(line, '"') >= 0 {
		return Record{}, false
	}
	s := string(line)
	c.one = Record{}
	rv := c.rv
	for i, col := range c.cols {
		cell := s
		if i < len(c.cols)-1 {
			j := strings.IndexByte(s, ',')
			if j < 0 {
				return Record{}, false
			}
			cell, s = s[:j], s[j+1:]
		} else if strings.IndexByte(s, ',') >= 0 {
			return Record{}, false
		}
		v := rv.Field(col.index)
		switch col.kind {
		case reflect.String:
			v.SetString(unsafe(cell))
		case reflect.Int, reflect.Int64:
			n, err := strconv.ParseInt(cell, 10, col.bits)
			if err != nil {
				return Record{}, false
			}
			v.SetInt(n)
		default:
			u, isU := v.Addr().Interface().(gocsv.TypeUnmarshaller)
			if !isU || u.UnmarshalCSV(cell) != nil {
				return Record{}, false
			}
		}
	}
	return c.one, true
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

// trimMessage puts a message on one line of at most 300 bytes, valid
// UTF-8, cut on a rune boundary.
func trimMessage(s string) string {
	return firstN(strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), ""), 300)
}

// firstN shortens s to at most n bytes, on a rune boundary, marking the
// cut.
func firstN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Duration returns the record's duration.
func (r Record) Duration() time.Duration { return time.Duration(r.DurationMS) * time.Millisecond }
