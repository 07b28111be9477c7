package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/ensbulk/ensbulk/batch"
)

// Reading a report's latest record of every row, in row order, in memory
// flat in records.
//
// A journal holds its records in the order rows finished, and a row can
// have several (a passed validation, then its final result; a row redone
// by a resume). Holding every row's record (about 1 KB each in Go) made
// the end of a 1M-row run take a gigabyte. Instead a first pass over the
// file reads only each line's row number and keeps where the row's last
// line starts: an offset of 5 bytes per row (up to 1 TiB of report), in
// pages allocated as rows appear. A second pass walks the rows in order
// and reads each row's line at its offset through a few cached windows of
// the file: a final report, and the part of a resumed journal that was
// one, is read sequentially, and the records a resume appended at its end
// are near row order too. A rewrite copies those lines as they are
// (decoding only what it must count), so the final report is the
// journal's own bytes.

// offsetBytes is the size of one row's entry in the index.
const offsetBytes = 5

// maxOffset is the largest offset an entry holds (0 is "no record").
const maxOffset = 1<<(8*offsetBytes) - 2

// pageRows is the rows of one page of the index: a variable so that the
// index's test spans several pages without 65,536 rows a page.
var pageRows = 1 << 16

// index maps a row number to the offset of its last line plus one (0: the
// row has no record).
type index struct {
	pages [][]byte
	max   int // highest row set
	rows  int // rows set
}

func (x *index) get(row int) int64 {
	p := row / pageRows
	if p >= len(x.pages) || x.pages[p] == nil {
		return 0
	}
	b := x.pages[p][(row%pageRows)*offsetBytes:]
	var v int64
	for i := range offsetBytes {
		v |= int64(b[i]) << (8 * i)
	}
	return v
}

// free releases the pages; the index is empty after.
func (x *index) free() {
	for _, p := range x.pages {
		if p != nil {
			freePage(p)
		}
	}
	*x = index{}
}

func (x *index) set(row int, v int64) {
	p := row / pageRows
	for len(x.pages) <= p {
		x.pages = append(x.pages, nil)
	}
	if x.pages[p] == nil {
		x.pages[p] = newPage(pageRows * offsetBytes)
	}
	b := x.pages[p][(row%pageRows)*offsetBytes:]
	if b[0]|b[1]|b[2]|b[3]|b[4] == 0 {
		x.rows++
	}
	for i := range offsetBytes {
		b[i] = byte(v >> (8 * i))
	}
	x.max = max(x.max, row)
}

// LatestReader reads the latest record of every row of a report, in row
// order. A torn last line is ignored: it was never acknowledged as
// written. Its memory is 5 bytes per row of the report, whatever the
// records hold.
type LatestReader struct {
	f      *os.File
	name   string
	format Format
	idx    index
	row    int // last row returned
	win    windows
	dec    *Decoder // decodes single lines
	sorted bool
	// maxBy is the highest row of a record of each status, whether or
	// not a later record of the row superseded it ("": a status not read
	// quickly).
	maxBy map[string]int
}

// OpenLatest reads the report at path once to find each row's latest
// record; Next then returns them in row order.
func OpenLatest(path string) (*LatestReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := &LatestReader{f: f, name: path, sorted: true, maxBy: map[string]int{}, dec: &Decoder{name: path}}
	if err := r.scan(); err != nil {
		r.Close()
		return nil, err
	}
	r.win = windows{f: f}
	return r, nil
}

// scan is the first pass: the format, and each row's last line.
func (r *LatestReader) scan() error {
	br := bufio.NewReaderSize(r.f, 256<<10)
	var off int64
	line, prev := 0, 0
	var long []byte
	for {
		b, err := readLine(br, &long)
		if err == io.EOF {
			return nil // a torn last line (or none): the end
		}
		if err != nil {
			return err
		}
		start := off
		off += int64(len(b))
		line++
		crlf := bytes.HasSuffix(b, []byte("\r\n"))
		b = bytes.TrimRight(b, "\r\n")
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if r.format == "" {
			rest, record, err := r.readStart(b, line, crlf)
			if err != nil {
				return err
			}
			if !record {
				continue
			}
			start += int64(len(b) - len(rest)) // past a byte order mark
			b = rest
		}
		if r.format == CSV && r.dec.cells.empty(b) {
			continue // a spreadsheet's row of empty cells
		}
		n, err := r.indexLine(b, line, start)
		if err != nil {
			return err
		}
		if n <= prev {
			r.sorted = false
		}
		prev = n
	}
}

