package reader

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

// CSV is read with encoding/csv, not gocsv. gocsv would take our own
// *csv.Reader (and FieldPos would still give each record's line), but it
// decodes a record into struct fields, and two things here need the cells
// as written. A cell has three states, not two: empty keeps the current
// value, the empty token clears it, anything else is a value. And a
// csv.ParseError (a stray quote) marks that one row invalid and reading goes
// on with the next line, where gocsv returns the error and stops.

// startCSV handles an Excel "sep=" line, then reads and checks the header.
func (r *Reader) startCSV() error {
	if err := r.sepLine(); err != nil {
		return err
	}
	cr := csv.NewReader(r.br)
	cr.Comma = r.delim
	cr.FieldsPerRecord = -1 // ragged rows are row errors, checked by us
	cr.ReuseRecord = true
	r.csv = cr

	rec, err := cr.Read()
	if err == io.EOF {
		return &FileError{File: r.name, Line: 1 + r.lineOffset, Message: "the file is empty: the first line must be a header naming the columns, e.g. mailbox,pin"}
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &FileError{File: r.name, Line: pe.Line + r.lineOffset, Message: "the header cannot be read: " + pe.Err.Error()}
		}
		return r.fileErr(err)
	}
	line, _ := cr.FieldPos(0)
	r.noteCSVRecord(rec)
	return r.checkHeader(rec, line+r.lineOffset)
}

// sepLine deals with Excel's "sep=;" first line. It is honoured only when it
// names the delimiter in use: semicolon files are never guessed, but a file
// that says what it is and a --delimiter that agrees are both clear.
func (r *Reader) sepLine() error {
	head, _ := r.br.Peek(16)
	if len(head) < 4 || !strings.EqualFold(string(head[:4]), "sep=") {
		return nil
	}
	end := -1
	for i, b := range head {
		if b == '\n' {
			end = i
			break
		}
	}
	if end < 0 {
		return nil
	}
	rest := strings.TrimSuffix(string(head[4:end]), "\r")
	sep, size := utf8.DecodeRuneInString(rest)
	if size == 0 || size != len(rest) || !validDelim(sep) {
		return nil // not a sep= line: let the header check name it
	}
	if sep != r.delim {
		return &FileError{File: r.name, Line: 1, Message: fmt.Sprintf("the first line %q says the file is delimited by %s: pass %s (the sep= line is then skipped)", "sep="+rest, delimName(sep), r.hints.delimiter(sep))}
	}
	r.br.Discard(end + 1)
	r.lineOffset = 1
	return nil
}

// checkHeader maps each column to its schema field. Problems are reported
// left to right, first one wins, except a missing mailbox column, which can
// only be known at the end.
func (r *Reader) checkHeader(rec []string, line int) error {
	fail := func(column, msg string) error {
		return &FileError{File: r.name, Line: line, Column: column, Message: msg}
	}
	if len(rec) == 1 {
		if d, ok := otherDelimiter(rec[0], r.delim); ok {
			return fail("", fmt.Sprintf("the header is the single column %q, which splits on %s into column names: the file is delimited by %s; pass %s",
				rec[0], delimName(d), delimName(d), r.hints.delimiter(d)))
		}
	}
	r.header = make([]string, len(rec))
	r.colField = make([]int, len(rec))
	where := make([]int, len(r.fields)) // 1-based column of each field, 0 = absent
	for i, name := range rec {
		r.header[i] = name // copy: rec is reused by the csv.Reader
		switch {
		case name == "":
			hint := ""
			if i == len(rec)-1 {
				hint = fmt.Sprintf(" (a %s at the end of the header line?)", delimName(r.delim))
			}
			return fail("", fmt.Sprintf("header cell %d is empty: every column needs a parameter name%s", i+1, hint))
		case schema.IsReserved(name):
			return fail(name, reservedMessage("column", name))
		}
		fi := schema.Index(name)
		if fi < 0 {
			msg := unknownMessage("column", name)
			if d, ok := otherDelimiter(name, r.delim); ok {
				msg += fmt.Sprintf(" (the name holds %s: is the file delimited by it? pass %s)", delimName(d), r.hints.delimiter(d))
			}
			return fail(name, msg)
		}
		if where[fi] != 0 {
			return fail(name, fmt.Sprintf("column %q appears twice (header cells %d and %d): keep one", name, where[fi], i+1))
		}
		where[fi] = i + 1
		r.colField[i] = fi
		if fi == r.mailboxIdx {
			r.mailboxCol = i
		}
		if fi != r.mailboxIdx {
			r.tally.declare(fi)
		}
	}
	if where[r.mailboxIdx] == 0 {
		return fail("mailbox", fmt.Sprintf("no mailbox column: every row must name its mailbox (the header has %s)", strings.Join(rec, string(r.delim))))
	}
	return nil
}

