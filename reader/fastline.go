package reader

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"hash"
	"strings"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
)

// A fast path past encoding/csv for the lines nearly every file is made
// of. A record that is one line, complete in the buffer, whose quoted
// fields (if any) close on that line and are followed by a delimiter or
// the line end, is split here with the same result encoding/csv gives;
// encoding/csv would copy it byte by byte into a buffer to learn the
// same. Anything else (a quote inside an unquoted field, text after a
// closing quote, a quoted value going on to the next line, a line that is
// not all in the buffer) is left to encoding/csv, which reads from the
// same bufio.Reader, so its errors and positions are what they were.
//
// A \r can only be the end of a \r\n here (the guard lets no other \r
// through), and encoding/csv would keep one elsewhere as data anyway.
//
// encoding/csv counts the lines it reads itself; the lines read here are
// added to lineOffset, so that its line numbers plus lineOffset stay the
// physical line, as they already were for a skipped sep= line.

// fastState is what the fast paths keep between rows.
type fastState struct {
	csvLine int      // last line encoding/csv has read, in its own count
	rec     []string // the record, reused as encoding/csv's ReuseRecord
	buf     []byte   // unquoted field bytes of a line with quotes
	ends    []int    // where each field ends in buf
	params  []batch.Param
	sha     hash.Hash
	sum     [32]byte
}

// readRecord returns the next record and the physical line it starts on.
func (r *Reader) readRecord() ([]string, int, error) {
	if rec, line, ok := r.fastRecord(); ok {
		return rec, line, nil
	}
	rec, err := r.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			r.fast.csvLine = pe.Line // the rest of that line is dropped
		}
		return rec, 0, err
	}
	r.noteCSVRecord(rec)
	line, _ := r.csv.FieldPos(0)
	return rec, line + r.lineOffset, nil
}

// noteCSVRecord notes the last line of a record encoding/csv returned: the
// line its last field starts on, plus the line breaks inside that field.
func (r *Reader) noteCSVRecord(rec []string) {
	last := len(rec) - 1
	line, _ := r.csv.FieldPos(last)
	r.fast.csvLine = line + strings.Count(rec[last], "\n")
}

// fastRecord reads the next record when it is a plain line; false (and
// nothing consumed but blank lines, which encoding/csv skips too) when
// encoding/csv must read it.
func (r *Reader) fastRecord() ([]string, int, bool) {
	for {
		buf := bufferedLine(r.br)
		if buf == nil {
			return nil, 0, false
		}
		content := buf[:len(buf)-1]
		if n := len(content); n > 0 && content[n-1] == '\r' {
			content = content[:n-1]
		}
		var rec []string
		if len(content) > 0 {
			var ok bool
			if rec, ok = r.splitLine(content); !ok {
				return nil, 0, false
			}
		}
		line := r.fast.csvLine + r.lineOffset + 1
		r.br.Discard(len(buf))
		r.lineOffset++
		if len(content) == 0 {
			continue // a blank line is no record
		}
		return rec, line, true
	}
}

// passPlain passes over the next record unsplit when it is a plain line
// (no quote, not blank, not only delimiters) holding a row that want
// refuses; false, with nothing consumed, when the record must be read.
// It numbers and counts what nextCSV would: a filtered pass over a
// million rows then costs a line scan per row, not a split.
func (r *Reader) passPlain() bool {
	buf := bufferedLine(r.br)
	if buf == nil {
		return false
	}
	content := buf[:len(buf)-1]
	if n := len(content); n > 0 && content[n-1] == '\r' {
		content = content[:n-1]
	}
	if len(content) == 0 || bytes.IndexByte(content, '"') >= 0 || onlyDelims(content, r.delim) || r.want(r.num+1) {
		return false
	}
	r.br.Discard(len(buf))
	r.lineOffset++
	r.num++
	r.passed++
	return true
}

// onlyDelims says whether line holds nothing but the delimiter: a record
// of empty cells, which is no row (nextCSV skips it).
func onlyDelims(line []byte, delim rune) bool {
	for len(line) > 0 {
		c, size := utf8.DecodeRune(line)
		if c != delim {
			return false
		}
		line = line[size:]
	}
	return true
}

// splitLine splits one line (line end removed) into fields as encoding/csv
// does; false when encoding/csv must read it (a quoting error, or a quoted
// value that goes on past the line).
func (r *Reader) splitLine(line []byte) ([]string, bool) {
	if bytes.IndexByte(line, '"') >= 0 {
		return r.splitQuoted(line)
	}
	rec := r.fast.rec[:0]
	dl := utf8.RuneLen(r.delim)
	s := string(line) // one allocation per record, as encoding/csv
	for {
		i := strings.IndexRune(s, r.delim)
		if i < 0 {
			rec = append(rec, s)
			break
		}
		rec = append(rec, s[:i])
		s = s[i+dl:]
	}
	r.fast.rec = rec
	return rec, true
}

// splitQuoted is splitLine for a line holding a quote. The fields' bytes,
// unquoted, are gathered in one buffer and cut into strings at the end.
func (r *Reader) splitQuoted(line []byte) ([]string, bool) {
	dl := utf8.RuneLen(r.delim)
	buf, ends := r.fast.buf[:0], r.fast.ends[:0]
fields:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexRune(line, r.delim)
			field := line
			if i >= 0 {
				field = line[:i]
			}
			if bytes.IndexByte(field, '"') >= 0 {
				return nil, false // a bare quote
			}
			buf = append(buf, field...)
			ends = append(ends, len(buf))
			if i < 0 {
				break fields
			}
			line = line[i+dl:]
			continue
		}
		line = line[1:]
		for {
			i := bytes.IndexByte(line, '"')
			if i < 0 {
				return nil, false // the value goes on to the next line
			}
			buf = append(buf, line[:i]...)
			line = line[i+1:]
			switch c, size := utf8.DecodeRune(line); {
			case len(line) == 0:
				ends = append(ends, len(buf))
				break fields
			case c == '"': // "" is a quote
				buf = append(buf, '"')
				line = line[1:]
			case c == r.delim:
				ends = append(ends, len(buf))
				line = line[size:]
				continue fields
			default:
				return nil, false // text after the closing quote
			}
		}
	}
	rec := r.fast.rec[:0]
	s := string(buf)
	start := 0
	for _, end := range ends {
		rec = append(rec, s[start:end])
		start = end
	}
	r.fast.rec, r.fast.buf, r.fast.ends = rec, buf, ends
	return rec, true
}

// bufferedLine returns the next line, \n included, when it is already
// all in br's buffer; nil when it is not. It never reads: filling the
// buffer (and meeting the end of input, or an error, exactly once) is left
// to encoding/csv, which refills it with the lines that follow.
func bufferedLine(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return nil
}

// paramSlab is how many params are allocated at once.
const paramSlab = 1024

// newParams returns room for n params, carved from a shared slab: one
// allocation for many rows instead of one per row. Each row's slice is
// capped at its length, so an append by its owner never touches another
// row's params.
func (r *Reader) newParams(n int) []batch.Param {
	if n > paramSlab/8 {
		return make([]batch.Param, 0, n)
	}
	if cap(r.fast.params)-len(r.fast.params) < n {
		r.fast.params = make([]batch.Param, 0, paramSlab)
	}
	start := len(r.fast.params)
	r.fast.params = r.fast.params[:start+n]
	return r.fast.params[start : start : start+n]
}
