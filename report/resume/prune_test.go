package resume

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/ensbulk/ensbulk/report"
)

// --keep N keeps the N newest reports set aside, each with its sidecar and
// undo files, and touches nothing that is not a set-aside report of ours.
func TestPruneKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nightly.report.csv")
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stamps := []string{"20260101T010000Z", "20260102T010000Z", "20260102T010000Z-2", "20260102T010000Z-10", "20260103T010000Z"}
	for _, s := range stamps {
		rep := filepath.Join(dir, "nightly.report."+s+".csv")
		undo := filepath.Join(dir, "nightly.report."+s+".undo.jsonl")
		write(filepath.Base(rep))
		write(filepath.Base(undo))
		write(filepath.Base(undo) + ".journal")
		if err := report.WriteMeta(rep, report.Meta{Version: 1, Undo: undo}); err != nil {
			t.Fatal(err)
		}
	}
	write("nightly.report.notes.csv")            // not a stamp
	write("nightly.report.20260104T010000Z.csv") // a stamp without a sidecar: not ours
	write("nightly.report.csv")
	removed, err := prune(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range removed {
		got = append(got, filepath.Base(r))
	}
	slices.Sort(got)
	want := []string{"nightly.report.20260101T010000Z.csv", "nightly.report.20260102T010000Z-2.csv", "nightly.report.20260102T010000Z.csv"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("removed %v, want %v (keep the 2 newest: 20260103 and 20260102-10)", got, want)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	var names []string
	for _, l := range left {
		names = append(names, filepath.Base(l))
	}
	for _, keep := range []string{"nightly.report.csv", "nightly.report.notes.csv", "nightly.report.20260104T010000Z.csv",
		"nightly.report.20260103T010000Z.csv", "nightly.report.20260103T010000Z.undo.jsonl", "nightly.report.20260103T010000Z.csv.meta.json",
		"nightly.report.20260102T010000Z-10.csv", "nightly.report.20260102T010000Z-10.undo.jsonl.journal"} {
		if !slices.Contains(names, keep) {
			t.Errorf("%s was removed", keep)
		}
	}
	for _, gone := range []string{"nightly.report.20260101T010000Z.undo.jsonl", "nightly.report.20260101T010000Z.undo.jsonl.journal", "nightly.report.20260101T010000Z.csv.meta.json"} {
		if slices.Contains(names, gone) {
			t.Errorf("%s was kept", gone)
		}
	}
}
