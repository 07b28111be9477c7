package reader

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// A workbook or a tab-separated file named by its extension gets its
// own advice at once, not the generic "pass the format" that only leads
// to the next refusal. The reader says settings plainly; a command words
// them as its flags through Hints.
func TestDetectFormatAdvice(t *testing.T) {
	for _, tt := range []struct {
		path string
		want string
	}{
		{"changes.xlsx", "export it as CSV UTF-8"},
		{"CHANGES.XLS", "export it as CSV UTF-8"},
		{"changes.ods", "export it as CSV UTF-8"},
		{"changes.tsv", `pass the format csv the delimiter '\t' (a tab)`},
		{"changes.tab", `pass the format csv the delimiter '\t' (a tab)`},
		{"changes.txt", "pass the format csv or the format jsonl"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			f, err := DetectFormat(tt.path, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DetectFormat(%q) = %q, %v; want an error saying %q", tt.path, f, err, tt.want)
			}
		})
	}
	if f, err := DetectFormat("changes.tsv", "csv"); err != nil || f != CSV {
		t.Errorf("--format csv on a .tsv: %q, %v; want csv", f, err)
	}
}

// Hints word the advice: the command's flags instead of plain words.
func TestDetectFormatHints(t *testing.T) {
	h := Hints{
		Delimiter: func(d rune) string { return fmt.Sprintf("-d %q", d) },
		Format:    func(f Format) string { return "-f " + string(f) },
	}
	for path, want := range map[string]string{
		"changes.tsv": `pass -f csv -d '\t'`,
		"changes.txt": "pass -f csv or -f jsonl",
	} {
		if _, err := DetectFormatWith(path, "", h); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error saying %q", path, err, want)
		}
	}
	_, _, err := Open(filepath.Join(t.TempDir(), "changes.txt"), Options{Hints: h})
	if err == nil || !strings.Contains(err.Error(), "pass -f csv or -f jsonl") {
		t.Errorf("Open: %v; want the hints' words", err)
	}
}
