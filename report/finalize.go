package report

import (
	"errors"
	"io"
)

// Finalize rewrites the report at path in row order, one line per row
// (the latest record of each), atomically: a temporary file, fsync,
// rename, fsync of the directory. Its memory is 5 bytes per row (see
// LatestReader).
func Finalize(path string, f Format) error {
	return rewrite(path, f, nil, nil)
}

// FinalizeCount is Finalize that also counts the final report, so the end
// of a run reads its report once, not twice.
func FinalizeCount(path string, f Format) (*Counts, error) {
	c := newCounter()
	if err := rewrite(path, f, nil, c); err != nil {
		return nil, err
	}
	return c.counts(), nil
}

// Rewrite rewrites the report at path like Finalize, in its own format,
// keeping only the rows for which keep is true (a resume with --force of
// an input that lost rows).
func Rewrite(path string, keep func(Record) bool) error {
	return rewrite(path, "", keep, nil)
}

var newline = []byte{'\n'}

// rewrite writes the kept rows' latest lines in row order, in format f
// ("": the report's own), counting them into c when set. A line already
// in f is copied as it is; only what keep or c must see is decoded.
func rewrite(path string, f Format, keep func(Record) bool, c *counter) error {
	lr, err := OpenLatest(path)
	if err != nil {
		return err
	}
	defer lr.Close()
	if f == "" {
		f = lr.Format()
	}
	if f == "" {
		f = CSV
	}
	return WriteAtomic(path, 0o600, func(w io.Writer) error {
		enc, err := NewEncoder(w, f, true)
		if err != nil {
			return err
		}
		rw := rewriter{lr: lr, w: w, enc: enc, f: f, same: lr.Format() == f, keep: keep, c: c}
		for {
			off, line, err := lr.nextLine()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if err := rw.row(off, line); err != nil {
				return err
			}
		}
		if err := enc.Flush(); err != nil {
			return err
		}
		// Closed before WriteAtomic renames over it: Windows refuses to
		// replace a file that is open (Go opens files without
		// FILE_SHARE_DELETE).
		return lr.Close()
	})
}

// rewriter writes the rows of a rewrite.
type rewriter struct {
	lr   *LatestReader
	w    io.Writer
	enc  *Encoder // for lines not already in f
	f    Format
	same bool // the report is in f: its lines are copied
	keep func(Record) bool
	c    *counter
}

// row writes one row's latest line, at offset off of the report: copied
// when the report is in f, else encoded; decoded only when keep or the
// counter must see the record.
func (rw *rewriter) row(off int64, line []byte) error {
	if rw.keep == nil && rw.same && (rw.c == nil || rw.c.quick(line, rw.f)) {
		return rw.copy(line)
	}
	rec, err := rw.lr.decodeAt(line, off)
	if err != nil {
		return err
	}
	if rw.keep != nil && !rw.keep(rec) {
		return nil
	}
	if rw.c != nil {
		rw.c.add(rec)
	}
	if !rw.same {
		return rw.enc.Encode(rec)
	}
	return rw.copy(line)
}

// copy writes line as it is, with its newline.
func (rw *rewriter) copy(line []byte) error {
	if _, err := rw.w.Write(line); err != nil {
		return err
	}
	_, err := rw.w.Write(newline)
	return err
}
