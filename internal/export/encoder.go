package export

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"

	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/reader"
)

// encoder writes mailboxes as rows of an input file: a value the
// server keeps as NULL is "keep" (an empty CSV cell, an absent JSONL key),
// "" is the empty token (CSV) or "" (JSONL), so that a plan of the file
// finds every row unchanged.
type encoder struct {
	w      io.Writer
	cw     *csv.Writer
	format reader.Format
	cols   []string
	cells  []string
}

func newEncoder(w io.Writer, f reader.Format, cols []string) *encoder {
	e := &encoder{w: w, cols: cols, format: f}
	if f == reader.CSV {
		e.cw = csv.NewWriter(w)
	}
	return e
}

func (e *encoder) header() error {
	if e.cw == nil {
		return nil
	}
	return e.cw.Write(e.cols)
}

// exact says whether a column's value, written as it is, reads back as
// that value (reader.Exact); one that does not is kept (not written).
func (e *encoder) exact(m enswitch.Mailbox, name string) bool {
	text, present, null := m.Value(name)
	if !present || null || name == "customer" {
		return true
	}
	return reader.Exact(e.format, name, text, reader.DefaultEmptyToken)
}

// cell is a column's value and whether to write it at all.
func (e *encoder) cell(m enswitch.Mailbox, name, customer string) (string, bool) {
	text, present, null := m.Value(name)
	switch {
	case name == "customer" && (!present || null || altered(m, name)):
		return customer, true
	case !present || null:
		return "", false
	case !schema.Plain(name, text):
		return "", false // a secret masked, or no PIN: keep
	case altered(m, name):
		return "", false // not the value itself: keep
	case !e.exact(m, name):
		return "", false // would not read back as itself: keep
	}
	return text, true
}

// altered reports whether the client had to cut, escape or redact a
// column's text (enswitch.Value.Altered): such a text is not the value,
// and a file that applied it would write the wrong one.
func altered(m enswitch.Mailbox, name string) bool {
	v, _ := m.Column(name)
	return v.Altered
}

func (e *encoder) encode(m enswitch.Mailbox, customer string) error {
	if e.cw == nil {
		var b strings.Builder
		b.WriteByte('{')
		n := 0
		for _, c := range e.cols {
			v, ok := e.cell(m, c, customer)
			if !ok {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			k, _ := json.Marshal(c)
			val, _ := json.Marshal(v)
			b.Write(k)
			b.WriteByte(':')
			b.Write(val)
		}
		b.WriteString("}\n")
		_, err := io.WriteString(e.w, b.String())
		return err
	}
	e.cells = e.cells[:0]
	for _, c := range e.cols {
		v, ok := e.cell(m, c, customer)
		switch {
		case !ok:
			v = ""
		case v == "" && c != "mailbox" && c != "customer":
			v = reader.DefaultEmptyToken
		}
		e.cells = append(e.cells, v)
	}
	return e.cw.Write(e.cells)
}
