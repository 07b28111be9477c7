package report

import "bytes"

// NextBrief is Next for a reader that needs only which row a record is
// of and how it ended: its Row, Mailbox, Customer, Status, Phase and
// Code, the other fields left empty. A record of ensbulk's own CSV is
// read to its code cell only, a fifth of Next's cost (a resume of an
// unchanged input reads a million of them before its first request);
// anything else is read whole, as Next reads it.
func (r *LatestReader) NextBrief() (Record, error) {
	off, b, err := r.nextLine()
	if err != nil {
		return Record{}, err
	}
	if r.format == CSV && r.dec.cells != nil && !r.dec.cells.sheet && r.dec.cells.delim == ',' {
		if rec, ok := brief(b); ok {
			return rec, nil
		}
	}
	return r.decodeAt(b, off)
}

// Rewind makes Next and NextBrief start again at the report's first
// row, without reading the report again to find each row's latest
// record (a resume that read it briefly, then must read it whole).
func (r *LatestReader) Rewind() { r.row = 0 }

// briefCells is how many leading cells brief reads: row to code.
const briefCells = 6

// brief reads the first cells of a CSV record line (see NextBrief) as
// the fast path reads them; ok is false when it cannot (the whole line
// is then decoded, and its error said).
func brief(line []byte) (rec Record, ok bool) {
	end := 0
	for range briefCells {
		i := bytes.IndexByte(line[end:], ',')
		if i < 0 {
			return Record{}, false
		}
		end += i + 1
	}
	if bytes.IndexByte(line[:end], '"') >= 0 || !restReads(line[end:]) {
		return Record{}, false // a quoted cell, or a line to read whole
	}
	s := string(line[:end])
	for i := range briefCells {
		var cell string
		if cell, s, ok = nextCell(s, false); !ok || !rec.setCell(i, cell) {
			return Record{}, false
		}
	}
	if rec.Row <= 0 || !validStatus(rec.Status) {
		return Record{}, false
	}
	return rec, true
}

// restReads says whether the cells after the brief ones are what the
// fast decoder reads without fault: the record's other cells, each
// plain or quoted as encoding/csv quotes, and its integers plain. A line
// it does not vouch for is decoded whole, so that a report a resume
// decides from is refused for a bad line before anything is sent, as
// Next refuses it, not when its end rewrites the report.
func restReads(rest []byte) bool {
	for i := briefCells; i < recordCells; i++ {
		last := i == recordCells-1
		var ok bool
		if len(rest) > 0 && rest[0] == '"' {
			if intColumn(i) {
				return false
			}
			rest, ok = skipQuoted(rest)
		} else {
			rest, ok = skipPlain(rest, i, last)
		}
		if !ok {
			return false
		}
		if !last {
			if len(rest) == 0 || rest[0] != ',' {
				return false
			}
			rest = rest[1:]
		}
	}
	return len(rest) == 0
}

// skipPlain returns what follows the unquoted cell i that s starts with
// (its comma included); ok is false when the cell is not where a record
// of recordCells cells has it, holds a quote, or is not the integer its
// column wants.
func skipPlain(s []byte, i int, last bool) (rest []byte, ok bool) {
	j := bytes.IndexByte(s, ',')
	var cell []byte
	switch {
	case last && j >= 0, !last && j < 0:
		return nil, false
	case last:
		cell, rest = s, nil
	default:
		cell, rest = s[:j], s[j:]
	}
	if bytes.IndexByte(cell, '"') >= 0 || intColumn(i) && !plainInt(cell) {
		return nil, false
	}
	return rest, true
}

// skipQuoted returns what follows the quoted cell s starts with ("" read
// as one quote); ok is false when it is not closed on the line.
func skipQuoted(s []byte) (rest []byte, ok bool) {
	j := 1
	for {
		q := bytes.IndexByte(s[j:], '"')
		if q < 0 {
			return nil, false
		}
		j += q + 1
		if j < len(s) && s[j] == '"' {
			j++
			continue
		}
		return s[j:], true
	}
}

// intColumn says whether cell i of a record is an integer (attempts,
// duration_ms, line).
func intColumn(i int) bool { return i == 8 || i == 9 || i == 11 }

// plainInt says whether b is an integer strconv reads for certain: a
// sign at most, then 1 to 18 digits.
func plainInt(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
