package reader

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

// The local checks, shared by both formats. A row is built in r.slots (one
// per schema field, so that params come out in schema order whatever the
// column or key order) and the first problem found becomes row.Err; the
// remaining values are still looked at so that Mailbox and Customer are
// known for the report.

// begin resets the per-row scratch.
func (r *Reader) begin() {
	// Only the flags: clearing the values too would be a write barrier
	// per field per row while the GC runs. A value is read only when set.
	for i := range r.slots {
		r.slots[i].set = false
	}
	clear(r.seen)
	r.pinKept = false
}

// fail records msg as the row's error unless it already has one.
func (r *Reader) fail(row *batch.Row, column, msg string) {
	if row.Err != nil {
		return
	}
	row.Err = &batch.RowError{File: r.name, Row: row.Num, Line: row.Line, Column: column, Message: msg}
}

// keep handles a value that is not given (empty cell, absent key, null).
func (r *Reader) keep(row *batch.Row, fi int, how string) {
	if fi == r.mailboxIdx {
		r.fail(row, "mailbox", "mailbox is required: "+how+"; every row must name the mailbox it changes")
	}
}

// clear handles a value given as empty (the empty token, JSON "").
func (r *Reader) clear(row *batch.Row, fi int, token string) {
	f := &r.fields[fi]
	switch {
	case fi == r.mailboxIdx:
		r.fail(row, f.Name, fmt.Sprintf("mailbox cannot be %s: every row must name the mailbox it changes", token))
	case f.EmptyKeeps:
		// The API keeps the PIN when given "": a PIN cannot be cleared.
		// Sending "" would suggest otherwise, so it is not sent at all.
		r.pinKept = true
	case f.EmptyMeans == "":
		how := "leave the cell empty"
		if r.format == JSONL {
			how = "leave the key out (or null)"
		}
		r.fail(row, f.Name, fmt.Sprintf("%s has no empty value, so %s cannot be sent: %s to keep the current value, or give %s", f.Name, token, how, accepted(f)))
	default:
		r.slots[fi] = slot{set: true, val: ""}
	}
}

// value checks a non-empty value and stores it.
func (r *Reader) value(row *batch.Row, fi int, v string) {
	f := &r.fields[fi]
	if fi == r.mailboxIdx {
		row.Mailbox = v
	} else if fi == r.customerIdx {
		row.Customer = v
	}
	if msg := r.check(fi, f, v); msg != "" {
		r.fail(row, f.Name, msg)
		return
	}
	r.slots[fi] = slot{set: true, val: v}
}

// check returns why v is refused for the field, "" when it is fine. Values
// of pin are never quoted back: PINs do not go into reports.
func (r *Reader) check(fi int, f *schema.Field, v string) string {
	if printableASCII(v) {
		// The usual case, decided in one pass over the bytes.
		if fi != r.descriptionIdx && (v[0] == ' ' || v[len(v)-1] == ' ') {
			return r.spaceMessage(fi, f, v)
		}
		return typeMessage(f, v)
	}
	if !utf8.ValidString(v) {
		i := firstInvalid(v)
		return fmt.Sprintf("%s is not valid UTF-8 (bad byte 0x%02X at byte %d): save the file as UTF-8", f.Name, v[i], i+1)
	}
	for i, c := range v {
		if c != '\t' && unicode.IsControl(c) {
			what := fmt.Sprintf("a control character (U+%04X)", c)
			if c == '\n' || c == '\r' {
				what = "a line break"
			}
			return fmt.Sprintf("%s holds %s at byte %d: values must be one line of printable text (tab allowed)", f.Name, what, i+1)
		}
	}
	if fi != r.descriptionIdx {
		first, _ := utf8.DecodeRuneInString(v)
		last, _ := utf8.DecodeLastRuneInString(v)
		if unicode.IsSpace(first) || unicode.IsSpace(last) {
			return r.spaceMessage(fi, f, v)
		}
	}
	return typeMessage(f, v)
}

func (r *Reader) spaceMessage(fi int, f *schema.Field, v string) string {
	if f.Secret {
		return f.Name + " has spaces before or after it: remove them"
	}
	return fmt.Sprintf("%s has spaces before or after it: remove them (got %s)", f.Name, show(v))
}

// printableASCII reports whether v is non-empty and all printable ASCII.
func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7E {
			return false
		}
	}
	return v != ""
}

// typeMessage checks the value against the field's type.
func typeMessage(f *schema.Field, v string) string {
	switch f.Type {
	case schema.Bool01:
		if v != "0" && v != "1" {
			return fmt.Sprintf("%s must be 0 or 1, got %s", f.Name, show(v))
		}
	case schema.Integer:
		if !schema.PlainInteger(v) {
			return fmt.Sprintf("%s must be %s: digits only, no sign, decimal point or leading zero; got %s", f.Name, accepted(f), show(v))
		}
	}
	return ""
}

