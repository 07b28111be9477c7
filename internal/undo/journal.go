package undo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// Journal is the append side of an undo: it implements batch.UndoLog.
// One goroutine owns the file: it writes every entry waiting, then one
// fsync for them all (group commit), then lets their updates go.
type Journal struct {
	path string
	f    *os.File
	reqs chan journalReq
	quit chan struct{}
	done chan struct{}
}

type journalReq struct {
	line []byte
	ack  chan error // nil: nobody waits (a withdrawal)
}

// Create starts the journal of a new run at JournalPath(undoPath). It
// refuses when the undo file or the journal already exists, and never
// follows a link. The journal appears whole or not at all: its header is
// written and synced under a temporary name, then linked into place, so
// a run killed while creating it leaves no headerless journal for its
// --resume to refuse.
func Create(undoPath string, id Identity, reportPath string) (*Journal, error) {
	jp := JournalPath(undoPath)
	report.RemoveTemps(jp)
	for _, p := range []string{undoPath, jp} {
		if _, err := os.Lstat(p); err == nil {
			return nil, &ExistsError{Path: p}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if err := placeNew(jp, headerLine(id, reportPath)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(jp, os.O_RDWR|os.O_APPEND|noFollow, 0o600)
	if err != nil {
		return nil, err
	}
	return start(jp, f)
}

func headerLine(id Identity, report string) []byte {
	b, _ := json.Marshal(journalHeader{Format: formatVersion, Identity: id, Report: report})
	return append(b, '\n')
}

func writeHeader(f *os.File, id Identity, report string) error {
	if _, err := f.WriteAt(headerLine(id, report), 0); err != nil {
		return err
	}
	return f.Sync()
}

// placeNew writes content to a new file at path, 0600, atomically: under
// a temporary name first (synced, named as report.WriteAtomic names its
// own, so that report.RemoveTemps finds it after a kill), then linked to
// path, which fails rather than replace anything there.
func placeNew(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeClose(tmp, content); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ExistsError{Path: path}
		}
		// A file system without hard links (FAT, some network shares)
		// refuses the link: the file is made in place instead.
		return createNew(path, content)
	}
	return nil
}

// createNew writes content to a new file at path, 0600, exclusively and
// never through a link, in place: a kill before content is whole leaves
// the file empty, which Continue mends (the header is one small write).
func createNew(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ExistsError{Path: path}
		}
		return err
	}
	return writeClose(f, content)
}

// writeClose writes content to f, syncs and closes it: the first error.
func writeClose(f *os.File, content []byte) error {
	_, err := f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Continue reopens the journal of a run being resumed or retried. It
// must exist, be a regular file (not a link) and belong to id; a line
// torn by a crash is cut (its update was never sent).
func Continue(undoPath string, id Identity) (*Journal, error) {
	jp := JournalPath(undoPath)
	st, err := os.Lstat(jp)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &MissingJournalError{Path: jp}
	}
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (a link or not a regular file)", jp, ErrNotOurs)
	}
	f, err := os.OpenFile(jp, os.O_RDWR|noFollow, 0o600)
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		// Left by a build that created the journal before writing its
		// header, killed in between: no entry was ever recorded in it.
		if err := writeHeader(f, id, ""); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", jp, err)
		}
	}
	h, err := readJournalHeader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", jp, err)
	}
	if !h.Identity.Same(id) {
		f.Close()
		return nil, &IdentityError{Path: jp, Recorded: h.Identity, Current: id}
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	if err := cutTornLine(f); err != nil { // an entry cut by a crash: its update never went
		f.Close()
		return nil, fmt.Errorf("%s: %w", jp, err)
	}
	return start(jp, f)
}

// start makes the journal's state durable and starts its writer.
func start(path string, f *os.File) (*Journal, error) {
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(path); err != nil {
		f.Close()
		return nil, err
	}
	j := &Journal{path: path, f: f, reqs: make(chan journalReq), quit: make(chan struct{}), done: make(chan struct{})}
	go j.loop()
	return j, nil
}

