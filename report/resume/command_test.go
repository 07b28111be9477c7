package resume

import (
	"testing"

	"github.com/ensbulk/ensbulk/report"
)

func TestCommands(t *testing.T) {
	semicolon := sidecar()
	semicolon.Delimiter, semicolon.EmptyToken = ";", "-"
	tab := sidecar()
	tab.Delimiter = "tab"
	jsonl := sidecar()
	jsonl.Input, jsonl.InputFormat, jsonl.Delimiter = "in.jsonl", "jsonl", ";"
	byFlag := sidecar()
	byFlag.Input = "export.txt"
	jsonReport := sidecar()
	jsonReport.Format = report.JSONL
	spaced := sidecar()
	spaced.Input = "my changes.csv"
	tests := []struct {
		name       string
		report     string
		meta       report.Meta
		wantRetry  string
		wantResume string
	}{
		{"defaults", "in.report.csv", sidecar(),
			"ensbulk run in.csv --retry-failed in.report.csv", "ensbulk run in.csv --resume"},
		{"csv options", "in.report.csv", semicolon,
			"ensbulk run in.csv --delimiter ';' --empty-token - --retry-failed in.report.csv", "ensbulk run in.csv --delimiter ';' --empty-token - --resume"},
		{"tab", "in.report.csv", tab,
			"ensbulk run in.csv --delimiter tab --retry-failed in.report.csv", "ensbulk run in.csv --delimiter tab --resume"},
		{"csv options do not matter to jsonl", "in.jsonl.report.csv", jsonl,
			"ensbulk run in.jsonl --retry-failed in.jsonl.report.csv", "ensbulk run in.jsonl --resume"},
		{"format the name does not imply", "export.txt.report.csv", byFlag,
			"ensbulk run export.txt --format csv --retry-failed export.txt.report.csv", "ensbulk run export.txt --format csv --resume"},
		{"the csv's report is not the jsonl's", "in.report.csv", jsonl,
			"ensbulk run in.jsonl --retry-failed in.report.csv", "ensbulk run in.jsonl --resume --report in.report.csv"},
		{"jsonl report", "in.report.jsonl", jsonReport,
			"ensbulk run in.csv --report-format jsonl --retry-failed in.report.jsonl", "ensbulk run in.csv --report-format jsonl --resume"},
		{"a retry's report is named", "in.retry1.report.csv", sidecar(),
			"ensbulk run in.csv --retry-failed in.retry1.report.csv", "ensbulk run in.csv --resume --report in.retry1.report.csv"},
		{"quoted for a shell", "it's.csv", spaced,
			`ensbulk run 'my changes.csv' --retry-failed 'it'\''s.csv'`, `ensbulk run 'my changes.csv' --resume --report 'it'\''s.csv'`},
		{"no sidecar", "in.report.csv", report.Meta{},
			"ensbulk run INPUT --retry-failed in.report.csv", "ensbulk run INPUT --resume --report in.report.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RetryCommand(tt.report, tt.meta, testDialect); got != tt.wantRetry {
				t.Errorf("RetryCommand: got %q, want %q", got, tt.wantRetry)
			}
			if got := ResumeCommand("run", tt.report, tt.meta, testDialect); got != tt.wantResume {
				t.Errorf("ResumeCommand: got %q, want %q", got, tt.wantResume)
			}
		})
	}
}

// A validate's report is its own default (changes.validate.report.csv),
// not the run's.
func TestResumeCommandOfValidate(t *testing.T) {
	m := sidecar()
	m.Mode = "validate"
	for _, tt := range []struct{ report, want string }{
		{"in.validate.report.csv", "ensbulk validate in.csv --resume"},
		{"in.report.csv", "ensbulk validate in.csv --resume --report in.report.csv"},
	} {
		if got := ResumeCommand("validate", tt.report, m, testDialect); got != tt.want {
			t.Errorf("ResumeCommand(%s): got %q, want %q", tt.report, got, tt.want)
		}
	}
}

func TestRetryAdvice(t *testing.T) {
	tests := []struct {
		name     string
		haveMeta bool
		want     string
	}{
		{"with sidecar", true, "to rerun the 3 rows that are not ok (after fixing them):\n  ensbulk run in.csv --delimiter ';' --retry-failed in.report.csv\n"},
		{"sidecar unreadable", false, "to rerun the 3 rows that are not ok (after fixing them):\n  ensbulk run INPUT --retry-failed in.report.csv\n"},
	}
	m := sidecar()
	m.Delimiter = ";"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RetryAdvice("in.report.csv", m, tt.haveMeta, 3, testDialect); got != tt.want {
				t.Errorf("RetryAdvice: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRowList(t *testing.T) {
	tests := []struct {
		name string
		rows []int
		want string
	}{
		{"one", []int{7}, "row 7"},
		{"two", []int{3, 9}, "rows 3 and 9"},
		{"three", []int{3, 9, 12}, "rows 3, 9 and 12"},
		{"six are all named", []int{1, 2, 3, 4, 5, 6}, "rows 1, 2, 3, 4, 5 and 6"},
		{"seven are cut", []int{1, 2, 3, 4, 5, 6, 7}, "rows 1, 2, 3, 4, 5 and 2 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rowList(tt.rows, len(tt.rows)); got != tt.want {
				t.Errorf("rowList(%v): got %q, want %q", tt.rows, got, tt.want)
			}
		})
	}
}