// otherDelimiter reports whether s, a single header cell, looks like a whole
// header written with another common delimiter: it splits into at least two
// parts, one of them a real column name.
func otherDelimiter(s string, current rune) (rune, bool) {
	for _, d := range []rune{';', ',', '\t', '|'} {
		if d == current || !strings.ContainsRune(s, d) {
			continue
		}
		for _, part := range strings.Split(s, string(d)) {
			if schema.Index(strings.TrimSpace(part)) >= 0 {
				return d, true
			}
		}
	}
	return 0, false
}

func delimName(d rune) string {
	if d == '\t' {
		return "tabs"
	}
	return fmt.Sprintf("'%c'", d)
}

// nextCSV reads records until one is a row (all-empty records are skipped).
func (r *Reader) nextCSV() (batch.Row, error) {
	for {
		if r.want != nil && r.passPlain() {
			continue
		}
		rec, line, err := r.readRecord()
		if err == io.EOF {
			return batch.Row{}, io.EOF
		}
		if err != nil {
			row, pass, err := r.recordError(rec, err)
			if pass {
				continue
			}
			return row, err
		}
		r.num++
		if allEmpty(rec) || r.pass(r.num) {
			continue
		}
		if len(rec) != len(r.header) {
			return r.fieldCountRow(rec, line), nil
		}
		r.begin()
		row := batch.Row{Num: r.num, Line: line}
		for i, v := range rec {
			fi := r.colField[i]
			switch v {
			case "":
				r.keep(&row, fi, "the cell is empty")
			case r.emptyToken:
				r.clear(&row, fi, r.emptyToken)
			default:
				r.value(&row, fi, v)
			}
		}
		r.finish(&row)
		return row, nil
	}
}

// recordError is what nextCSV returns for an error of readRecord: a file
// error, or a quoting fault as quoteError makes it; pass when the record
// is a row passed over instead.
func (r *Reader) recordError(rec []string, err error) (_ batch.Row, pass bool, _ error) {
	// Declared here, off nextCSV's path: errors.As makes pe escape, and
	// the happy path should not pay an allocation per row for it.
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return batch.Row{}, false, r.fileErr(err)
	}
	r.num++
	if pe.StartLine == pe.Line && r.pass(r.num) {
		return batch.Row{}, true, nil // a row refused locally, passed over (a file-level fault is not)
	}
	row, err := r.quoteError(rec, pe)
	return row, false, err
}

// fieldCountRow is the row of a record whose number of fields is not the
// header's.
func (r *Reader) fieldCountRow(rec []string, line int) batch.Row {
	r.begin()
	row := batch.Row{Num: r.num, Line: line}
	if r.mailboxCol < len(rec) {
		row.Mailbox = rec[r.mailboxCol]
	}
	msg := fmt.Sprintf("the row has %d fields but the header has %d: a missing or extra %s, or a value holding %s that is not in quotes",
		len(rec), len(r.header), delimName(r.delim), delimName(r.delim))
	r.fail(&row, "", msg)
	r.finish(&row)
	return row
}

// quoteError turns a quoting fault into a row error when it stayed on one
// line: encoding/csv then resumes on the next line. A fault spanning lines
// means a quote opened in one record ran into the following ones; which
// lines are rows is then anyone's guess, so the file is refused.
func (r *Reader) quoteError(rec []string, pe *csv.ParseError) (batch.Row, error) {
	start := pe.StartLine + r.lineOffset
	if pe.StartLine != pe.Line {
		return batch.Row{}, &FileError{File: r.name, Line: start,
			Message: fmt.Sprintf("a quoted value opened in the record starting here is not closed properly (line %d, byte %d): check the quotes", pe.Line+r.lineOffset, pe.Column)}
	}
	r.begin()
	row := batch.Row{Num: r.num, Line: start}
	column := ""
	if len(rec) < len(r.header) {
		column = r.header[len(rec)] // the partial record holds the fields before the bad one
	}
	if r.mailboxCol < len(rec) {
		row.Mailbox = rec[r.mailboxCol]
	}
	var msg string
	if errors.Is(pe.Err, csv.ErrBareQuote) {
		msg = fmt.Sprintf("a quote (\") inside a value that does not start with one (byte %d): put the whole value in quotes and double the inner quote, e.g. \"say \"\"hi\"\"\"", pe.Column)
	} else {
		msg = fmt.Sprintf("text after the closing quote of a quoted value (byte %d): a quote inside a quoted value must be doubled (\"\")", pe.Column)
	}
	r.fail(&row, column, msg)
	r.finish(&row)
	return row, nil
}

func allEmpty(rec []string) bool {
	for _, v := range rec {
		if v != "" {
			return false
		}
	}
	return true
}