func readJournalHeader(f *os.File) (journalHeader, error) {
	var h journalHeader
	line, err := firstLine(f)
	if err != nil {
		return h, err
	}
	if json.Unmarshal(line, &h) != nil || h.Format == 0 {
		return h, ErrNotOurs
	}
	if h.Format > formatVersion {
		return h, fmt.Errorf("written by a newer ensbulk (format %d)", h.Format)
	}
	return h, nil
}

// firstLine reads the first line of r (at most 64 KiB).
func firstLine(r io.ReaderAt) ([]byte, error) {
	buf := make([]byte, 64<<10)
	n, err := r.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	i := bytes.IndexByte(buf[:n], '\n')
	if i < 0 {
		return nil, ErrNotOurs
	}
	return buf[:i], nil
}

// Record implements batch.UndoLog: it returns once the entry is on disk.
func (j *Journal) Record(e batch.UndoEntry) error {
	ent := entry{Row: e.Row.Num, Mailbox: e.Mailbox, Customer: e.Customer, Lost: e.Lost}
	for _, f := range e.Fields {
		fd := field{Name: f.Name, Set: f.Set}
		if !f.Old.Null {
			old := f.Old.Text
			fd.Old = &old
		}
		ent.Fields = append(ent.Fields, fd)
	}
	return j.send(ent, true)
}

// Withdraw implements batch.UndoLog: the row's latest entry does not
// count. It does not wait for the disk: until the withdrawal is durable
// the entry counts, which restores, under the undo's own check, a value
// the field already holds.
func (j *Journal) Withdraw(row *batch.Row) error {
	return j.send(entry{Row: row.Num, Withdrawn: true}, false)
}

func (j *Journal) send(e entry, wait bool) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	r := journalReq{line: append(b, '\n')}
	if wait {
		r.ack = make(chan error, 1)
	}
	select {
	case j.reqs <- r:
	case <-j.done:
		return errors.New("undo journal closed")
	}
	if !wait {
		return nil
	}
	return <-r.ack
}

// loop is the one owner of the file.
func (j *Journal) loop() {
	defer close(j.done)
	var failed error
	var buf bytes.Buffer
	for {
		var reqs []journalReq
		select {
		case r := <-j.reqs:
			reqs = append(reqs, r)
		case <-j.quit:
			return
		}
	drain:
		for len(reqs) < 256 {
			select {
			case r := <-j.reqs:
				reqs = append(reqs, r)
			default:
				break drain
			}
		}
		err := failed
		if err == nil {
			buf.Reset()
			for _, r := range reqs {
				buf.Write(r.line)
			}
			if _, err = j.f.Write(buf.Bytes()); err == nil {
				err = j.f.Sync()
			}
			// A journal that failed once may hold a partial line: no
			// later entry may be acknowledged.
			failed = err
		}
		for _, r := range reqs {
			if r.ack != nil {
				r.ack <- err
			}
		}
	}
}

// Close stops the writer (after what was sent to it) and closes the file.
func (j *Journal) Close() error {
	if j == nil || j.f == nil {
		return nil
	}
	close(j.quit)
	<-j.done
	err := j.f.Close()
	j.f = nil
	return err
}

// Path is the journal's path.
func (j *Journal) Path() string { return j.path }

// cutTornLine cuts a line torn by a crash (report.CutTorn) and leaves
// the offset at the end, for appending.
func cutTornLine(f *os.File) error {
	if _, err := report.CutTorn(f); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekEnd)
	return err
}

func syncDir(path string) error {
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

// scanLines calls fn with every non-empty line of r, numbered from 1.
func scanLines(r io.Reader, fn func(n int, line []byte) error) error {
	_, err := scanCount(r, fn)
	return err
}

// scanCount is scanLines that also returns how many lines r has (blank
// ones too: the numbering backwardLines follows).
func scanCount(r io.Reader, fn func(n int, line []byte) error) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(n, sc.Bytes()); err != nil {
			return n, err
		}
	}
	return n, sc.Err()
}
