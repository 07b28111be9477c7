package undo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/report"
)

// Stats is what Build says of the undo file it wrote.
type Stats struct {
	Rows      int // entries in the undo file
	LostPINs  int // entries with a PIN change that cannot be undone
	LostOther int // entries with another field the server did not show
	Nulls     int // fields that were null and take no empty value: not restorable
}

// Build writes the undo file at undoPath from its journal: the entries
// that count (not withdrawn), last first, atomically (mode 0600). With
// no entry it writes nothing and removes an undo file of the same
// identity left by an earlier invocation. An existing file at undoPath
// that is not an undo file of this identity, or is a link, is refused.
// The caller holds the report's lock: temporary files a killed Build left
// are removed.
//
// When an earlier invocation built the undo file from the start of the
// journal as it is now (a resume, a retry), only the entries recorded
// since are read: they go first, then the earlier file's entries, as
// they are (extend). The file is the one a build from the whole journal
// writes, at the cost of what the invocation recorded.
func Build(undoPath, reportPath string, created time.Time) (Stats, error) {
	jp := JournalPath(undoPath)
	report.RemoveTemps(undoPath)
	f, err := os.OpenFile(jp, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	h, err := readJournalHeader(f)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", jp, err)
	}
	if err := checkOurs(undoPath, h.Identity); err != nil {
		return Stats{}, err
	}
	info, err := f.Stat()
	if err != nil {
		return Stats{}, err
	}
	hdr := Header{Format: formatVersion, Identity: h.Identity, Report: reportPath, Created: created.UTC()}
	if st, done, err := extend(undoPath, f, info.Size(), hdr); done || err != nil {
		return st, err
	}
	part := section{f: f, end: info.Size()}
	cancelled, _, err := part.withdrawn()
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", jp, err)
	}
	st, lines, size, err := part.count(cancelled)
	if err != nil {
		return st, fmt.Errorf("%s: %w", jp, err)
	}
	if st.Rows == 0 {
		if err := os.Remove(undoPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return st, err
		}
		return st, nil
	}
	// Left unrecorded when the journal's end cannot be read: the next
	// build then reads the whole journal.
	_ = hdr.builtFrom(f, info.Size(), lines)
	hdr.setStats(st, size)
	return st, report.WriteAtomic(undoPath, 0o600, func(w io.Writer) error {
		if err := writeHeaderLine(w, hdr); err != nil {
			return err
		}
		return backwardLines(f, 0, info.Size(), lines, func(n int, line []byte) error {
			return copyEntry(w, n, line, cancelled)
		})
	})
}

// extend writes the undo file from the one at undoPath when that one was
// built from the first bytes of the journal f as it is now (its header
// says how many, and a checksum of their end), is as long as it was
// written, and no entry recorded since withdraws one of those. done is false, with nothing written,
// when it cannot: Build then reads the whole journal.
func extend(undoPath string, f *os.File, size int64, hdr Header) (st Stats, done bool, err error) {
	old, first, oh, ok := earlierFile(undoPath, f, size)
	if !ok {
		return st, false, nil
	}
	defer old.Close()
	if oh.JournalBytes == size {
		// Nothing recorded since: the file is what a build writes.
		return oh.stats(), true, nil
	}
	part := section{f: f, start: oh.JournalBytes, end: size, base: oh.JournalLines}
	cancelled, orphans, err := part.withdrawn()
	if err != nil || orphans {
		// An entry of the earlier file withdrawn since (or a line that
		// does not read): the whole journal decides.
		return st, false, nil
	}
	st, lines, added, err := part.count(cancelled)
	if err != nil {
		return st, false, nil
	}
	st = st.plus(oh.stats())
	if err := hdr.builtFrom(f, size, lines); err != nil {
		return st, true, err
	}
	hdr.setStats(st, oh.Bytes+added)
	body := io.NewSectionReader(old, int64(len(first))+1, oh.Bytes)
	return st, true, report.WriteAtomic(undoPath, 0o600, func(w io.Writer) error {
		if err := writeHeaderLine(w, hdr); err != nil {
			return err
		}
		err := backwardLines(f, part.start, size, lines, func(n int, line []byte) error {
			return copyEntry(w, n, line, cancelled)
		})
		if err != nil {
			return err
		}
		if _, err = io.Copy(w, body); err != nil {
			return err
		}
		// Closed before WriteAtomic renames over it: Windows refuses to
		// replace a file that is open (Go opens files without
		// FILE_SHARE_DELETE).
		return old.Close()
	})
}

