package job

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// sidecar is the sidecar of a CSV run of in.csv.
func sidecar() report.Meta {
	return report.Meta{Version: 1, Input: "in.csv", InputSHA256: strings.Repeat("a", 64), InputFormat: "csv",
		EmptyToken: "<empty>", Delimiter: ",", Mode: "run", Format: report.CSV}
}

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
			if got := RetryCommand(tt.report, tt.meta); got != tt.wantRetry {
				t.Errorf("RetryCommand: got %q, want %q", got, tt.wantRetry)
			}
			if got := ResumeCommand("run", tt.report, tt.meta); got != tt.wantResume {
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
		if got := ResumeCommand("validate", tt.report, m); got != tt.want {
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
			if got := RetryAdvice("in.report.csv", m, tt.haveMeta, 3); got != tt.want {
				t.Errorf("RetryAdvice: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRowsWords(t *testing.T) {
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
			first := tt.rows[:min(len(tt.rows), resume.RowsShown+1)] // what a resume.Rows holds
			if got := rowsWords(resume.Rows{First: first, Total: len(tt.rows)}); got != tt.want {
				t.Errorf("rowsWords(%v): got %q, want %q", tt.rows, got, tt.want)
			}
		})
	}
}

// TestRefusalWords holds what package resume's refusals say: each names
// the report and what to pass instead. Package resume's tests hold which
// refusal each situation gets.
func TestRefusalWords(t *testing.T) {
	sha := func(c string) string { return strings.Repeat(c, 64) }
	run, validate, jsonl := sidecar(), sidecar(), sidecar()
	validate.Mode = "validate"
	jsonl.Format = report.JSONL
	sw := report.Meta{Switch: "sw", User: "u"}
	other := report.Meta{Switch: "other", User: "u"}
	one := func(n int) resume.Rows { return resume.Rows{First: []int{n}, Total: 1} }
	tests := []struct {
		name string
		r    resume.Refusal
		want []string // parts of the words
	}{
		{"exists", resume.Refusal{Reason: resume.ReportExists, Path: "r.csv"}, []string{"report r.csv already exists", "pass --resume"}},
		{"exists without sidecar", resume.Refusal{Reason: resume.NotAReport, Path: "r.csv"}, []string{"not a report of ensbulk"}},
		{"resume without sidecar", resume.Refusal{Reason: resume.SidecarMissing, Op: resume.OpResume, Path: "r.csv"}, []string{"its sidecar", "sidecar r.csv.meta.json is missing"}},
		{"resume, unreadable sidecar", resume.Refusal{Reason: resume.SidecarUnreadable, Op: resume.OpResume, Path: "r.csv", Err: errors.New("bad json")}, []string{"is unreadable (bad json)"}},
		{"resume, other switch", resume.Refusal{Reason: resume.OtherSwitch, Op: resume.OpResume, Path: "r.csv", Then: other, Now: sw}, []string{"cannot resume: report r.csv belongs to switch other"}},
		{"resume, other mode", resume.Refusal{Reason: resume.OtherMode, Op: resume.OpResume, Path: "r.csv", Then: validate, Now: run}, []string{`it is the report of a "validate" run, not "run"`}},
		{"resume, other format", resume.Refusal{Reason: resume.OtherFormat, Op: resume.OpResume, Path: "r.csv", Then: jsonl, Now: run}, []string{"it is a jsonl report; pass --report-format jsonl"}},
		{"resume, changed", resume.Refusal{Reason: resume.InputChanged, Op: resume.OpResume, Path: "r.csv", Changes: []resume.Change{
			{Kind: resume.ContentChanged, Then: sha("a"), Now: sha("b")}, {Kind: resume.RowsChanged, Rows: one(3)}}},
			[]string{"cannot resume", "input changed since", "the input file's content (sha256 aaaaaaaaaaaa… then, bbbbbbbbbbbb… now)", "row 3 now differs from its record in the report", "pass --force"}},
		{"resume, rows lost", resume.Refusal{Reason: resume.InputChanged, Op: resume.OpResume, Path: "r.csv", Changes: []resume.Change{{Kind: resume.RowsGone, Rows: one(5)}}},
			[]string{"row 5 of the report is no longer in the input"}},
		{"retry, other switch", resume.Refusal{Reason: resume.OtherSwitch, Op: resume.OpRetry, Path: "old.csv", Then: other, Now: sw}, []string{"--retry-failed: report old.csv belongs to switch other"}},
		{"retry, unreadable sidecar", resume.Refusal{Reason: resume.SidecarUnreadable, Op: resume.OpRetry, Path: "old.csv", Now: sw, Err: errors.New("gone")}, []string{"pass --force if it was made against sw"}},
		{"retry, renamed row", resume.Refusal{Reason: resume.RetryMismatch, Op: resume.OpRetry, Path: "old.csv", Row: 1, Box: resume.Box{Mailbox: "z"}, ReportBox: resume.Box{Mailbox: "a"}},
			[]string{`row 1 is mailbox "z" in the input but "a" in the report`, "were rows added, removed or reordered?"}},
		{"retry, rows lost", resume.Refusal{Reason: resume.RetryGone, Op: resume.OpRetry, Path: "old.csv", Rows: resume.Rows{First: []int{5, 6}, Total: 2}}, []string{"rows 5 and 6 of the report are not in the input"}},
		{"retry of itself", resume.Refusal{Reason: resume.RetryOfItself, Op: resume.OpRetry, Path: "old.csv", Retried: "old.csv"}, []string{"is the report being retried"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := refusalWords(&tt.r)
			for _, part := range tt.want {
				if !strings.Contains(got, part) {
					t.Errorf("refusal %q: want it to contain %q", got, part)
				}
			}
		})
	}
}

