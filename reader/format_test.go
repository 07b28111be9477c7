package reader

import (
	"strings"
	"testing"
)

// A workbook or a tab-separated file named by its extension gets its
// own advice at once, not the generic "pass --format" that only leads to
// the next refusal.
func TestDetectFormatAdvice(t *testing.T) {
	for _, tt := range []struct {
		path string
		want string
	}{
		{"changes.xlsx", "export it as CSV UTF-8"},
		{"CHANGES.XLS", "export it as CSV UTF-8"},
		{"changes.ods", "export it as CSV UTF-8"},
		{"changes.tsv", `--format csv --delimiter '\t'`},
		{"changes.tab", `--format csv --delimiter '\t'`},
		{"changes.txt", "pass --format csv or --format jsonl"},
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
