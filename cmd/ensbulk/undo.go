package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch/schema"
	"github.com/ensbulk/ensbulk/reader"
)

// The undo file of a run, in two parts:
//
//   - UNDO.journal: every undo entry, appended and fsynced before the
//     update it belongs to is sent, in the order written, across every
//     --resume and kill -9 of the run (JSON lines, mode 0600: it holds
//     the PINs the server showed).
//   - UNDO (REPORT.undo.csv, or .jsonl for a JSONL input): the journal
//     in reverse order, in the input format, rewritten atomically at the
//     end of every run and resume.
//
// Why reversed: the first entry written for a field of a mailbox holds
// its value before the run (every later entry was read after one of the
// run's updates, or is a repeat of an update never sent). Rows of an
// input apply in file order, so the last write wins; reversed, the first
// entry is the last write. An entry whose update was never applied
// restores the value the field already holds: harmless. A PIN the server
// did not show is left empty (keep): that change cannot be undone.
type undoLog struct {
	path, journal string
	format        reader.Format

	f    *os.File
	reqs chan undoReq
	quit chan struct{}
	done chan struct{}
}

type undoReq struct {
	line []byte
	ack  chan error
}

// undoRecord is one line of the journal.
type undoRecord struct {
	Row    int         `json:"row"`
	Params [][2]string `json:"params"` // mailbox, customer, then fields, as sent
	Lost   []string    `json:"lost,omitempty"`
}

// undoPathFor is --undo, or the report's name with .undo.csv (.undo.jsonl
// for a JSONL input) in place of its extension.
func undoPathFor(flag, reportPath string, f reader.Format) string {
	if flag != "" {
		return flag
	}
	ext := "csv"
	if f != reader.CSV {
		ext = "jsonl"
	}
	return strings.TrimSuffix(reportPath, filepath.Ext(reportPath)) + ".undo." + ext
}

// undoFiles are the undo file and its journal of a run with this report,
// none when the run reads nothing (--no-read, plan).
func undoFiles(o *runOptions, reportPath string, f reader.Format) []string {
	if o.noRead || o.plan || o.validate {
		return nil
	}
	p := undoPathFor(o.undoPath, reportPath, f)
	return []string{p, p + ".journal"}
}

// openUndo opens the journal for appending: a new run refuses an undo file
// or journal already there (it may be the only record of an earlier run's
// values); a resume continues it, cutting a line torn by a crash.
func openUndo(path string, f reader.Format, resuming bool) (*undoLog, error) {
	u := &undoLog{path: path, journal: path + ".journal", format: f}
	if !resuming {
		for _, p := range []string{u.path, u.journal} {
			if _, err := os.Lstat(p); err == nil {
				return nil, usageErr("undo file %s already exists (an earlier run's undo?): move it away, or pass --undo PATH", p)
			}
		}
	}
	file, err := os.OpenFile(u.journal, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fileErr(fmt.Errorf("undo journal: %w", err))
	}
	if err := cutTornLine(file); err != nil {
		file.Close()
		return nil, fileErr(fmt.Errorf("undo journal %s: %w", u.journal, err))
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return nil, fileErr(fmt.Errorf("undo journal %s: %w", u.journal, err))
	}
	if err := syncDirOf(u.journal); err != nil {
		file.Close()
		return nil, fileErr(fmt.Errorf("undo journal %s: %w", u.journal, err))
	}
	u.f = file
	u.reqs = make(chan undoReq)
	u.quit = make(chan struct{})
	u.done = make(chan struct{})
	go u.loop()
	return u, nil
}