// readLine reads the next line, with its newline, whatever its length: a
// line longer than br's buffer is gathered in *long. err is io.EOF for a
// line without a newline at the end.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	b, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return b, err
	}
	*long = append((*long)[:0], b...)
	for errors.Is(err, bufio.ErrBufferFull) {
		b, err = br.ReadSlice('\n')
		*long = append(*long, b...)
	}
	return *long, err
}

// readStart reads the report's first lines with the Decoder's own reading (a
// spreadsheet's byte order mark, sep= line and semicolons), which sets
// the format: rest is the record in b, when b holds one.
func (r *LatestReader) readStart(b []byte, line int, crlf bool) (rest []byte, record bool, err error) {
	r.dec.line, r.dec.crlf = line, crlf
	rest, record, err = r.dec.start(b)
	if err != nil {
		return nil, false, err
	}
	r.format = r.dec.f
	return rest, record, nil
}

// indexLine notes that row n's latest line so far (b, line number line) is
// at offset start, and returns n.
func (r *LatestReader) indexLine(b []byte, line int, start int64) (int, error) {
	n, ok := rowOf(b, r.format)
	if !ok {
		// Not a plain record: the decoder says what is wrong with it, or
		// reads its row.
		rec, err := r.decodeOne(b, line)
		if err != nil {
			return 0, err
		}
		n = rec.Row
	}
	if start+1 > maxOffset {
		return 0, fmt.Errorf("%s: larger than %d bytes", r.name, int64(maxOffset))
	}
	r.idx.set(n, start+1)
	st := statusOf(b, r.format)
	r.maxBy[st] = max(r.maxBy[st], n)
	return n, nil
}

// rowOf reads the row number at the start of a record line: the first
// CSV cell, or the first key a JSONL record is written with. ok is false
// for anything else.
func rowOf(b []byte, f Format) (int, bool) {
	if f == JSONL {
		const key = `{"row":`
		if !bytes.HasPrefix(b, []byte(key)) {
			return 0, false
		}
		b = b[len(key):]
	}
	n, i := 0, 0
	for ; i < len(b) && i < 12 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if i == 0 || i == 12 || i == len(b) || b[i] != ',' || n <= 0 || b[0] == '0' {
		return 0, false
	}
	return n, true
}

// statusOf reads the status of a plain record line quickly: the fourth
// CSV cell when no quote comes before it, the value of a JSONL record's
// status key (whose quotes no string value can hold unescaped). "" for
// anything else.
func statusOf(b []byte, f Format) string {
	if f == JSONL {
		const key = `"status":"`
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return ""
		}
		b = b[i+len(key):]
		j := bytes.IndexByte(b, '"')
		if j < 0 {
			return ""
		}
		return knownStatus(b[:j])
	}
	for range 3 {
		i := bytes.IndexByte(b, ',')
		if i < 0 || bytes.IndexByte(b[:i], '"') >= 0 {
			return ""
		}
		b = b[i+1:]
	}
	i := bytes.IndexByte(b, ',')
	if i < 0 {
		return ""
	}
	return knownStatus(b[:i])
}

// knownStatus is b as a status, "" when it is none.
func knownStatus(b []byte) string {
	for _, st := range batch.Statuses {
		if string(b) == string(st) {
			return string(st)
		}
	}
	return ""
}

// MaxRowUnless is the highest row with a record, superseded or not,
// whose status is not one of skip: a bound a resume uses to know which
// rows can still be followed by a row it keeps.
func (r *LatestReader) MaxRowUnless(skip ...batch.Status) int {
	m := 0
outer:
	for st, n := range r.maxBy {
		for _, s := range skip {
			if st == string(s) {
				continue outer
			}
		}
		m = max(m, n)
	}
	return m
}

// decodeOne decodes the record on line number line of the file.
func (r *LatestReader) decodeOne(b []byte, line int) (Record, error) {
	d := &Decoder{f: r.format, name: r.name, line: line}
	if r.format == CSV {
		d.cells = newCellReader(r.dec.cells.delim, r.dec.cells.sheet)
		d.out = make([]Record, 1)
	}
	return d.decodeLine(b)
}

// Format is the report's format ("" for an empty file).
func (r *LatestReader) Format() Format { return r.format }

// Rows counts the rows the report holds.
func (r *LatestReader) Rows() int { return r.idx.rows }

