// Package reader turns a CSV or JSONL file of mailbox changes into a stream
// of batch rows, checked locally before anything is sent.
//
// The file is streamed: memory depends on the longest record, never on the
// number of rows. A problem with the file as a whole (header, encoding, line
// ends, an unreadable stream) is a *FileError; a problem with one row is a
// *batch.RowError in that row's Err, and reading goes on.
//
// Decisions an operator may want to know (README material):
//
//   - Standard input ("-") is read as CSV unless a format is given.
//   - Names are exact: "PIN" is not "pin". The CSV header is checked at once
//     (unknown, reserved, duplicate or empty column, no mailbox column are
//     file errors); JSONL has no header, so the same problems are row errors.
//   - CSV: an empty cell keeps the current value (the parameter is not sent);
//     the empty token (default "<empty>") sends "". A record whose cells are
//     all empty (what spreadsheets write for blank rows) is skipped, but it
//     still uses up its row number so numbers match the spreadsheet.
//   - JSONL: an absent key or null keeps, "" sends "". Values are JSON
//     strings; mailbox and the integer fields (customer, owner) may also be
//     JSON integers (1001 is read as "1001"); 0/1 fields also take the
//     numbers 0 and 1 and true/false (as 1/0). Any other number (1.0, -1,
//     1e3) or a number for a text field (a PIN written as 42 would lose its
//     leading zeros) is refused.
//   - An empty pin (<empty> or "") keeps the PIN: a PIN cannot be cleared.
//     It is counted as such (Tally.PinsKeptEmpty) and never sent.
//   - Surrounding spaces or tabs are refused in every value except
//     description; a value may not hold control characters other than tab,
//     so a line break inside a quoted CSV value is a row error.
//   - A carriage return not followed by a line feed (old Mac line ends) is a
//     file error, as is a CSV record over MaxRecordBytes (usually a quote
//     left open, which would otherwise swallow the rest of the file).
//     A JSONL line over MaxRecordBytes is a row error.
package reader

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

// Format is the syntax of an input file.
type Format string

// Input formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// DefaultEmptyToken is the CSV cell value that sends "" (sets a field to
// empty), as opposed to an empty cell, which keeps the current value.
const DefaultEmptyToken = "<empty>"

// MaxRecordBytes bounds one CSV record or one JSONL line. It is what keeps
// memory flat when a file is not what it claims to be (a quote left open,
// a binary file).
const MaxRecordBytes = 1 << 20

// DetectFormat returns the format named by override ("csv", "jsonl" or
// "ndjson", any case) or, when override is "", the one implied by the
// extension of path. Standard input ("-") defaults to CSV.
func DetectFormat(path, override string) (Format, error) {
	return DetectFormatWith(path, override, Hints{})
}

// DetectFormatWith is DetectFormat with its advice worded by h.
func DetectFormatWith(path, override string, h Hints) (Format, error) {
	if override != "" {
		switch strings.ToLower(override) {
		case "csv":
			return CSV, nil
		case "jsonl", "ndjson":
			return JSONL, nil
		}
		return "", fmt.Errorf("unknown format %q: use csv or jsonl", override)
	}
	if path == "-" {
		return CSV, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".jsonl", ".ndjson":
		return JSONL, nil
	// The names of what people export instead get the advice at once: a
	// --format csv would only lead to the next refusal (a workbook is a
	// zip, not text) or to one column per row (tabs are not commas).
	case ".xlsx", ".xlsm", ".xls", ".ods", ".numbers":
		return "", fmt.Errorf("%s is a spreadsheet workbook, not text: export it as CSV UTF-8 (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\") and run the .csv", path)
	case ".tsv", ".tab":
		return "", fmt.Errorf("%s is tab-separated: pass %s %s", path, h.format(CSV), h.delimiter('\t'))
	}
	return "", fmt.Errorf("cannot tell the format of %s from its name (.csv, .jsonl or .ndjson): pass %s or %s", path, h.format(CSV), h.format(JSONL))
}

// Options configure a Reader.
type Options struct {
	// Name is the file name used in errors; "-" is shown as "stdin".
	Name string
	// Format is CSV when empty.
	Format Format
	// EmptyToken is the CSV cell that sends ""; "" means DefaultEmptyToken.
	EmptyToken string
	// Delimiter separates CSV fields; 0 means ','.
	Delimiter rune
	// NoHash leaves Row.Hash empty, for readers whose rows go into no
	// report (an offline check): the per-row digest is a third of the
	// cost of reading.
	NoHash bool
	// Hints words the settings an error advises; the zero value says
	// them plainly (a command names its own flags).
	Hints Hints
}

