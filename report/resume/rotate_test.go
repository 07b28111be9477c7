package resume

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/report"
)

func TestCompanionPath(t *testing.T) {
	const old, to = "/d/nightly.report.csv", "/d/nightly.report.20260101T020000Z.csv"
	tests := []struct{ name, c, want string }{
		{"undo file beside the report", "/d/nightly.report.undo.csv", "/d/nightly.report.20260101T020000Z.undo.csv"},
		{"undo journal", "/d/nightly.report.undo.csv.journal", "/d/nightly.report.20260101T020000Z.undo.csv.journal"},
		{"named apart (--undo)", "/var/undo/night.csv", "/var/undo/night.20260101T020000Z.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := companionPath(tt.c, old, to); got != tt.want {
				t.Errorf("companionPath(%q) = %q, want %q", tt.c, got, tt.want)
			}
		})
	}
}

// Two rotations within one second (the stamp's precision) keep both:
// the second takes the next free name, free for its companions too.
func TestRotatedPathSameSecond(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join(dir, "nightly.report.csv")
	undoFile := filepath.Join(dir, "nightly.report.undo.jsonl")
	meta := report.Meta{Started: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)}
	touch := func(p string) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	touch(undoFile)
	first := rotatedPath(rep, meta, []string{undoFile})
	if want := filepath.Join(dir, "nightly.report.20260101T020000Z.csv"); first != want {
		t.Fatalf("first: got %s, want %s", first, want)
	}
	// Only the first rotation's undo file is there under that stamp.
	touch(companionPath(undoFile, rep, first))
	second := rotatedPath(rep, meta, []string{undoFile})
	if want := filepath.Join(dir, "nightly.report.20260101T020000Z-2.csv"); second != want {
		t.Errorf("second: got %s, want %s", second, want)
	}
	// The first rotation's report and sidecar.
	touch(first)
	touch(report.MetaPath(first))
	touch(companionPath(undoFile, rep, second))
	if third := rotatedPath(rep, meta, []string{undoFile}); third != filepath.Join(dir, "nightly.report.20260101T020000Z-3.csv") {
		t.Errorf("third: got %s", third)
	}
}
