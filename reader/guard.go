package reader

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// guard watches the raw bytes on their way to the parsers for what the
// parsers cannot see or would pay for in memory:
//
//   - a carriage return not followed by a line feed. encoding/csv only
//     ends lines at \n, so an old Mac file (\r line ends) reads as one
//     endless header, and a stray \r elsewhere glues two lines together.
//   - a CSV record that never ends. encoding/csv has no size limit: a quote
//     left open on line 2 of a 2 GB file makes it buffer the whole file as
//     one field. The guard follows the quoting (a quote opens a quoted field
//     only at the start of a field; "" inside it is an escaped quote) to know
//     where records end, and stops at MaxRecordBytes.
//
// Both are file errors: the guard returns the bytes before the fault, then
// the *FileError for every later Read, and the parsers pass it up.
//
// After a quoting error encoding/csv drops the rest of the line, which the
// guard cannot know; a quote opened in that dropped rest keeps the guard
// "in quotes" until the next quote. The worst this does is refuse, as a
// file error naming that line, a file whose quotes are already wrong.
type guard struct {
	r   io.Reader
	csv bool
	max int

	line      int // line of the next byte, from 1
	pendingCR bool
	err       error

	// CSV quoting state.
	delimCode, delimMask uint32 // the delimiter's UTF-8 bytes, packed
	tail                 uint32 // the last bytes seen, packed the same way
	off                  int    // bytes seen, for the byte order mark
	fieldStart           bool
	inQuotes             bool
	quoteSeen            bool // a quote inside a quoted field: escape or end?
	recBytes             int
	recLine              int
}

func newGuard(r io.Reader, isCSV bool, delim rune) *guard {
	g := &guard{r: r, csv: isCSV, max: MaxRecordBytes, line: 1, fieldStart: true, recLine: 1}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], delim)
	for _, b := range buf[:n] {
		g.delimCode = g.delimCode<<8 | uint32(b)
	}
	g.delimMask = 1<<(8*uint(n)) - 1
	if n == 4 {
		g.delimMask = 0xFFFFFFFF
	}
	return g
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if n > 0 {
		if k, ferr := g.scan(p[:n]); ferr != nil {
			g.err = ferr
			// The bytes before the fault go first, on their own, and the
			// fault on the next Read: a parser handed both at once may
			// drop the data (bufio does), and then how the input happened
			// to be cut into reads would change the rows seen before the
			// error.
			if k > 0 {
				return k, nil
			}
			return 0, ferr
		}
	}
	if err == io.EOF && g.pendingCR {
		// A \r as the very last byte is a cut-off CRLF, not a line end
		// style; encoding/csv drops it too.
		g.pendingCR = false
	}
	if err != nil && err != io.EOF {
		// Keep reporting the same failure; the parsers may read again.
		g.err = err
	}
	return n, err
}

// scan checks p and returns, on a fault, how many bytes of p may still be
// passed on, and the error.
func (g *guard) scan(p []byte) (int, error) {
	if !g.csv {
		return g.scanLines(p)
	}
	for i := 0; i < len(p); {
		// Bytes other than a quote, \r and (outside quotes) \n change
		// nothing but the counts: skip them with IndexByte, which is
		// vectorised, and step through the rest one at a time.
		if !g.pendingCR && !g.quoteSeen && g.off >= 3 {
			if k := g.plain(p[i:]); k > 0 {
				g.recBytes += k
				if g.recBytes > g.max {
					return i, g.tooLong()
				}
				span := p[i : i+k]
				if g.inQuotes {
					g.line += bytes.Count(span, nl)
				}
				for _, b := range span[max(0, k-4):] {
					g.tail = g.tail<<8 | uint32(b)
				}
				g.off += k
				g.fieldStart = g.tail&g.delimMask == g.delimCode
				i += k
				continue
			}
		}
		if err := g.step(p[i]); err != nil {
			return i, err
		}
		i++
	}
	return len(p), nil
}

// scanLines is scan for JSONL, which only needs the line end check: it
// does it with fast searches.
func (g *guard) scanLines(p []byte) (int, error) {
	start := 0
	if g.pendingCR {
		g.pendingCR = false
		if p[0] != '\n' {
			return 0, g.loneCR()
		}
	}
	for {
		i := bytes.IndexByte(p[start:], '\r')
		if i < 0 {
			g.line += bytes.Count(p[start:], nl)
			return len(p), nil
		}
		i += start
		g.line += bytes.Count(p[start:i], nl)
		if i+1 == len(p) {
			g.pendingCR = true
			return len(p), nil
		}
		if p[i+1] != '\n' {
			return i, g.loneCR()
		}
		start = i + 1
	}
}

// plain returns how many bytes at the start of p need no step: up to the
// next quote or \r, or \n outside a quoted value.
func (g *guard) plain(p []byte) int {
	end := len(p)
	if !g.inQuotes {
		if j := bytes.IndexByte(p, '\n'); j >= 0 {
			end = j
		}
	}
	seg := p[:end]
	if j := bytes.IndexByte(seg, '"'); j >= 0 {
		seg = seg[:j]
	}
	if j := bytes.IndexByte(seg, '\r'); j >= 0 {
		seg = seg[:j]
	}
	return len(seg)
}

// step takes one byte through the quoting state machine.
func (g *guard) step(b byte) error {
	if g.pendingCR {
		g.pendingCR = false
		if b != '\n' {
			return g.loneCR()
		}
	}
	g.recBytes++
	if g.recBytes > g.max {
		return g.tooLong()
	}
	g.quote(b)
	if !g.inQuotes && b == '\n' {
		g.recBytes = 0
		g.recLine = g.line + 1
	}
	g.tail = g.tail<<8 | uint32(b)
	g.off++
	// A byte order mark is not part of the first field.
	g.fieldStart = b == '\n' || g.tail&g.delimMask == g.delimCode ||
		(g.off <= 3 && g.fieldStart && b == "\xEF\xBB\xBF"[g.off-1])
	switch b {
	case '\n':
		g.line++
	case '\r':
		g.pendingCR = true
	}
	return nil
}

// quote moves the quoting state past b: a quote opens a quoted field only
// at the start of a field, and inside one is either its end or, doubled,
// an escaped quote.
func (g *guard) quote(b byte) {
	if g.quoteSeen {
		g.quoteSeen = false
		if b != '"' {
			g.inQuotes = false // that quote closed the field
		}
		// else: "" is an escaped quote; still inside the field.
	} else if g.inQuotes {
		if b == '"' {
			g.quoteSeen = true
		}
	} else if b == '"' && g.fieldStart {
		g.inQuotes = true
	}
}

var nl = []byte{'\n'}

func (g *guard) loneCR() error {
	return &FileError{Line: g.line, Message: "a carriage return (\\r) is not followed by a line feed (\\n): old Mac line ends or a stray \\r; save the file with LF or CRLF line ends"}
}

func (g *guard) tooLong() error {
	if g.inQuotes {
		return &FileError{Line: g.recLine, Message: fmt.Sprintf("the record starting here is still inside a quoted value after %d bytes: a closing quote (\") is missing", g.max)}
	}
	return &FileError{Line: g.recLine, Message: fmt.Sprintf("the line is longer than %d bytes: is this really a CSV file?", g.max)}
}
