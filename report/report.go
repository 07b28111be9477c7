// Package report turns results into bytes and back: the report written as
// a run goes (durable, append-only), the final report in row order, its
// sidecar of metadata for resume, the summary of a report, and the
// selection of rows to retry. The report's columns are the fields of
// Record: a column is added, renamed or moved there.
package report

import (
	"fmt"
	"path/filepath"
	"reflect"
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
