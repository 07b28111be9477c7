package reader

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

const jsonExample = `{"mailbox":"1001","pin":"1234"}`

// nextJSONL returns the row of the next non-blank line. The row number is
// the line number.
func (r *Reader) nextJSONL() (batch.Row, error) {
	for {
		line, size, err := r.readLine()
		if err == io.EOF {
			return batch.Row{}, io.EOF
		}
		if err != nil {
			return batch.Row{}, r.fileErr(err)
		}
		r.line++
		line = bytes.TrimSuffix(line, nl)
		line = bytes.TrimSuffix(line, []byte{'\r'})
		over := size > MaxRecordBytes+2 || len(line) > MaxRecordBytes
		if !over && len(bytes.Trim(line, " \t")) == 0 {
			continue
		}
		if r.pass(r.line) {
			continue
		}
		if over {
			r.begin()
			row := batch.Row{Num: r.line, Line: r.line}
			r.fail(&row, "", fmt.Sprintf("the line is %d bytes long, over the limit of %d: one line must be one mailbox's changes", size, MaxRecordBytes))
			r.finish(&row)
			return row, nil
		}
		row := batch.Row{Num: r.line, Line: r.line}
		r.parseObject(&row, line)
		r.finish(&row)
		return row, nil
	}
}

// readLine returns the next line with its \n and the line's full size. A
// line over MaxRecordBytes is not kept whole: the caller only needs to know
// it was too long, and the reader must not grow with it. The returned slice
// is valid until the next call.
func (r *Reader) readLine() ([]byte, int, error) {
	r.lineBuf = r.lineBuf[:0]
	size := 0
	for {
		chunk, err := r.br.ReadSlice('\n')
		size += len(chunk)
		if size <= MaxRecordBytes+2 {
			if err == nil && len(r.lineBuf) == 0 {
				return chunk, size, nil // the usual case: no copy
			}
			r.lineBuf = append(r.lineBuf, chunk...)
		}
		switch err {
		case nil:
			return r.lineBuf, size, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if size == 0 {
				return nil, 0, io.EOF
			}
			return r.lineBuf, size, nil
		default:
			return nil, size, err
		}
	}
}

// parseObject checks one line: valid UTF-8, valid JSON, an object, and then
// every key and value.
func (r *Reader) parseObject(row *batch.Row, line []byte) {
	r.begin()
	if !r.objectLine(row, line) {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		r.fail(row, "", "invalid JSON: "+err.Error())
		return
	}
	for dec.More() {
		key, v, composite, err := nextMember(dec)
		if err != nil {
			r.fail(row, "", "invalid JSON: "+err.Error())
			return
		}
		r.member(row, key, v, composite)
	}
	if !r.seen[r.mailboxIdx] {
		r.keep(row, r.mailboxIdx, "the key is missing")
	}
}

// objectLine reports whether line is valid UTF-8 and valid JSON, and an
// object; when it is not, it fails row saying why.
func (r *Reader) objectLine(row *batch.Row, line []byte) bool {
	if !utf8.Valid(line) {
		i := firstInvalid(string(line))
		r.fail(row, "", fmt.Sprintf("the line is not valid UTF-8 (bad byte 0x%02X at byte %d): save the file as UTF-8", line[i], i+1))
		return false
	}
	if !json.Valid(line) {
		r.fail(row, "", invalidJSON(line))
		return false
	}
	switch c := bytes.TrimLeft(line, " \t\r\n")[0]; c {
	case '{':
		return true
	case '[':
		r.fail(row, "", "the line is a JSON array, not an object: each line must be one object such as "+jsonExample)
	default:
		r.fail(row, "", "the line is a single JSON value, not an object: each line must be one object such as "+jsonExample)
	}
	return false
}

// invalidJSON says where line, which is not valid JSON, goes wrong.
func invalidJSON(line []byte) string {
	var v any
	err := json.Unmarshal(line, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s; each line must be one JSON object such as %s", se.Offset, se.Error(), jsonExample)
	}
	return fmt.Sprintf("invalid JSON; each line must be one JSON object such as %s", jsonExample)
}

