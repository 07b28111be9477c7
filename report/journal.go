package report

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
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

// SyncPolicy says when the journal is fsynced.
type SyncPolicy string

// Sync policies.
const (
	// SyncBatch fsyncs once per group of results the engine hands over
	// together (group commit): every row the server acknowledged is on
	// disk before a later row of the same mailbox is sent. The default.
	SyncBatch SyncPolicy = "batch"
	// SyncNone only writes to the OS: safe against a killed process, not
	// against a power cut. For benchmarks and tests.
	SyncNone SyncPolicy = "none"
)

// Meta is the sidecar of a report: what a resume must check before it
// trusts the report's rows.
type Meta struct {
	Version     int       `json:"version"`
	Input       string    `json:"input"`
	InputSHA256 string    `json:"input_sha256"`
	InputFormat string    `json:"input_format"`
	EmptyToken  string    `json:"empty_token"`
	Delimiter   string    `json:"delimiter"`
	Mode        string    `json:"mode"` // run or validate
	Started     time.Time `json:"started"`
	Format      Format    `json:"report_format"`
	// Finished is when a run of the report went through its whole input
	// (no row skipped or missing, whatever the rows' outcomes); zero while
	// it has not. A resume of a finished report whose input changed
	// starts a new report (package resume).
	Finished time.Time `json:"finished,omitzero"`
	// Switch, User and Customer are whom the report belongs to: the
	// switch's normalised URL (no credentials, no query), the API user,
	// and that user's own customer when known. A resume, a retry, a
	// validation takeover or an undo made with another switch or user is
	// refused before anything is sent. Never a password or a token.
	Switch   string `json:"switch,omitempty"`
	User     string `json:"user,omitempty"`
	Customer string `json:"customer,omitempty"`
	// Read is how the run reads before it writes: "get" (an undo file
	// records what it changes) or "none" (--no-read); "" for validate and
	// plan. Undo is that undo file, and UndoState "open" while its journal
	// holds the run's entries, "empty" when an invocation ended with none
	// and removed it. A resume keeps all three (a difference is refused);
	// a retry adds its entries to the same undo file.
	Read      string `json:"read,omitempty"`
	Undo      string `json:"undo,omitempty"`
	UndoState string `json:"undo_state,omitempty"`
	// Staging (run only). Canary is the --canary N the report's run
	// started with (0: none): it applied N rows, read them back and
	// stopped for a look before the rest. Verify says it read every
	// mailbox back after its update. Plan is the approved plan report
	// the run applies (run --plan) and PlanSHA256 that report's content:
	// a resume applies the same plan or is refused.
	Canary     int    `json:"canary,omitempty"`
	Verify     bool   `json:"verify,omitempty"`
	Plan       string `json:"plan,omitempty"`
	PlanSHA256 string `json:"plan_sha256,omitempty"`
}

// MetaPath is the sidecar's path for a report.
func MetaPath(report string) string { return report + ".meta.json" }

// WriteMeta writes the sidecar atomically.
func WriteMeta(report string, m Meta) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<empty>", not "\u003cempty\u003e"
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return err
	}
	return WriteFileAtomic(MetaPath(report), b.Bytes(), 0o600)
}

// ReadMeta reads the sidecar of a report.
func ReadMeta(report string) (Meta, error) {
	var m Meta
	b, err := os.ReadFile(MetaPath(report))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", MetaPath(report), err)
	}
	return m, nil
}

// Journal is the report as the run writes it: one record appended per
// finished row, in the order rows finish, flushed and fsynced by group.
// It implements batch.Sink. Finalize rewrites it in row order.
type Journal struct {
	path   string
	f      *os.File
	bw     *bufio.Writer
	enc    *Encoder
	policy SyncPolicy
	dirty  bool
	syncs  int
}

// OpenJournal opens the report at path for appending, creating it with a
// header when it is new or empty. It fails, before anything is sent, when
// the report cannot be written. A torn last record (a crash mid-write) is
// cut off first so the next append starts on a clean line, and temporary
// files left by a rewrite that a crash interrupted are removed (the
// caller holds the report's lock: no other run is writing them).
func OpenJournal(path string, f Format, policy SyncPolicy) (*Journal, error) {
	if policy == "" {
		policy = SyncBatch
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("report %s: directory %s does not exist", path, dir)
		}
		return nil, fmt.Errorf("report %s: %w", path, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("report %s: %s is not a directory", path, dir)
	}
	removeStaleTemps(path)
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	size, err := CutTorn(file)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	if _, err := file.Seek(0, io.SeekEnd); err != nil {
		file.Close()
		return nil, err
	}
	j := &Journal{path: path, f: file, bw: bufio.NewWriterSize(file, 64<<10), policy: policy}
	j.enc, err = NewEncoder(j.bw, f, size == 0)
	if err != nil {
		file.Close()
		return nil, err
	}
	if err := j.bw.Flush(); err != nil {
		file.Close()
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	if created && policy == SyncBatch {
		// The new file's name must survive a power cut too, or every
		// record fsynced into it is lost with it.
		if err := syncDir(dir); err != nil {
			file.Close()
			return nil, fmt.Errorf("report %s: %w", path, err)
		}
	}
	return j, nil
}

// removeStaleTemps removes the temporary files of WriteAtomic for the
// report and its sidecar, left behind when a run was killed mid-rewrite.
func removeStaleTemps(path string) {
	RemoveTemps(path)
	RemoveTemps(MetaPath(path))
}

// RemoveTemps removes the temporary files named as WriteAtomic names
// those of path (".NAME.tmp*" beside it), which a process killed while
// writing path leaves behind. The caller holds path's lock: no other
// process is writing them.
func RemoveTemps(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globEscape(filepath.Base(path))+".tmp*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CutTorn truncates a file after its last newline (a line cut by a crash
// was never acknowledged) and returns the new size.
func CutTorn(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if size == 0 {
		return 0, nil
	}
	const chunk = 4096
	buf := make([]byte, chunk)
	end := size
	for end > 0 {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				keep := start + int64(i) + 1
				if keep != size {
					if err := f.Truncate(keep); err != nil {
						return 0, err
					}
				}
				return keep, nil
			}
		}
		end = start
	}
	// No newline at all: not even a whole header. Start afresh.
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	return 0, nil
}