func TestChangeWords(t *testing.T) {
	tests := []struct {
		c    resume.Change
		want string
	}{
		{resume.Change{Kind: resume.DelimiterChanged, Then: ",", Now: ";"}, `--delimiter ("," then, ";" now)`},
		{resume.Change{Kind: resume.EmptyTokenChanged, Then: "<empty>", Now: "-"}, `--empty-token ("<empty>" then, "-" now)`},
		{resume.Change{Kind: resume.FormatChanged, Then: "csv", Now: "jsonl"}, "--format (csv then, jsonl now)"},
	}
	for _, tt := range tests {
		if got := changeWords(tt.c); got != tt.want {
			t.Errorf("changeWords(%+v): got %q, want %q", tt.c, got, tt.want)
		}
	}
}

// sayResume keeps what the refusal wraps, and the kind the command maps
// to an exit code.
func TestSayResume(t *testing.T) {
	broken := errors.New("line 4: bare quote")
	tests := []struct {
		name     string
		err      error
		want     string
		wantKind Kind
	}{
		{"a row that cannot be read", &resume.Refusal{Reason: resume.RowUnreadable, Err: broken}, "line 4: bare quote (nothing was sent)", Usage},
		{"report exists", &resume.Refusal{Reason: resume.ReportExists, Path: "r.csv"}, "report r.csv already exists: pass --resume to continue that run, or --report PATH to start a new report", ReportExists},
		{"not a report", &resume.Refusal{Reason: resume.NotAReport, Path: "r.csv"}, "r.csv already exists and is not a report of ensbulk (it has no sidecar r.csv.meta.json): it was left as it is; pass --report PATH to name a new report", ReportExists},
		{"keep", &resume.PruneError{Err: broken}, "--keep: line 4: bare quote", Internal},
		{"anything else", broken, "line 4: bare quote", Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sayResume(tt.err)
			if err.Error() != tt.want || KindOf(err) != tt.wantKind {
				t.Errorf("sayResume: got %q (%v), want %q (%v)", err, KindOf(err), tt.want, tt.wantKind)
			}
			if !errors.Is(err, broken) && tt.wantKind != ReportExists {
				t.Errorf("sayResume: %v does not wrap the cause", err)
			}
		})
	}
}

// Every reason resume can give has words here: a new one must not reach
// an operator as the library's bare name.
func TestEveryRefusalHasWords(t *testing.T) {
	for r := resume.ReportExists; r <= resume.ReplaceFailed; r++ {
		if _, ok := refusals[r]; !ok {
			t.Errorf("reason %d (%s) has no words in refusals", int(r), r)
		}
	}
	if s := resume.ReplaceFailed + 1; s.String() != fmt.Sprintf("reason %d", int(s)) {
		t.Errorf("a reason after ReplaceFailed exists (%s): extend this test's range", s)
	}
}
