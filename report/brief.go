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
	if bytes.IndexByte(line[:end], '"') >= 0 {
		return Record{}, false // a quoted cell: read whole
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