// Write appends a result (buffered until Flush).
func (j *Journal) Write(r batch.Result) error {
	j.dirty = true
	if err := j.enc.Encode(FromResult(r)); err != nil {
		return j.fail("write", err)
	}
	return nil
}

// Flush writes buffered records to the file and, per policy, fsyncs it.
// It also fails when the report's path no longer leads to the file being
// written (its directory or the file was removed or replaced): writes to
// an unlinked file succeed, and the report would be lost at the end.
func (j *Journal) Flush() error {
	if !j.dirty {
		return j.linked()
	}
	if err := j.enc.Flush(); err != nil {
		return j.fail("write", err)
	}
	if err := j.bw.Flush(); err != nil {
		return j.fail("write", err)
	}
	if j.policy == SyncBatch {
		if err := j.f.Sync(); err != nil {
			return j.fail("fsync", err)
		}
		j.syncs++
	}
	if err := j.linked(); err != nil {
		return err
	}
	j.dirty = false
	return nil
}

// fail names the report once: an *fs.PathError would repeat its path.
func (j *Journal) fail(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("report %s: %s: %w", j.path, op, err)
}

// linked checks that the report's path still names the open file.
func (j *Journal) linked() error {
	open, err := j.f.Stat()
	if err != nil {
		return j.fail("stat", err)
	}
	named, err := os.Stat(j.path)
	if err != nil || !os.SameFile(open, named) {
		return fmt.Errorf("report %s: removed or replaced while the run was writing it", j.path)
	}
	return nil
}

// Syncs counts fsyncs so far.
func (j *Journal) Syncs() int { return j.syncs }

// Close flushes and closes the journal.
func (j *Journal) Close() error {
	err := j.Flush()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteFileAtomic writes data to path atomically, as a file of mode perm.
// Unlike os.WriteFile, the umask is not applied: the mode is set on the
// temporary file before it takes path's name.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic writes path through fill: a temporary file in the same
// directory, chmod to perm, fsync, rename, fsync of the directory. The
// rename replaces a link at path rather than writing through it.
func WriteAtomic(path string, perm os.FileMode, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	sw := &syncingWriter{f: tmp}
	bw := bufio.NewWriterSize(sw, 64<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if werr := sw.wait(); err == nil {
		err = werr
	}
	if err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncingWriter writes a file and, every syncEvery bytes, fsyncs it on
// a goroutine while writing goes on: the disk writes a large final
// report while it is being copied, and the fsync before its rename,
// which a run waits for after its last request, has little left to do.
type syncingWriter struct {
	f        *os.File
	unsynced int64
	done     chan error // the fsync in flight, nil when none
	err      error
}

const syncEvery = 16 << 20

func (w *syncingWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.unsynced += int64(n)
	if err == nil && w.unsynced >= syncEvery {
		if err = w.wait(); err == nil {
			w.unsynced = 0
			w.done = make(chan error, 1)
			go func(done chan<- error) { done <- w.f.Sync() }(w.done)
		}
	}
	return n, err
}

// wait waits for the fsync in flight and returns the first error of one.
func (w *syncingWriter) wait() error {
	if w.done != nil {
		if err := <-w.done; w.err == nil {
			w.err = err
		}
		w.done = nil
	}
	return w.err
}

// syncDir fsyncs a directory, making the names created or renamed in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteRecord appends a record carried over from another report (rows a
// retry does not redo keep their earlier outcome).
func (j *Journal) WriteRecord(r Record) error {
	j.dirty = true
	return j.enc.Encode(r)
}

// WriteEncoded appends records already encoded in the journal's format,
// one a line, as they are (the records a retry carries over, spooled
// before the journal was opened).
func (j *Journal) WriteEncoded(r io.Reader) error {
	j.dirty = true
	if err := j.enc.Flush(); err != nil {
		return j.fail("write", err)
	}
	if _, err := io.Copy(j.bw, r); err != nil {
		return j.fail("write", err)
	}
	return nil
}