// Sorted says whether the report held one record per row, in row order
// (a final report).
func (r *LatestReader) Sorted() bool { return r.sorted }

// nextLine returns the next row's latest line, without its line ending,
// valid until the next call; io.EOF after the last row.
func (r *LatestReader) nextLine() (int64, []byte, error) {
	for r.row < r.idx.max {
		r.row++
		v := r.idx.get(r.row)
		if v == 0 {
			continue
		}
		b, err := r.win.line(v - 1)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", r.name, err)
		}
		return v - 1, bytes.TrimRight(b, "\r\n"), nil
	}
	return 0, nil, io.EOF
}

// Next returns the next row's latest record; io.EOF after the last row.
func (r *LatestReader) Next() (Record, error) {
	off, b, err := r.nextLine()
	if err != nil {
		return Record{}, err
	}
	return r.decodeAt(b, off)
}

// decodeAt decodes the line b found at offset off; an error names the
// line's number in the file.
func (r *LatestReader) decodeAt(b []byte, off int64) (Record, error) {
	rec, err := r.dec.decodeLine(b)
	if err == nil {
		return rec, nil
	}
	line, lerr := lineNumber(r.f, off)
	if lerr != nil {
		return Record{}, err
	}
	return r.decodeOne(b, line)
}

// All walks the records Next returns, then at most one error.
func (r *LatestReader) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

// Close closes the report and releases the index; Next must not be
// called after.
func (r *LatestReader) Close() error {
	r.idx.free()
	r.row = 0
	return r.f.Close()
}

// lineNumber counts the lines of f before offset off, plus one.
func lineNumber(f *os.File, off int64) (int, error) {
	br := bufio.NewReader(io.NewSectionReader(f, 0, off))
	n := 1
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			n++
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return 0, err
		}
	}
}

// windows reads lines at given offsets through a few cached windows of
// the file, replaced least recently used first.
type windows struct {
	f    *os.File
	w    [8]window
	tick int
	long []byte
}

type window struct {
	start int64
	buf   []byte
	used  int
}

const windowSize = 32 << 10

// line returns the line that starts at off, with its newline, valid
// until the next call.
func (ws *windows) line(off int64) ([]byte, error) {
	ws.tick++
	if b, ok := ws.cached(off); ok {
		return b, nil
	}
	w := ws.leastUsed()
	if err := ws.load(w, off); err != nil {
		return nil, err
	}
	if j := bytes.IndexByte(w.buf, '\n'); j >= 0 {
		return w.buf[:j+1], nil
	}
	return ws.longLine(off, w.buf)
}

// cached returns the line at off from a window that holds all of it.
func (ws *windows) cached(off int64) ([]byte, bool) {
	for i := range ws.w {
		w := &ws.w[i]
		if off < w.start || off >= w.start+int64(len(w.buf)) {
			continue
		}
		rest := w.buf[off-w.start:]
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			w.used = ws.tick
			return rest[:j+1], true
		}
	}
	return nil, false
}

// leastUsed is the window used longest ago (or never).
func (ws *windows) leastUsed() *window {
	lru := &ws.w[0]
	for i := range ws.w {
		if ws.w[i].used < lru.used {
			lru = &ws.w[i]
		}
	}
	return lru
}

// load fills w with the file from off on (less at the end of the file).
func (ws *windows) load(w *window, off int64) error {
	if cap(w.buf) < windowSize {
		w.buf = make([]byte, windowSize)
	}
	n, err := ws.f.ReadAt(w.buf[:windowSize], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	w.start, w.buf, w.used = off, w.buf[:n], ws.tick
	return nil
}

// longLine reads a line longer than a window whole into its own buffer:
// first is the window's worth of it already read.
func (ws *windows) longLine(off int64, first []byte) ([]byte, error) {
	ws.long = append(ws.long[:0], first...)
	for {
		k := len(ws.long)
		ws.long = append(ws.long, make([]byte, windowSize)...)
		n, err := ws.f.ReadAt(ws.long[k:], off+int64(k))
		ws.long = ws.long[:k+n]
		if j := bytes.IndexByte(ws.long[k:], '\n'); j >= 0 {
			return ws.long[:k+j+1], nil
		}
		if errors.Is(err, io.EOF) || n == 0 {
			return nil, fmt.Errorf("offset %d: the record ends without a newline (was the report changed while it was read?)", off)
		}
		if err != nil {
			return nil, err
		}
	}
}