// record is batch.Options.Undo: it returns once the entry is on disk.
func (u *undoLog) record(e batch.UndoEntry) error {
	rec := undoRecord{Row: e.Row.Num, Lost: e.Lost}
	for _, p := range e.Prev {
		rec.Params = append(rec.Params, [2]string{p.Name, p.Value})
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	ack := make(chan error, 1)
	select {
	case u.reqs <- undoReq{line: append(b, '\n'), ack: ack}:
	case <-u.done:
		return errors.New("undo journal closed")
	}
	return <-ack
}

// loop is the one owner of the journal: it writes every entry waiting,
// then one fsync for them all (group commit), then lets their updates go.
func (u *undoLog) loop() {
	defer close(u.done)
	var failed error
	for {
		var batchReqs []undoReq
		select {
		case r := <-u.reqs:
			batchReqs = append(batchReqs, r)
		case <-u.quit:
			return
		}
	drain:
		for len(batchReqs) < 256 {
			select {
			case r := <-u.reqs:
				batchReqs = append(batchReqs, r)
			default:
				break drain
			}
		}
		err := failed
		if err == nil {
			var buf bytes.Buffer
			for _, r := range batchReqs {
				buf.Write(r.line)
			}
			if _, err = u.f.Write(buf.Bytes()); err == nil {
				err = u.f.Sync()
			}
			// A journal that failed once may hold a partial line: no
			// later entry may be acknowledged.
			failed = err
		}
		for _, r := range batchReqs {
			r.ack <- err
		}
	}
}

// close stops the writer and closes the journal.
func (u *undoLog) close() error {
	if u == nil || u.f == nil {
		return nil
	}
	close(u.quit)
	<-u.done
	err := u.f.Close()
	u.f = nil
	return err
}

// undoStats is what finish says about the undo file.
type undoStats struct {
	entries   int // lines in the undo file
	lostPINs  int // rows whose PIN change cannot be undone
	lostOther int // rows with another field the server did not show
}

// finish closes the journal and writes the undo file from it, reversed,
// atomically. With an empty journal there is nothing to undo: both files
// are removed.
func (u *undoLog) finish(emptyToken string) (undoStats, error) {
	var st undoStats
	if err := u.close(); err != nil {
		return st, err
	}
	f, err := os.Open(u.journal)
	if err != nil {
		return st, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return st, err
	}
	if info.Size() == 0 {
		os.Remove(u.journal)
		os.Remove(u.path)
		return st, nil
	}
	// First pass: which fields the file needs as columns, and what was
	// lost (each row once: a resumed row may have two entries).
	used := map[string]bool{}
	var lostPIN, lostOther bitsetRows
	err = forwardLines(f, func(line []byte) error {
		var rec undoRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		for _, p := range rec.Params {
			used[p[0]] = true
		}
		for _, l := range rec.Lost {
			if l == "pin" {
				lostPIN.set(rec.Row)
			} else {
				lostOther.set(rec.Row)
			}
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("undo journal %s: %w", u.journal, err)
	}
	st.lostPINs, st.lostOther = lostPIN.count(), lostOther.count()
	var cols []string
	for _, fd := range schema.Fields() {
		if used[fd.Name] || fd.Name == "mailbox" {
			cols = append(cols, fd.Name)
		}
	}
	err = writeFileAtomic(u.path, func(w io.Writer) error {
		enc := newUndoEncoder(w, u.format, cols, emptyToken)
		if err := enc.header(); err != nil {
			return err
		}
		return backwardLines(f, info.Size(), func(line []byte) error {
			var rec undoRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				return err
			}
			st.entries++
			return enc.encode(rec)
		})
	})
	return st, err
}

// undoEncoder writes undo rows in an input format of this project.
type undoEncoder struct {
	w          io.Writer
	cw         *csv.Writer
	format     reader.Format
	cols       []string
	emptyToken string
	cells      []string
}

func newUndoEncoder(w io.Writer, f reader.Format, cols []string, emptyToken string) *undoEncoder {
	e := &undoEncoder{w: w, format: f, cols: cols, emptyToken: emptyToken}
	if f == reader.CSV {
		e.cw = csv.NewWriter(w)
	}
	return e
}

func (e *undoEncoder) header() error {
	if e.cw == nil {
		return nil
	}
	return e.cw.Write(e.cols)
}

func (e *undoEncoder) encode(rec undoRecord) error {
	if e.cw == nil {
		var b bytes.Buffer
		b.WriteByte('{')
		for i, p := range rec.Params {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(p[0])
			v, _ := json.Marshal(p[1])
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteString("}\n")
		_, err := e.w.Write(b.Bytes())
		return err
	}
	e.cells = e.cells[:0]
	for _, c := range e.cols {
		cell := "" // not changed by this row, or not shown: keep
		for _, p := range rec.Params {
			if p[0] != c {
				continue
			}
			cell = p[1]
			if cell == "" && c != "customer" {
				cell = e.emptyToken
			}
		}
		e.cells = append(e.cells, cell)
	}
	if err := e.cw.Write(e.cells); err != nil {
		return err
	}
	e.cw.Flush()
	return e.cw.Error()
}

// forwardLines calls fn with every line of f from its start.
func forwardLines(f *os.File, fn func([]byte) error) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// backwardLines calls fn with every line of f's first size bytes, last
// line first, holding one chunk and one line in memory.
func backwardLines(f *os.File, size int64, fn func([]byte) error) error {
	const chunk = 64 << 10
	var carry []byte // the end of a line whose start is further back
	pos := size
	for pos > 0 {
		n := min(int64(chunk), pos)
		pos -= n
		buf := make([]byte, n, int(n)+len(carry))
		if _, err := f.ReadAt(buf, pos); err != nil {
			return err
		}
		buf = append(buf, carry...)
		for {
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 {
				break
			}
			if line := buf[i+1:]; len(line) > 0 {
				if err := fn(line); err != nil {
					return err
				}
			}
			buf = buf[:i]
		}
		carry = append([]byte(nil), buf...)
	}
	if len(carry) > 0 {
		return fn(carry)
	}
	return nil
}

// cutTornLine truncates f after its last newline: a line cut by a crash
// was never acknowledged, so its update was never sent.
func cutTornLine(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	keep := int64(0)
	err = backwardScanLast(f, size, &keep)
	if err != nil {
		return err
	}
	if keep != size {
		if err := f.Truncate(keep); err != nil {
			return err
		}
	}
	_, err = f.Seek(0, io.SeekEnd)
	return err
}

// backwardScanLast sets keep to the length of f up to its last newline.
func backwardScanLast(f *os.File, size int64, keep *int64) error {
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		n := min(int64(len(buf)), end)
		start := end - n
		if _, err := f.ReadAt(buf[:n], start); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			*keep = start + int64(i) + 1
			return nil
		}
		end = start
	}
	*keep = 0
	return nil
}

// writeFileAtomic writes path through a temporary file in its directory
// (mode 0600), fsynced and renamed into place, then syncs the directory.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 64<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDirOf(path)
}

func syncDirOf(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}

// bitsetRows is a set of row numbers.
type bitsetRows []uint64

func (b *bitsetRows) set(i int) {
	w := i / 64
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) % 64)
}

func (b bitsetRows) count() int {
	n := 0
	for _, w := range b {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}