// accepted says what a field takes, for messages.
func accepted(f *schema.Field) string {
	switch f.Type {
	case schema.Bool01:
		return "0 or 1"
	case schema.Integer:
		if f.Name == "owner" {
			return "a whole number such as 42 (0 = none)"
		}
		return "a whole number such as 42"
	case schema.Enum:
		var vs []string
		for _, v := range f.Values {
			if v != "" {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			return "one of " + strings.Join(vs, ", ")
		}
	}
	if f.Name == "timezone" {
		return "a time zone such as Europe/London"
	}
	return "a value"
}

// show quotes a value for a message, cut short when long.
func show(v string) string {
	if c := cut(v); c != v {
		return fmt.Sprintf("%q...", c[:len(c)-3])
	}
	return fmt.Sprintf("%q", v)
}

// cut shortens v to about 40 bytes for a message, marking the cut with "...".
func cut(v string) string {
	const max = 40
	if len(v) <= max {
		return v
	}
	n := max
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n] + "..."
}

func firstInvalid(s string) int {
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return 0
}

func reservedMessage(kind, name string) string {
	return fmt.Sprintf("%s %q is refused: credentials (auth_username, auth_password) and validation never come from a data file; they come from the environment, a password file or a prompt, and from the command (validate or run); remove it", kind, name)
}

func unknownMessage(kind, name string) string {
	msg := fmt.Sprintf("unknown %s %q", kind, name)
	c := schema.Closest(name)
	switch {
	case c == "":
		return msg + "; valid names: " + strings.Join(schema.Names(), ", ")
	case strings.TrimSpace(name) == c:
		return msg + ": names must not have spaces around them; did you mean " + c + "?"
	case strings.EqualFold(name, c):
		return msg + ": names are exact and lowercase; did you mean " + c + "?"
	}
	return msg + "; did you mean " + c + "?"
}

// finish puts the row's params together in schema order, hashes them and
// counts the row.
func (r *Reader) finish(row *batch.Row) {
	n := 0
	for _, s := range r.slots {
		if s.set {
			n++
		}
	}
	if n > 0 {
		row.Params = r.newParams(n)
		for i, s := range r.slots {
			if s.set {
				row.Params = append(row.Params, batch.Param{Name: r.fields[i].Name, Value: s.val})
			}
		}
	}
	if !r.noHash {
		row.Hash = r.rowHash(row)
	}
	r.tally.addSlots(row, r.slots, r.mailboxIdx)
	if r.pinKept && row.Err == nil {
		r.tally.PinsKeptEmpty++
	}
}

// rowHash is a digest of what the row means: its params in schema order
// and, for a refused row, the refusal.
//
// The values of secret fields (the PIN) are left out on purpose. The hash goes into reports, and
// a four-digit PIN hashed next to the mailbox number (also in the report)
// is found by trying all 10,000. The cost is that resume does not notice a
// row whose only change is its PIN.
func (r *Reader) rowHash(row *batch.Row) string {
	b := r.hashBuf[:0]
	for _, p := range row.Params {
		b = append(b, p.Name...)
		b = append(b, 0)
		if schema.IsSecret(p.Name) {
			b = append(b, 1) // set, value withheld
		} else {
			b = append(b, p.Value...)
		}
		b = append(b, 0)
	}
	if e := row.Err; e != nil {
		b = append(b, 2)
		b = append(b, e.Column...)
		b = append(b, 0)
		b = append(b, e.Message...)
		b = append(b, 0)
	}
	r.hashBuf = b
	// One digest, reset per row: cheaper than sha256.Sum256's setup.
	if r.fast.sha == nil {
		r.fast.sha = sha256.New()
	}
	h := r.fast.sha
	h.Reset()
	h.Write(b)
	sum := h.Sum(r.fast.sum[:0])
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

// Exact reports whether value, written as the field's cell (CSV, with
// emptyToken as the empty token) or key (JSONL), reads back as exactly
// that value. A file written for reading back (an export) writes a value
// only when it does, and leaves the others to keep the current value:
// the empty token itself as text, and what the local checks refuse
// (spaces around a value of a field that does not keep them, as all but
// the description, line breaks, control characters, a value of the wrong
// type), which a hand-written file has by mistake.
func Exact(f Format, field, value, emptyToken string) bool {
	fd, ok := schema.Lookup(field)
	if !ok {
		return false
	}
	if value == "" {
		return fd.EmptyMeans != "" || field == "mailbox"
	}
	if f == CSV && value == emptyToken {
		return false
	}
	r := &Reader{descriptionIdx: schema.Index("description")}
	return r.check(schema.Index(field), &fd, value) == ""
}