// nextMember reads the next key and value of an object. A value that is
// an object or an array is consumed, and named in composite ("an object",
// "an array") instead of returned.
func nextMember(dec *json.Decoder) (key string, v json.Token, composite string, err error) {
	t, err := dec.Token()
	if err != nil {
		return "", nil, "", err
	}
	key, _ = t.(string)
	if v, err = dec.Token(); err != nil {
		return "", nil, "", err
	}
	if d, ok := v.(json.Delim); ok {
		if err := skipComposite(dec); err != nil {
			return "", nil, "", err
		}
		composite = "an object"
		if d == '[' {
			composite = "an array"
		}
	}
	return key, v, composite, nil
}

// member checks one key of the object and its value (composite when the
// value is an object or an array, see nextMember).
func (r *Reader) member(row *batch.Row, key string, v json.Token, composite string) {
	fi := schema.Index(key)
	switch {
	case fi < 0 && schema.IsReserved(key):
		r.fail(row, key, reservedMessage("key", key))
		return
	case fi < 0:
		r.fail(row, key, unknownMessage("key", key))
		return
	case r.seen[fi]:
		r.fail(row, key, fmt.Sprintf("key %q appears twice in the object: give it once", key))
		return
	}
	r.seen[fi] = true
	if fi != r.mailboxIdx {
		r.tally.declare(fi)
	}
	if composite != "" {
		r.fail(row, key, fmt.Sprintf("%s must be a single value, not %s", key, composite))
		return
	}
	r.jsonValue(row, fi, v)
}

// jsonValue turns a JSON scalar into the string to check, by the rules in
// the package comment.
func (r *Reader) jsonValue(row *batch.Row, fi int, v any) {
	f := &r.fields[fi]
	switch v := v.(type) {
	case nil:
		r.keep(row, fi, "the value is null")
	case string:
		if v == "" {
			r.clear(row, fi, `""`)
		} else {
			r.value(row, fi, v)
		}
	case bool:
		if f.Type != schema.Bool01 {
			r.fail(row, f.Name, fmt.Sprintf("%s must be %s, not %t", f.Name, jsonAccepted(f), v))
			return
		}
		if v {
			r.value(row, fi, "1")
		} else {
			r.value(row, fi, "0")
		}
	case json.Number:
		if s := string(v); r.numberFits(row, fi, s) {
			r.value(row, fi, s)
		}
	}
}

// numberFits reports whether the JSON number s is a value field fi takes
// as it is written; when it is not, it fails row saying why.
func (r *Reader) numberFits(row *batch.Row, fi int, s string) bool {
	f := &r.fields[fi]
	switch {
	case fi == r.mailboxIdx:
		if !schema.Digits(s) {
			row.Mailbox = s
			r.fail(row, f.Name, fmt.Sprintf("mailbox must be a string or a whole number (digits only), got %s", show(s)))
			return false
		}
	case f.Type == schema.Integer:
		if !schema.PlainInteger(s) {
			if fi == r.customerIdx {
				row.Customer = s
			}
			r.fail(row, f.Name, fmt.Sprintf("%s must be %s: digits only, no sign, decimal point or exponent; got %s", f.Name, accepted(f), cut(s)))
			return false
		}
	case f.Type == schema.Bool01:
		if s != "0" && s != "1" {
			r.fail(row, f.Name, fmt.Sprintf("%s must be 0 or 1, got %s", f.Name, show(s)))
			return false
		}
	default:
		what := fmt.Sprintf("got %s", show(s))
		if f.Secret {
			what = "got a number"
		}
		r.fail(row, f.Name, fmt.Sprintf("%s must be a JSON string (in quotes), not a number, so that leading zeros and formatting survive; %s", f.Name, what))
		return false
	}
	return true
}

func jsonAccepted(f *schema.Field) string {
	switch f.Type {
	case schema.Integer:
		return "a whole number or a string of digits"
	case schema.Bool01:
		return "0, 1, true or false"
	}
	return "a JSON string"
}

// skipComposite consumes the rest of an object or array whose opening
// delimiter was just read.
func skipComposite(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}