// earlierFile opens the undo file at undoPath when a build may extend
// it: it was built from the first bytes of the journal f (of size bytes
// now) that its header names, the checksum of their end still matches,
// and it is as long as it was written (entries added or taken out since:
// the journal says what it holds). ok is false otherwise, with nothing
// left open; first is the file's header line.
func earlierFile(undoPath string, f *os.File, size int64) (old *os.File, first []byte, oh Header, ok bool) {
	old, err := os.OpenFile(undoPath, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, nil, oh, false
	}
	first, err = firstLine(old)
	ok = err == nil && json.Unmarshal(first, &oh) == nil && oh.extendable(size)
	if ok {
		sum, err := endSum(f, oh.JournalBytes)
		info, serr := old.Stat()
		ok = err == nil && sum == oh.JournalEnd && serr == nil && info.Size() == int64(len(first))+1+oh.Bytes
	}
	if !ok {
		old.Close()
		return nil, nil, oh, false
	}
	return old, first, oh, true
}

// extendable says whether the header records what a build needs to extend
// its file, for a journal of size bytes now.
func (h Header) extendable(size int64) bool {
	return h.JournalBytes > 0 && h.JournalBytes <= size && h.JournalLines >= 1 && h.Rows > 0 && h.Bytes > 0
}

// stats are the header's figures.
func (h Header) stats() Stats {
	return Stats{Rows: h.Rows, LostPINs: h.LostPINs, LostOther: h.LostOther, Nulls: h.Nulls}
}

// plus adds o's figures to st's.
func (st Stats) plus(o Stats) Stats {
	return Stats{Rows: st.Rows + o.Rows, LostPINs: st.LostPINs + o.LostPINs, LostOther: st.LostOther + o.LostOther, Nulls: st.Nulls + o.Nulls}
}

func writeHeaderLine(w io.Writer, h Header) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// setStats puts st's figures, and the entries' size, in the header.
func (h *Header) setStats(st Stats, size int64) {
	h.Rows, h.LostPINs, h.LostOther, h.Nulls, h.Bytes = st.Rows, st.LostPINs, st.LostOther, st.Nulls, size
}

// builtFrom records in the header which journal the file was built
// from: its first size bytes, lines lines, and a checksum of their end.
func (h *Header) builtFrom(f *os.File, size int64, lines int) error {
	sum, err := endSum(f, size)
	if err != nil {
		return err
	}
	h.JournalBytes, h.JournalLines, h.JournalEnd = size, lines, sum
	return nil
}

// endSum is the checksum of the last bytes (at most 4 KiB) of f's first
// size bytes: the journal an undo file was built from is still the start
// of the journal beside it (a journal only grows while its undo file is
// there: a new run refuses to start beside either).
func endSum(f *os.File, size int64) (string, error) {
	from := max(size-4096, 0)
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil {
		return "", err
	}
	if len(buf) == 0 || buf[len(buf)-1] != '\n' {
		return "", errors.New("the journal does not end a line there")
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), nil
}

// section is the part of a journal from byte start to end, whose first
// line is line base+1 of the journal (line 1 is its header).
type section struct {
	f          *os.File
	start, end int64
	base       int
}

func (s section) reader() io.Reader { return io.NewSectionReader(s.f, s.start, s.end-s.start) }

