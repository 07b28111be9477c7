// Package report turns results into bytes and back: the report written as
// a run goes (durable, append-only), the final report in row order, its
// sidecar of metadata for resume, the summary of a report, and the
// selection of rows to retry.
package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// DefaultPath is the report path for an input: changes.csv ->
// changes.report.csv (changes.report.jsonl for a JSONL report).
func DefaultPath(input string, f Format) string {
	if input == "-" || input == "" {
		input = "stdin"
	}
	ext := filepath.Ext(input)
	base := strings.TrimSuffix(input, ext)
	return base + ".report." + string(f)
}

// Header is the report's columns, in order.
var Header = []string{"row", "mailbox", "customer", "status", "phase", "code", "key", "message", "attempts", "duration_ms", "fields", "line", "hash", "changes", "time"}

// Record is one line of a report.
type Record struct {
	Row        int      `json:"row"`
	Mailbox    string   `json:"mailbox"`
	Customer   string   `json:"customer"`
	Status     string   `json:"status"`
	Phase      string   `json:"phase"`
	Code       string   `json:"code"`
	Key        string   `json:"key"`
	Message    string   `json:"message"`
	Attempts   int      `json:"attempts"`
	DurationMS int64    `json:"duration_ms"`
	Fields     []string `json:"fields"`
	Line       int      `json:"line"`
	Hash       string   `json:"hash"`
	// Changes is what the read before the update found the row changes,
	// "field: old -> new; ..." (see FormatChanges); a PIN shows as
	// "pin: changed", never its value.
	Changes string `json:"changes"`
	// Time is when the row's result was written, RFC 3339 UTC.
	Time string `json:"time"`
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
type Encoder struct {
	f   Format
	w   io.Writer
	cw  *csv.Writer
	buf []string
}

// NewEncoder writes to w; header writes the CSV header first.
func NewEncoder(w io.Writer, f Format, header bool) (*Encoder, error) {
	e := &Encoder{f: f, w: w}
	if f == CSV {
		e.cw = csv.NewWriter(w)
		if header {
			if err := e.cw.Write(Header); err != nil {
				return nil, err
			}
			e.cw.Flush()
			if err := e.cw.Error(); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

// Encode writes one record.
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
	e.buf = append(e.buf[:0],
		strconv.Itoa(r.Row), safe(r.Mailbox), safe(r.Customer), r.Status, r.Phase, safe(r.Code), safe(r.Key),
		safe(r.Message), strconv.Itoa(r.Attempts), strconv.FormatInt(r.DurationMS, 10),
		strings.Join(r.Fields, ";"), strconv.Itoa(r.Line), r.Hash, safe(r.Changes), r.Time)
	// No Flush here: csv.NewWriter reuses a *bufio.Writer it is given, so
	// flushing it per record was a write(2) per record. The journal
	// flushes once per group (Flush).
	return e.cw.Write(e.buf)
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
type Decoder struct {
	br   *bufio.Reader
	f    Format
	line int
	name string
}

// NewDecoder reads records from r; the format is told by the first line.
func NewDecoder(r io.Reader, name string) *Decoder {
	return &Decoder{br: bufio.NewReaderSize(r, 64<<10), name: name}
}

// ErrTorn is returned for a last line cut short by a crash.
var ErrTorn = errors.New("last record is incomplete")

// Next returns the next record, io.EOF at the end, ErrTorn for a final
// partial line.
func (d *Decoder) Next() (Record, error) {
	for {
		line, err := d.br.ReadBytes('\n')
		if err == io.EOF {
			if len(bytes.TrimSpace(line)) > 0 {
				return Record{}, ErrTorn
			}
			return Record{}, io.EOF
		}
		if err != nil {
			return Record{}, err
		}
		d.line++
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if d.f == "" {
			if line[0] == '{' {
				d.f = JSONL
			} else {
				d.f = CSV
				if string(line) != strings.Join(Header, ",") {
					return Record{}, fmt.Errorf("%s: line 1: not an ensbulk report (header %q)", d.name, firstN(string(line), 80))
				}
				continue
			}
		}
		var rec Record
		if d.f == JSONL {
			if err := json.Unmarshal(line, &rec); err != nil {
				return Record{}, fmt.Errorf("%s: line %d: %w", d.name, d.line, err)
			}
		} else {
			rec, err = parseCSV(line)
			if err != nil {
				return Record{}, fmt.Errorf("%s: line %d: %w", d.name, d.line, err)
			}
		}
		if rec.Row <= 0 || !validStatus(rec.Status) {
			return Record{}, fmt.Errorf("%s: line %d: not a report record", d.name, d.line)
		}
		return rec, nil
	}
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

func parseCSV(line []byte) (Record, error) {
	cr := csv.NewReader(bytes.NewReader(line))
	cr.FieldsPerRecord = len(Header)
	f, err := cr.Read()
	if err != nil {
		return Record{}, err
	}
	var rec Record
	if rec.Row, err = strconv.Atoi(f[0]); err != nil {
		return Record{}, fmt.Errorf("row: %w", err)
	}
	rec.Mailbox, rec.Customer, rec.Status, rec.Phase = unsafe(f[1]), unsafe(f[2]), f[3], f[4]
	rec.Code, rec.Key, rec.Message = unsafe(f[5]), unsafe(f[6]), unsafe(f[7])
	if rec.Attempts, err = strconv.Atoi(f[8]); err != nil {
		return Record{}, fmt.Errorf("attempts: %w", err)
	}
	if rec.DurationMS, err = strconv.ParseInt(f[9], 10, 64); err != nil {
		return Record{}, fmt.Errorf("duration_ms: %w", err)
	}
	rec.Fields = []string{}
	if f[10] != "" {
		rec.Fields = strings.Split(f[10], ";")
	}
	if rec.Line, err = strconv.Atoi(f[11]); err != nil {
		return Record{}, fmt.Errorf("line: %w", err)
	}
	rec.Hash = f[12]
	rec.Changes, rec.Time = unsafe(f[13]), f[14]
	return rec, nil
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
