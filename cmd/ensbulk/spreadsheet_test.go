package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// excelSave is a CSV report as a spreadsheet saves it after opening it:
// every cell read as General (digits become numbers, shown without
// leading zeros, in scientific notation beyond 11 digits), written back
// with delim, quoted only where needed (or, with quoteAll, every text
// cell), CRLF line ends, a UTF-8 byte order mark, and the rows of empty
// cells and blank lines a sheet leaves after its data.
func excelSave(t *testing.T, report string, delim rune, quoteAll bool) string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(report)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("\ufeff")
	for _, row := range rows {
		for i, v := range row {
			if i > 0 {
				b.WriteRune(delim)
			}
			if v != "" && strings.Trim(v, "0123456789") == "" {
				n, _ := strconv.ParseFloat(v, 64)
				v = strconv.FormatFloat(n, 'f', -1, 64)
				if len(v) > 11 {
					m, e, _ := strings.Cut(strconv.FormatFloat(n, 'E', 5, 64), "E")
					v = strings.TrimSuffix(strings.TrimRight(m, "0"), ".") + "E" + e
				}
			}
			_, numErr := strconv.ParseFloat(v, 64)
			if quoteAll && numErr != nil || strings.ContainsAny(v, string(delim)+"\"\r\n") {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			b.WriteString(v)
		}
		b.WriteString("\r\n")
	}
	b.WriteString(strings.Repeat(string(delim), len(rows[0])-1) + "\r\n\r\n")
	return b.String()
}

// A report opened in a spreadsheet and saved back, as Excel's "CSV
// UTF-8" or with the semicolons of a comma-decimal locale, either over
// itself or under a new name (no sidecar), still works through the
// binary: summary prints what it printed for the original, and
// --retry-failed reruns exactly the six rows that were not ok.
func TestSpreadsheetSavedReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		delim    rune
		quoteAll bool
		over     bool // saved over the report, next to its sidecar
	}{
		{"csv utf-8 over itself", ',', false, true},
		{"semicolons as a new file", ';', false, false},
		{"semicolons, text quoted", ';', true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 1})
			env := simEnv(sim)
			in := sample(t, "changes.csv")
			rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
			if res := runBinary(t, env, "run", in, "--no-read", "--rate", "0"); res.code != exitRows {
				t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
			}
			before := runBinary(t, env, "summary", rep)
			if before.code != exitOK {
				t.Fatalf("summary of the report: exit %d\n%s", before.code, before.stderr)
			}
			saved := rep
			if !tc.over {
				saved = filepath.Join(filepath.Dir(rep), "changes.report (edited).csv")
			}
			text := excelSave(t, string(readFile(t, rep)), tc.delim, tc.quoteAll)
			if err := os.WriteFile(saved, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			after := runBinary(t, env, "summary", saved)
			if after.code != exitOK {
				t.Fatalf("summary of the saved report: exit %d\n%s", after.code, after.stderr)
			}
			if tc.over && after.stdout != before.stdout {
				t.Errorf("summary of the saved report:\n%s\nwant as before:\n%s", after.stdout, before.stdout)
			}
			if got, want := firstLines(after.stdout, 10), strings.ReplaceAll(firstLines(before.stdout, 10), rep, saved); !tc.over && got != want {
				t.Errorf("summary of the saved copy:\n%s\nwant the counts of the original:\n%s", got, want)
			}

			fixSample(t, in)
			from := len(sim.Audit())
			// A saved copy has no sidecar: nothing in it says which
			// switch it was made against, so the retry says so and
			// takes the operator's word for it (--force).
			args := []string{"run", in, "--no-read", "--retry-failed", saved, "--rate", "0"}
			if !tc.over {
				if res := runBinary(t, env, args...); res.code != exitUsage {
					t.Fatalf("retry of a saved copy without --force: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
				}
				args = append(args, "--force")
			}
			res := runBinary(t, env, args...)
			if res.code != exitOK {
				t.Fatalf("retry of the saved report: exit %d, want 0\n%s", res.code, res.stderr)
			}
			if got, want := strings.Join(appliedBoxes(sim, from), " "), "100/1013 100/1015 100/1017 100/1043 101/1006 101/1042"; got != want {
				t.Errorf("retry applied %s, want %s", got, want)
			}
			retry := strings.TrimSuffix(in, ".csv") + ".retry1.report.csv"
			for n, r := range latest(t, retry) {
				if r.Status != "ok" {
					t.Errorf("row %d is %s in the retry's report: %s", n, r.Status, r.Message)
				}
			}
		})
	}
}

