package resume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/report"
)

// rotate sets aside the report of a finished run whose input has changed
// since, so that the run starts a new report: a nightly job that finds a
// new file under the same name each night. The old report and its sidecar
// keep their content under a name dated by the old run's start
// (nightly.report.20260101T020000Z.csv). A run that did not finish is
// never set aside: its rows not yet sent would be dropped in silence.
func (p *Plan) rotate(cfg Config, meta report.Meta, why []Change) error {
	old := cfg.Report
	to := rotatedPath(old, meta, cfg.Companions)
	if err := os.Rename(report.MetaPath(old), report.MetaPath(to)); err != nil {
		return fmt.Errorf("set aside the finished report %s: %w", old, err)
	}
	if err := os.Rename(old, to); err != nil {
		// Put the sidecar back: a report without its sidecar cannot be
		// resumed.
		_ = os.Rename(report.MetaPath(to), report.MetaPath(old))
		return fmt.Errorf("set aside the finished report %s: %w", old, err)
	}
	for _, c := range cfg.Companions {
		if _, err := os.Lstat(c); err != nil {
			continue
		}
		if err := os.Rename(c, companionPath(c, old, to)); err != nil {
			return fmt.Errorf("set aside %s with the finished report %s (now %s): %w", c, old, to, err)
		}
	}
	if meta.Undo != "" {
		// The set-aside report names its own undo file, not the new
		// run's, so that a retry or an undo of it finds the right one.
		meta.Undo = companionPath(meta.Undo, old, to)
		if err := report.WriteMeta(to, meta); err != nil {
			return fmt.Errorf("set aside the finished report %s (now %s): %w", old, to, err)
		}
	}
	*p = Plan{Meta: cfg.Meta}
	p.note(Note{Kind: NoteRotated, Path: old, Finished: meta.Finished, Changes: why, To: to})
	if cfg.Keep > 0 {
		removed, err := prune(old, cfg.Keep)
		if err != nil {
			return &PruneError{Err: err}
		}
		if len(removed) > 0 {
			p.note(Note{Kind: NotePruned, Path: old, Keep: cfg.Keep, Removed: removed})
		}
	}
	return nil
}

// isStamp says whether mid is the dated stamp of a report set aside
// (".20260101T020000Z"), with the number a second rotation within the
// same second adds ("-2").
func isStamp(mid string) bool {
	stamp, num, numbered := strings.Cut(strings.TrimPrefix(mid, "."), "-")
	if !strings.HasPrefix(mid, ".") || numbered && (num == "" || strings.Trim(num, "0123456789") != "") {
		return false
	}
	_, err := time.Parse("20060102T150405Z", stamp)
	return err == nil && len(stamp) == len("20060102T150405Z")
}

// prune removes the reports set aside from path beyond the keep newest
// (by their stamp), each with its sidecar, undo file and undo journal:
// rotation keeps a bounded number of nights. Only names of the rotation's
// own form, with a sidecar, are touched.
func prune(path string, keep int) ([]string, error) {
	ext := filepath.Ext(path)
	dir, base := filepath.Split(strings.TrimSuffix(path, ext))
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil, err
	}
	type aside struct{ path, stamp string }
	var all []aside
	for _, en := range entries {
		name := en.Name()
		mid, ok := strings.CutPrefix(name, base)
		if !ok || !strings.HasSuffix(mid, ext) {
			continue
		}
		mid = strings.TrimSuffix(mid, ext)
		m := filepath.Join(dir, name)
		if !isStamp(mid) {
			continue
		}
		if _, err := os.Lstat(report.MetaPath(m)); err != nil {
			continue // not a report of ours
		}
		all = append(all, aside{m, mid})
	}
	if len(all) <= keep {
		return nil, nil
	}
	// Newest first: the stamp sorts by time, its -N by rotation.
	slices.SortFunc(all, func(a, b aside) int { return -cmpStamp(a.stamp, b.stamp) })
	var removed []string
	for _, a := range all[keep:] {
		var files []string
		if m, err := report.ReadMeta(a.path); err == nil && m.Undo != "" {
			files = append(files, m.Undo, m.Undo+".journal")
		}
		files = append(files, report.MetaPath(a.path), a.path)
		for _, f := range files {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, err
			}
		}
		removed = append(removed, a.path)
	}
	return removed, nil
}

// cmpStamp orders ".20260101T020000Z" before ".20260101T020000Z-2"
// before ".20260101T020000Z-10".
func cmpStamp(a, b string) int {
	sa, na := splitStamp(a)
	sb, nb := splitStamp(b)
	if c := strings.Compare(sa, sb); c != 0 {
		return c
	}
	return na - nb
}

func splitStamp(s string) (string, int) {
	stamp, num, ok := strings.Cut(s, "-")
	n := 1
	if ok {
		fmt.Sscan(num, &n)
	}
	return stamp, n
}

// companionPath is where a file that goes with the report old (its undo
// file) goes when old is set aside as to: the same name with old's stem
// replaced by to's (nightly.report.undo.csv ->
// nightly.report.20260101T020000Z.undo.csv), or, for a file named apart
// from the report, to's date inserted before its extension.
func companionPath(c, old, to string) string {
	if filepath.IsAbs(c) {
		// The undo file is recorded absolute, the report as given.
		if a, err := filepath.Abs(old); err == nil {
			old = a
		}
		if a, err := filepath.Abs(to); err == nil {
			to = a
		}
	}
	oldStem := strings.TrimSuffix(old, filepath.Ext(old))
	toStem := strings.TrimSuffix(to, filepath.Ext(to))
	if rest, ok := strings.CutPrefix(c, oldStem+"."); ok {
		return toStem + "." + rest
	}
	stamp := strings.TrimPrefix(toStem, oldStem)
	ext := filepath.Ext(c)
	return strings.TrimSuffix(c, ext) + stamp + ext
}

// rotatedPath is the first free dated name for a report set aside: free
// for the report, its sidecar and every companion that exists, so that
// two rotations within one second (the stamp's precision) never write
// one over the other.
func rotatedPath(path string, meta report.Meta, companions []string) string {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	stamp := meta.Started.UTC().Format("20060102T150405Z")
	free := func(p string) bool {
		_, err := os.Lstat(p)
		return errors.Is(err, fs.ErrNotExist)
	}
	for i := 1; ; i++ {
		p := fmt.Sprintf("%s.%s%s", base, stamp, ext)
		if i > 1 {
			p = fmt.Sprintf("%s.%s-%d%s", base, stamp, i, ext)
		}
		ok := free(p) && free(report.MetaPath(p))
		for _, c := range companions {
			if free(c) {
				continue // none to set aside
			}
			ok = ok && free(companionPath(c, path, p))
		}
		if ok {
			return p
		}
	}
}
