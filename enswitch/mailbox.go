package enswitch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// ValueKind is the JSON type a server wrote a mailbox column in.
type ValueKind uint8

// Value kinds. get and list data is typed (numbers as JSON numbers, NULL
// as null), and servers differ in which columns they type how.
const (
	ValueString ValueKind = iota
	ValueNumber
	ValueNull
	ValueBool
	// ValueOther is an object or an array: kept as its JSON text.
	ValueOther
)

func (k ValueKind) String() string {
	switch k {
	case ValueNumber:
		return "number"
	case ValueNull:
		return "null"
	case ValueBool:
		return "bool"
	case ValueOther:
		return "other"
	}
	return "string"
}

// MaxValueLen bounds the text kept of one column of get or list data.
// Enswitch's columns are short (names, numbers, addresses); a server that
// sends megabytes decides nothing about what reaches reports, undo files
// and terminals.
const MaxValueLen = 1024

// Value is one column of a mailbox as the server wrote it, made safe to
// keep: redacted of the password and token, control characters escaped,
// at most MaxValueLen bytes (see Inert).
type Value struct {
	// Text is a string's value, a number's decimal text as sent, "1" or
	// "0" for a boolean, the JSON of an object or array, "" for null.
	Text string
	Kind ValueKind
	// Altered is set when Text is not exactly what the server sent: cut,
	// escaped or redacted. Such a text may be shown, but never written
	// back to the server as the column's value (an undo, an export).
	Altered bool
}

// Mailbox is one mailbox as mailboxes/get or mailboxes/list reports it:
// every column the server sent, known or not. The set of columns differs
// between servers (read-only columns, a PIN that may be absent or masked),
// so no column is assumed present.
type Mailbox struct {
	cols map[string]Value
}

// Value returns a column's text, whether the server sent the column, and
// whether it sent it as null: NULL and "" are different answers.
func (m Mailbox) Value(name string) (text string, present, null bool) {
	v, ok := m.cols[name]
	return v.Text, ok, v.Kind == ValueNull
}

// Text returns a column's text, "" when it is absent or null: for callers
// that compare with the strings of an update's parameters.
func (m Mailbox) Text(name string) string { return m.cols[name].Text }

// Column returns a column as the server wrote it.
func (m Mailbox) Column(name string) (Value, bool) {
	v, ok := m.cols[name]
	return v, ok
}

// Names returns the columns the server sent, sorted.
func (m Mailbox) Names() []string {
	out := make([]string, 0, len(m.cols))
	for k := range m.cols {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Len is the number of columns the server sent.
func (m Mailbox) Len() int { return len(m.cols) }

// DecodeMailbox decodes the data of mailboxes/get: one JSON object. Its
// column names and texts are bounded and inert as a Client's Get makes
// them, without the redaction of a client's secrets.
func DecodeMailbox(data json.RawMessage) (Mailbox, error) {
	return decodeMailbox(data, &secrets{})
}

// decodeMailbox is DecodeMailbox, redacting sec from every text: a
// server that echoes the password into a description must not have it
// land in a report, an undo file or a terminal.
func decodeMailbox(data json.RawMessage, sec *secrets) (Mailbox, error) {
	if m, ok := fastMailbox(data, sec); ok {
		return m, nil
	}
	return decodeMailboxExact(data, sec)
}

// decodeMailboxExact is decodeMailbox for any data: the path whose results
// fastMailbox reproduces for the data it takes.
func decodeMailboxExact(data json.RawMessage, sec *secrets) (Mailbox, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Mailbox{}, err
	}
	return mailboxOf(raw, sec)
}

// mailboxOf is the mailbox of decoded columns (nil: the data was null).
func mailboxOf(raw map[string]json.RawMessage, sec *secrets) (Mailbox, error) {
	if raw == nil {
		return Mailbox{}, errors.New("no data")
	}
	m := Mailbox{cols: make(map[string]Value, len(raw))}
	for k, v := range raw {
		k = sec.clean(k, MaxKeyLen)
		val, err := decodeValue(v)
		if err != nil {
			return Mailbox{}, fmt.Errorf("column %s: %w", k, err)
		}
		m.cols[k] = kept(val, sec)
	}
	return m, nil
}

// kept is val as it may be kept: its text redacted of sec, inert and
// bounded, and marked Altered when that changed it.
func kept(val Value, sec *secrets) Value {
	if t := sec.clean(val.Text, MaxValueLen); t != val.Text {
		val.Text, val.Altered = t, true
	}
	return val
}

// DecodeMailboxes decodes the data of mailboxes/list: an array of
// objects (an empty array is a customer without mailboxes), each as
// DecodeMailbox.
func DecodeMailboxes(data json.RawMessage) ([]Mailbox, error) {
	return decodeMailboxes(data, &secrets{})
}

func decodeMailboxes(data json.RawMessage, sec *secrets) ([]Mailbox, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, err
	}
	if rows == nil {
		return nil, errors.New("no data")
	}
	out := make([]Mailbox, len(rows))
	for i, r := range rows {
		m, err := decodeMailbox(r, sec)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		out[i] = m
	}
	return out, nil
}

func decodeValue(raw json.RawMessage) (Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Value{}, errors.New("empty value")
	}
	switch c := raw[0]; {
	case c == '"':
		// Most columns need no unescaping: a list of 100,000 mailboxes
		// has millions of them.
		if s, rest, ok := plainString(raw); ok && len(rest) == 0 {
			return Value{Text: s, Kind: ValueString}, nil
		}
		var s string
		err := json.Unmarshal(raw, &s)
		return Value{Text: s, Kind: ValueString}, err
	case c == 'n':
		return Value{Kind: ValueNull}, nil
	case c == 't':
		return Value{Text: "1", Kind: ValueBool}, nil
	case c == 'f':
		return Value{Text: "0", Kind: ValueBool}, nil
	case c == '-' || c >= '0' && c <= '9':
		var n json.Number
		err := json.Unmarshal(raw, &n)
		return Value{Text: n.String(), Kind: ValueNumber}, err
	}
	return Value{Text: string(raw), Kind: ValueOther}, nil
}
