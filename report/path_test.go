package report

import "testing"

// Default report names: validate and run never share one, nor do inputs
// that differ only by their extension.
func TestDefaultPathFor(t *testing.T) {
	tests := []struct {
		input, mode string
		f           Format
		want        string
	}{
		{"changes.csv", "run", CSV, "changes.report.csv"},
		{"changes.csv", "", CSV, "changes.report.csv"},
		{"changes.csv", "validate", CSV, "changes.validate.report.csv"},
		{"changes.CSV", "run", JSONL, "changes.report.jsonl"},
		{"good.jsonl", "run", CSV, "good.jsonl.report.csv"},
		{"good.ndjson", "validate", CSV, "good.ndjson.validate.report.csv"},
		{"dir.v2/export.txt", "run", CSV, "dir.v2/export.txt.report.csv"},
		{"-", "run", CSV, "stdin.report.csv"},
		{"changes.csv", "plan", CSV, "changes.plan.csv"},
		{"good.jsonl", "plan", JSONL, "good.jsonl.plan.jsonl"},
	}
	for _, tt := range tests {
		if got := DefaultPathFor(tt.input, tt.mode, tt.f); got != tt.want {
			t.Errorf("DefaultPathFor(%q, %q, %s) = %q, want %q", tt.input, tt.mode, tt.f, got, tt.want)
		}
	}
	if got := RetryPath("good.jsonl", 2, CSV); got != "good.jsonl.retry2.report.csv" {
		t.Errorf("RetryPath = %q", got)
	}
	if DefaultPath("good.csv", CSV) == DefaultPath("good.jsonl", CSV) {
		t.Error("good.csv and good.jsonl share a report")
	}
}
