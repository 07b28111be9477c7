package enswitch

import "unicode/utf8"

// Get and list data is nearly always one flat object of plain strings,
// numbers, booleans and nulls: the read before every update decodes one,
// a list of 100,000 mailboxes decodes 100,000. fastMailbox decodes that
// shape by hand, without reflection, a RawMessage per column or a string
// per text; anything else goes to decodeMailbox's exact path whole, so
// that every result (and every error) is the exact path's.

// flatCol is one member of a flat object: where its key's and its
// value's texts are in the data, and the value's kind.
type flatCol struct {
	keyStart, keyEnd int
	valStart, valEnd int
	kind             ValueKind
}

// sharedTextMax bounds the data whose texts share one string. A mailbox's
// texts then cost one allocation, and keep at most this much alive; a
// larger one (a column a server made huge, which is kept cut) has a
// string per text, so that the cut does bound what is kept.
const sharedTextMax = 4 << 10

// fastMailbox is decodeMailbox's result for data that is one flat object
// whose keys are plain strings that sec.clean leaves as they are, and
// whose values are plain strings (no escapes, valid UTF-8), numbers,
// true, false or null. ok is false for anything else.
//
// A key that cleaning would change is left to the exact path: two such
// keys may clean to one, and which of them the exact path keeps is the
// order of a map's iteration, which this path would not reproduce.
func fastMailbox(data []byte, sec *secrets) (m Mailbox, ok bool) {
	var buf [48]flatCol // a mailbox's columns, on the stack
	cols, ok := scanFlat(data, buf[:0])
	if !ok {
		return Mailbox{}, false
	}
	texts := flatTexts{data: data}
	if len(data) <= sharedTextMax {
		texts.all, texts.shared = string(data), true
	}
	m = Mailbox{cols: make(map[string]Value, len(cols))}
	for _, c := range cols {
		k := texts.text(c.keyStart, c.keyEnd)
		if sec.clean(k, MaxKeyLen) != k {
			return Mailbox{}, false
		}
		// A duplicate key keeps its last value, as json.Unmarshal does.
		m.cols[k] = kept(texts.value(c), sec)
	}
	return m, true
}

// flatTexts makes the strings of a flat object's texts: slices of one
// string of the whole data (shared), or a string each.
type flatTexts struct {
	data   []byte
	all    string
	shared bool
}

func (t flatTexts) text(start, end int) string {
	if t.shared {
		return t.all[start:end]
	}
	return string(t.data[start:end])
}

// value is c's value as decodeValue makes it.
func (t flatTexts) value(c flatCol) Value {
	switch c.kind {
	case ValueNull:
		return Value{Kind: ValueNull}
	case ValueBool:
		if t.data[c.valStart] == 't' {
			return Value{Text: "1", Kind: ValueBool}
		}
		return Value{Text: "0", Kind: ValueBool}
	}
	return Value{Text: t.text(c.valStart, c.valEnd), Kind: c.kind}
}

// scanFlat appends the members of the flat object data holds to cols.
// ok is false when data is not exactly one such object (surrounded by
// JSON whitespace at most).
func scanFlat(data []byte, cols []flatCol) ([]flatCol, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return cols, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return cols, skipSpace(data, i+1) == len(data)
	}
	for {
		c, next, ok := scanMember(data, i)
		if !ok {
			return cols, false
		}
		cols = append(cols, c)
		i = skipSpace(data, next)
		if i >= len(data) {
			return cols, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return cols, skipSpace(data, i+1) == len(data)
		default:
			return cols, false
		}
	}
}

// scanMember reads one `"key": value` at data[i:], and returns where it
// ends.
func scanMember(data []byte, i int) (flatCol, int, bool) {
	var c flatCol
	end, ok := plainStringEnd(data, i)
	if !ok {
		return c, 0, false
	}
	c.keyStart, c.keyEnd = i+1, end-1
	i = skipSpace(data, end)
	if i >= len(data) || data[i] != ':' {
		return c, 0, false
	}
	i = skipSpace(data, i+1)
	if i >= len(data) {
		return c, 0, false
	}
	c.valStart = i
	switch b := data[i]; {
	case b == '"':
		end, ok = plainStringEnd(data, i)
		c.valStart, c.valEnd, c.kind = i+1, end-1, ValueString
	case b == '-' || b >= '0' && b <= '9':
		end, ok = numberEnd(data, i)
		c.valEnd, c.kind = end, ValueNumber
	default:
		end, c.kind, ok = literalEnd(data, i)
		c.valEnd = end
	}
	return c, end, ok
}

// plainStringEnd reads a JSON string at data[i:] that needs no
// unescaping (as plainString), and returns the index after its closing
// quote.
func plainStringEnd(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return 0, false
	}
	ascii := true
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			if !ascii && !utf8.Valid(data[i+1:j]) {
				return 0, false // the general decoder replaces bad bytes
			}
			return j + 1, true
		case c < 0x20 || c == '\\':
			return 0, false
		case c >= 0x80:
			ascii = false
		}
	}
	return 0, false
}

// numberEnd reads a JSON number at data[i:] (-?(0|[1-9][0-9]*)(\.[0-9]+)?
// ([eE][+-]?[0-9]+)?), and returns the index after it.
func numberEnd(data []byte, i int) (int, bool) {
	i, ok := integerEnd(data, i)
	if ok {
		i, ok = fractionEnd(data, i)
	}
	if ok {
		i, ok = exponentEnd(data, i)
	}
	return i, ok
}

// integerEnd reads a number's sign and integer part: no leading zeros.
func integerEnd(data []byte, i int) (int, bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		return i + 1, true
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		return digitsEnd(data, i), true
	}
	return 0, false
}

// fractionEnd reads a number's fraction, if it has one: a '.' and at
// least one digit.
func fractionEnd(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '.' {
		return i, true
	}
	j := digitsEnd(data, i+1)
	return j, j > i+1
}

// exponentEnd reads a number's exponent, if it has one: 'e' or 'E', a
// sign or not, and at least one digit.
func exponentEnd(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != 'e' && data[i] != 'E' {
		return i, true
	}
	i++
	if i < len(data) && (data[i] == '+' || data[i] == '-') {
		i++
	}
	j := digitsEnd(data, i)
	return j, j > i
}

func digitsEnd(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

// literalEnd reads true, false or null at data[i:].
func literalEnd(data []byte, i int) (int, ValueKind, bool) {
	for _, l := range [...]struct {
		text string
		kind ValueKind
	}{{"true", ValueBool}, {"false", ValueBool}, {"null", ValueNull}} {
		if len(data)-i >= len(l.text) && string(data[i:i+len(l.text)]) == l.text {
			return i + len(l.text), l.kind, true
		}
	}
	return 0, 0, false
}

// skipSpace returns the index of the first byte at or after i that is
// not JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