// Hints word a setting an error advises: a delimiter, a format. A nil
// function says it in plain words.
type Hints struct {
	Delimiter func(d rune) string
	Format    func(f Format) string
}

func (h Hints) delimiter(d rune) string {
	if h.Delimiter != nil {
		return h.Delimiter(d)
	}
	switch d {
	case '\t':
		return "the delimiter '\\t' (a tab)"
	case '\'':
		return `the delimiter "'"`
	}
	return fmt.Sprintf("the delimiter '%c'", d)
}

func (h Hints) format(f Format) string {
	if h.Format != nil {
		return h.Format(f)
	}
	return "the format " + string(f)
}

// FileError is a problem with the file as a whole: nothing in it should be
// sent.
type FileError struct {
	File    string
	Line    int    // 0 when no line applies (the file cannot be opened)
	Column  string // column or key, "" when none applies
	Message string
	// Err is the underlying error (an I/O error), nil for content problems.
	Err error
}

func (e *FileError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	// Messages name their column themselves, so that Message alone still
	// makes sense; the prefix is only for those that do not.
	if e.Column != "" && !strings.Contains(e.Message, strconv.Quote(e.Column)) {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Message)
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// Reader yields the rows of one input file. It implements batch.Source
// and batch.Filter. It is not safe for concurrent use.
type Reader struct {
	name       string
	format     Format
	emptyToken string
	delim      rune
	hints      Hints
	noHash     bool

	// want, when set, says which rows Next returns (batch.Filter); the
	// others are counted in passed, numbered as ever but not checked.
	want   func(num int) bool
	passed int

	guard *guard
	br    *bufio.Reader

	fields                  []schema.Field
	mailboxIdx, customerIdx int
	descriptionIdx          int

	// CSV
	csv        *csv.Reader
	header     []string // names as written, one per column
	colField   []int    // schema index of each column
	mailboxCol int      // column of mailbox
	lineOffset int      // lines the csv.Reader did not see (sep=, lines the fast path read)
	fast       fastState
	num        int

	// JSONL
	line    int
	lineBuf []byte

	// per row scratch, reused
	slots   []slot
	seen    []bool
	pinKept bool
	hashBuf []byte

	tally *Tally
	err   error // sticky: io.EOF or a *FileError
}

// slot is the state of one schema field while a row is being built.
type slot struct {
	set bool
	val string
}

// Open opens path ("-" is standard input) and returns a Reader over it and
// the Closer to call when done. An empty opts.Format is taken from
// DetectFormat; an empty opts.Name from path. Errors are *FileError.
func Open(path string, opts Options) (*Reader, io.Closer, error) {
	if opts.Format == "" {
		f, err := DetectFormatWith(path, "", opts.Hints)
		if err != nil {
			return nil, nil, &FileError{File: displayName(path), Message: err.Error()}
		}
		opts.Format = f
	}
	if opts.Name == "" {
		opts.Name = path
	}
	if path == "-" {
		r, err := New(os.Stdin, opts)
		if err != nil {
			return nil, nil, err
		}
		// Closing our stdin is not ours to do.
		return r, io.NopCloser(nil), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &FileError{File: displayName(opts.Name), Message: "cannot open: " + errText(err), Err: err}
	}
	r, err := New(f, opts)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return r, f, nil
}

// New returns a Reader over r. For CSV it reads and checks the header at
// once. Every error it returns is a *FileError, bad options included (they
// concern how to read this file), so that a caller maps one type to "input
// error, nothing sent".
func New(r io.Reader, opts Options) (*Reader, error) {
	rd := &Reader{
		name:       displayName(opts.Name),
		format:     opts.Format,
		emptyToken: opts.EmptyToken,
		delim:      opts.Delimiter,
		noHash:     opts.NoHash,
		hints:      opts.Hints,
		fields:     schema.Fields(),
		tally:      NewTally(),
	}
	if rd.format == "" {
		rd.format = CSV
	}
	if rd.format != CSV && rd.format != JSONL {
		return nil, rd.usage(fmt.Sprintf("unknown format %q: use csv or jsonl", opts.Format))
	}
	if rd.emptyToken == "" {
		rd.emptyToken = DefaultEmptyToken
	}
	if rd.delim == 0 {
		rd.delim = ','
	}
	if !validDelim(rd.delim) {
		return nil, rd.usage(fmt.Sprintf("invalid delimiter %q: use one character other than a quote, a line break or NUL", rd.delim))
	}
	if rd.format == JSONL && rd.delim != ',' {
		return nil, rd.usage("a delimiter other than ',' applies to CSV input only, not JSONL")
	}
	rd.mailboxIdx = schema.Index("mailbox")
	rd.customerIdx = schema.Index("customer")
	rd.descriptionIdx = schema.Index("description")
	rd.slots = make([]slot, len(rd.fields))
	rd.seen = make([]bool, len(rd.fields))

	rd.guard = newGuard(r, rd.format == CSV, rd.delim)
	// 64 KiB so that a normal JSONL line needs one ReadSlice; csv.NewReader
	// reuses a *bufio.Reader of at least 4 KiB instead of wrapping it again.
	rd.br = bufio.NewReaderSize(rd.guard, 64<<10)
	if err := rd.sniff(); err != nil {
		return nil, err
	}
	if rd.format == CSV {
		if err := rd.startCSV(); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

// Next returns the next row, io.EOF after the last one, or a *FileError.
// A row that fails local checks is returned with Err set and a nil error.
func (r *Reader) Next() (batch.Row, error) {
	if r.err != nil {
		return batch.Row{}, r.err
	}
	var row batch.Row
	var err error
	if r.format == CSV {
		row, err = r.nextCSV()
	} else {
		row, err = r.nextJSONL()
	}
	if err != nil {
		r.err = err
		return batch.Row{}, err
	}
	return row, nil
}

// Only makes Next return only the rows whose number want accepts; the
// others are passed over: numbered, counted (Passed), not checked, not
// hashed and not tallied. For a pass over bytes an earlier pass read in
// full (batch.Filter).
func (r *Reader) Only(want func(num int) bool) { r.want = want }

// Passed counts the rows Next passed over since Only.
func (r *Reader) Passed() int { return r.passed }

// pass says whether the row numbered num is passed over, and counts it.
func (r *Reader) pass(num int) bool {
	if r.want == nil || r.want(num) {
		return false
	}
	r.passed++
	return true
}

// Tally returns the counts of every row read so far. Unlike a Tally fed
// with Add, it knows the CSV header's columns (so a column that only keeps
// is listed) and the pins kept because they were given empty.
func (r *Reader) Tally() *Tally { return r.tally }

// sniff refuses encodings that are not UTF-8 text and drops a UTF-8 byte
// order mark, before either parser sees the input.
func (r *Reader) sniff() error {
	head, err := r.br.Peek(4)
	var fe *FileError
	if err != nil && err != io.EOF && !errors.As(err, &fe) {
		return r.fileErr(err)
	}
	// A fault the guard found within the first bytes is not reported here:
	// the guard reports it again on the next read, after the rows before
	// it, as it would if the input had come in smaller reads.
	switch {
	case len(head) >= 2 && (head[0] == 0xFF && head[1] == 0xFE || head[0] == 0xFE && head[1] == 0xFF):
		return &FileError{File: r.name, Line: 1, Message: "the file is UTF-16 encoded: save it as UTF-8 (in Excel: \"CSV UTF-8\")"}
	case len(head) >= 4 && string(head) == "PK\x03\x04":
		return &FileError{File: r.name, Line: 1, Message: "the file is a zip archive (an Excel .xlsx workbook?), not text: export it as CSV UTF-8"}
	case len(head) >= 3 && string(head[:3]) == "\xEF\xBB\xBF":
		r.br.Discard(3)
	}
	return nil
}

// usage is a *FileError for options that do not fit the input.
func (r *Reader) usage(msg string) error {
	return &FileError{File: r.name, Message: msg}
}

// fileErr turns an error met while reading into a *FileError. The guard's
// errors know their line. An I/O error does not: input is read ahead, so
// it is placed after the last row returned instead.
func (r *Reader) fileErr(err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		if fe.File == "" {
			fe.File = r.name
		}
		return fe
	}
	last := r.num
	if r.format == JSONL {
		last = r.line
	}
	msg := "read failed: " + errText(err)
	if last > 0 {
		msg = fmt.Sprintf("read failed after row %d: %s", last, errText(err))
	}
	return &FileError{File: r.name, Message: msg, Err: err}
}

func displayName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// validDelim is encoding/csv's rule, checked up front so that a bad
// delimiter is a usage error rather than a failure on the first read.
func validDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}
