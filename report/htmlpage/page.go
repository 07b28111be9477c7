// Package htmlpage writes the HTML page of a report (`ensbulk summary
// REPORT --html PAGE`): one self-contained file, for a run, a validation
// or a plan, that opens with no network and prints. It shows who and
// what the report is about, the counts by status, a timeline of rows per
// second and of latency, the most frequent old -> new pairs per column,
// rows per customer, failures grouped, and for a plan what would change
// per mailbox.
//
// The report is read once, a record at a time, into a Stats whose memory
// is bounded by its Limits and not by the rows: every table is a top-N
// that says how much it leaves out, and the timeline's buckets widen
// instead of growing in number. The page is therefore bounded too.
package htmlpage

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ensbulk/ensbulk/report"
)

// FromReport aggregates the latest record of every row of the report at
// path (a final report or a journal a run was writing).
func FromReport(path string, lim Limits) (*Stats, error) {
	lr, err := report.OpenLatest(path)
	if err != nil {
		return nil, err
	}
	defer lr.Close()
	s := NewStats(lim)
	for rec, err := range lr.All() {
		if err != nil {
			return nil, err
		}
		s.Add(rec)
	}
	return s, nil
}

// FromReader aggregates every record of a report read from r, in either
// format. It takes each record as its row's latest: it is for a final
// report (one record per row), read as a stream of any length; a
// journal's superseded records would be counted too (FromReport reads
// one right).
func FromReader(r io.Reader, name string, lim Limits) (*Stats, error) {
	s := NewStats(lim)
	for rec, err := range report.NewDecoder(r, name).Records() {
		if errors.Is(err, report.ErrTorn) {
			break // never acknowledged as written
		}
		if err != nil {
			return nil, err
		}
		s.Add(rec)
	}
	return s, nil
}

// Render writes the page of s to w.
func Render(w io.Writer, s *Stats, info Info) error {
	t, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("page template: %w", err)
	}
	return t.Execute(w, s.build(info))
}

// Options are what Write needs: the report, the page to write, the
// commands the page offers (spelled by the caller), and the limits.
type Options struct {
	Report string
	Page   string
	// Resume continues the report's run; Retry reruns its rows that are
	// not ok (see Info).
	Resume, Retry string
	Limits        Limits // zero: DefaultLimits
}

// Result is what Write wrote.
type Result struct {
	Rows  int
	Bytes int
}

// Write reads the report and its sidecar and writes the page atomically
// (a temporary file renamed over Page). It refuses a page that is a
// symbolic link, or is the report or its sidecar: the page replaces the
// file at its name, and must never replace another through a link.
func Write(o Options) (Result, error) {
	if err := checkPage(o.Page, o.Report); err != nil {
		return Result{}, err
	}
	s, err := FromReport(o.Report, o.Limits)
	if err != nil {
		return Result{}, err
	}
	m, merr := report.ReadMeta(o.Report)
	info := Info{Report: o.Report, Meta: m, HaveMeta: merr == nil, Resume: o.Resume, Retry: o.Retry}
	var b bytes.Buffer
	if err := Render(&b, s, info); err != nil {
		return Result{}, err
	}
	// Checked again just before the rename: the page's name may have
	// become a link while the report was read.
	if err := checkPage(o.Page, o.Report); err != nil {
		return Result{}, err
	}
	// 0644: the page holds no PIN and no credential, and is made to be
	// shared.
	if err := report.WriteFileAtomic(o.Page, b.Bytes(), 0o644); err != nil {
		return Result{}, fmt.Errorf("page %s: %w", o.Page, err)
	}
	return Result{Rows: s.Rows, Bytes: b.Len()}, nil
}

// checkPage refuses a page path that is a symbolic link, is not a
// regular file, or names the report or its sidecar.
func checkPage(page, rep string) error {
	if page == "" {
		return errors.New("no page path")
	}
	st, err := os.Lstat(page)
	if errors.Is(err, fs.ErrNotExist) {
		if dir := filepath.Dir(page); dir != "" {
			if _, err := os.Stat(dir); err != nil {
				return fmt.Errorf("page %s: %w", page, err)
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("page %s: %w", page, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("page %s is a symbolic link: not written through it (name a regular file)", page)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("page %s is not a regular file", page)
	}
	for _, other := range []string{rep, report.MetaPath(rep)} {
		if ost, err := os.Stat(other); err == nil && os.SameFile(st, ost) {
			return fmt.Errorf("page %s is %s: the page would replace it", page, other)
		}
	}
	return nil
}