// A long mailbox number a spreadsheet turned into 4.41235E+11 cannot be
// matched to the input any more: the retry refuses, naming the cell and
// the way to open the report, and sends nothing.
func TestSpreadsheetMangledMailboxRefused(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	rep := filepath.Join(dir, "long.report.csv")
	text := excelSave(t, strings.Join([]string{
		"row,mailbox,customer,status,phase,code,key,message,attempts,duration_ms,fields,line,hash,changes,time",
		"1,441234567890,100,failed,apply,404,,Mailbox not found,1,3,description,2,0123abcd,,2025-03-04T05:06:07.000Z",
	}, "\n")+"\n", ';', false)
	if err := os.WriteFile(rep, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	in := writeFile(t, "long.csv", "mailbox,customer,description\n441234567890,100,Front\n")
	res := runBinary(t, simEnv(sim), "run", in, "--retry-failed", rep, "--rate", "0", "--force")
	if res.code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	if want := `mailbox "4.41235E+11" is a number as a spreadsheet shows it`; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
	}
	if n := rowRequests(sim.Stats()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// The report's extension decides its format; a --report-format that
// contradicts it is a usage error before anything is sent or written.
func TestReportExtensionDecidesFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		report     string
		args       []string
		code       int
		firstByte  byte // of the report; 0: no report written
		wantStderr string
	}{
		{"jsonl extension", "x.report.jsonl", nil, exitRows, '{', ""},
		{"ndjson extension", "x.NDJSON", nil, exitRows, '{', ""},
		{"csv extension", "x.report.csv", nil, exitRows, 'r', ""},
		{"agreeing flag", "x.report.jsonl", []string{"--report-format", "jsonl"}, exitRows, '{', ""},
		{"other extension takes the flag", "x.out", []string{"--report-format", "jsonl"}, exitRows, '{', ""},
		{"other extension defaults to csv", "x.out", nil, exitRows, 'r', ""},
		{"csv name, jsonl flag", "x.report.csv", []string{"--report-format", "jsonl"}, exitUsage, 0, "--report " + "%s names a csv report but --report-format is jsonl"},
		{"jsonl name, csv flag", "x.report.jsonl", []string{"--report-format", "csv"}, exitUsage, 0, "--report " + "%s names a jsonl report but --report-format is csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, simulator.Config{Seed: 1})
			in := writeFile(t, "two.csv", twoRows)
			rep := filepath.Join(filepath.Dir(in), tc.report)
			args := append([]string{"run", in, "--report", rep, "--rate", "0"}, tc.args...)
			res := runCLI(t, context.Background(), simEnv(sim), args...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.code, res.stderr)
			}
			b, err := os.ReadFile(rep)
			if tc.firstByte == 0 {
				if err == nil {
					t.Errorf("report %s written by a refused run", rep)
				}
				if n := rowRequests(sim.Stats()); n != 0 {
					t.Errorf("%d requests sent, want none", n)
				}
				if want := strings.Replace(tc.wantStderr, "%s", rep, 1); !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b) == 0 || b[0] != tc.firstByte {
				t.Errorf("report starts %q, want %q", firstLines(string(b), 1), tc.firstByte)
			}
			if sum := runCLI(t, context.Background(), nil, "summary", rep); sum.code != exitOK || !strings.Contains(sum.stdout, "2 rows") {
				t.Errorf("summary: exit %d\n%s%s", sum.code, sum.stdout, sum.stderr)
			}
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}

// A run stopped by a budget whose report was opened and saved with
// semicolons resumes: ensbulk appends its own comma records after the
// spreadsheet's lines, and the finished report has one line per row.
func TestSpreadsheetSavedReportResumes(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	env := simEnv(sim)
	in := sample(t, "changes.csv")
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if res := runBinary(t, env, "run", in, "--no-read", "--rate", "0", "--max-rows", "20"); res.code != exitStopped {
		t.Fatalf("first run: exit %d, want %d\n%s", res.code, exitStopped, res.stderr)
	}
	if err := os.WriteFile(rep, []byte(excelSave(t, string(readFile(t, rep)), ';', false)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runBinary(t, env, "run", in, "--no-read", "--rate", "0", "--resume")
	if res.code != exitRows {
		t.Fatalf("resume: exit %d, want %d\n%s", res.code, exitRows, res.stderr)
	}
	if n := countRecords(t, rep); n != 58 {
		t.Errorf("finished report has %d records, want 58", n)
	}
	if b := readFile(t, rep); !strings.HasPrefix(string(b), "row,mailbox,") {
		t.Errorf("finished report starts %q, want ensbulk's own header", firstLines(string(b), 1))
	}
}