// count is what the header says of the entries of s that count, the
// journal's number of lines to s's end, and the bytes those entries take
// in the undo file: the second pass over s (the first found the
// withdrawals). An entry is decoded only when the header's
// figures need more than its existence (a lost field, a null) or it does
// not look like a whole entry (a line cut short is decoded, and refused):
// JSON escapes every quote inside a string, so these keys cannot be
// matched inside a value. At a million entries,
// decoding each was most of a resume's tail.
func (s section) count(cancelled map[int]bool) (st Stats, lines int, size int64, err error) {
	lines, err = scanCount(s.reader(), func(n int, line []byte) error {
		n += s.base
		if n == 1 || cancelled[n] {
			return nil
		}
		if !needsDecoding(line) {
			st.Rows++
			size += int64(len(line)) + 1
			return nil
		}
		if pin, other, ok := lostOnly(line); ok {
			st.Rows++
			st.LostPINs += b2i(pin)
			st.LostOther += b2i(other)
			size += int64(len(line)) + 1
			return nil
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if !e.Withdrawn {
			st.add(e)
			size += int64(len(line)) + 1
		}
		return nil
	})
	return st, s.base + lines, size, err
}

var (
	entryStart   = []byte(`{"row":`)
	entryEnd     = []byte(`}]}`) // the last field, the fields, the entry
	withdrawnKey = []byte(`"withdrawn":true`)
	lostKey      = []byte(`"lost":[`)
	lostEnd      = []byte(`"]}`) // the last lost name, the list, the entry
	nullRestore  = []byte(`"restore":null`)
)

// needsDecoding says whether a journal line is more than an entry that
// counts as one row.
func needsDecoding(line []byte) bool {
	return !bytes.HasPrefix(line, entryStart) || !bytes.HasSuffix(line, entryEnd) || bytes.Contains(line, withdrawnKey) ||
		bytes.Contains(line, lostKey) || bytes.Contains(line, nullRestore)
}

// lostOnly reads what a whole entry's lost fields count for (a PIN, or
// another field) when they are all it has besides existing: no null, no
// withdrawal, and names without escapes (schema names are plain). ok is
// false when the line must be decoded instead. Many entries of a run that
// sets PINs on a server that masks them have one.
//
// The journal writes lost last (entry's field order): a whole entry with
// one ends `"lost":["pin"]}`, not as entryEnd.
func lostOnly(line []byte) (pin, other, ok bool) {
	if !bytes.HasPrefix(line, entryStart) || !bytes.HasSuffix(line, lostEnd) ||
		bytes.Contains(line, withdrawnKey) || bytes.Contains(line, nullRestore) {
		return false, false, false
	}
	i := bytes.Index(line, lostKey)
	if i < 0 || bytes.Count(line, lostKey) != 1 {
		return false, false, false
	}
	list := line[i+len(lostKey):]
	end := bytes.IndexByte(list, ']')
	if end <= 0 || end != len(list)-len(lostEnd)+1 || bytes.IndexByte(list[:end], '\\') >= 0 {
		return false, false, false
	}
	return lostNames(list[:end])
}

// lostNames reads a lost list's names, each a plain JSON string: whether
// one is a secret (the PIN) and whether one is another field.
func lostNames(list []byte) (pin, other, ok bool) {
	for _, name := range bytes.Split(list, []byte{','}) {
		if len(name) < 2 || name[0] != '"' || name[len(name)-1] != '"' || bytes.IndexByte(name[1:len(name)-1], '"') >= 0 {
			return false, false, false
		}
		if schema.IsSecret(string(name[1 : len(name)-1])) {
			pin = true
		} else {
			other = true
		}
	}
	return pin, other, true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// add counts one entry that counts.
func (st *Stats) add(e entry) {
	st.Rows++
	pin, other := false, false
	for _, l := range e.Lost {
		// Secrets (the PIN) are counted apart: servers commonly mask
		// them, so they are the usual change an undo cannot take back.
		if schema.IsSecret(l) {
			pin = true
		} else {
			other = true
		}
	}
	if pin {
		st.LostPINs++
	}
	if other {
		st.LostOther++
	}
	for _, fd := range e.Fields {
		if fd.Old == nil && !takesEmpty(fd.Name) {
			st.Nulls++
		}
	}
}

// copyEntry writes journal line n to the undo file unless it is the
// header, a withdrawal or an entry one cancelled.
func copyEntry(w io.Writer, n int, line []byte, cancelled map[int]bool) error {
	if n == 1 || cancelled[n] || bytes.Contains(line, withdrawnKey) {
		return nil
	}
	// The journal's entry is the undo file's, byte for byte (count has
	// read every line that is not plainly one).
	if _, err := w.Write(line); err != nil {
		return err
	}
	_, err := w.Write(newline)
	return err
}

var newline = []byte{'\n'}

// withdrawn returns the line numbers of the entries a withdrawal of s
// cancels: for each withdrawal, the latest entry of its row before it.
// orphans says that a withdrawal found none in s (at the journal's
// start: nothing to cancel; further on: an entry before s). Withdrawals
// are rare, so the rows are collected first and only their entries kept.
func (s section) withdrawn() (cancelled map[int]bool, orphans bool, err error) {
	rows := map[int]bool{}
	err = scanLines(s.reader(), func(n int, line []byte) error {
		if n+s.base == 1 || !bytes.Contains(line, withdrawnKey) {
			return nil
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("line %d: %w", n+s.base, err)
		}
		if e.Withdrawn {
			rows[e.Row] = true
		}
		return nil
	})
	if err != nil || len(rows) == 0 {
		return nil, false, err
	}
	last := map[int]int{} // row -> line of its latest entry not cancelled
	cancelled = map[int]bool{}
	err = scanLines(s.reader(), func(n int, line []byte) error {
		n += s.base
		if n == 1 {
			return nil
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if !rows[e.Row] {
			return nil
		}
		if !e.Withdrawn {
			last[e.Row] = n
			return nil
		}
		if l, ok := last[e.Row]; ok {
			cancelled[l] = true
			delete(last, e.Row)
		} else {
			orphans = true
		}
		return nil
	})
	return cancelled, orphans, err
}

// checkOurs refuses to replace path unless it is absent, or a regular
// file (not a link) that is an undo file of id.
func checkOurs(path string, id Identity) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (a link or not a regular file): not replaced", path, ErrNotOurs)
	}
	h, err := ReadHeader(path)
	if err != nil {
		return fmt.Errorf("%s: %w: not replaced", path, ErrNotOurs)
	}
	if !h.Identity.Same(id) {
		return &IdentityError{Path: path, Recorded: h.Identity, Current: id}
	}
	return nil
}
