package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report/resume"
)

func TestExitCodeOf(t *testing.T) {
	t.Parallel()
	fileErrFromReader := &reader.FileError{File: "in.csv", Line: 1, Message: "bad header"}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"rows not ok", errRows, exitRows},
		{"rows not ok, wrapped", fmt.Errorf("validate: %w", errRows), exitRows},
		{"usage", usageErr("--workers %d: want 1 to 1024", 0), exitUsage},
		{"file", fileErr(errors.New("input: no such file")), exitUsage},
		{"reader file error", fileErrFromReader, exitUsage},
		{"reader file error, wrapped", fmt.Errorf("%w (nothing was sent)", fileErrFromReader), exitUsage},
		{"report exists", withKind(errReportExists, errors.New("report r.csv already exists")), exitUsage},
		{"resume refused", &resume.Refusal{Reason: resume.InputChanged, Path: "r.csv"}, exitUsage},
		{"resume: report exists", fmt.Errorf("plan: %w", &resume.Refusal{Reason: resume.ReportExists, Path: "r.csv"}), exitUsage},
		{"lock held", withKind(errLocked, errors.New("PID 7 holds it")), exitLocked},
		{"stopped by a budget", &batch.StopError{Kind: batch.StopBudget, Reason: "--max-rows 5 reached"}, exitStopped},
		{"aborted", &batch.StopError{Kind: batch.StopAborted, Reason: "401"}, exitAborted},
		{"interrupted", &batch.StopError{Kind: batch.StopInterrupted, Reason: "interrupted"}, exitAborted},
		{"interrupted, bare", errInterrupted, exitAborted},
		{"stop, wrapped", fmt.Errorf("run: %w", &batch.StopError{Kind: batch.StopBudget}), exitStopped},
		{"internal", internalErr(errors.New("report: disk full")), exitInternal},
		{"unmarked", errors.New("something of ours"), exitInternal},
		{"outer mark wins over a file error", internalErr(fmt.Errorf("report: %w", fileErrFromReader)), exitInternal},
		{"outer mark wins over a stop", withKind(errUsage, &batch.StopError{Kind: batch.StopAborted}), exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCodeOf(tt.err); got != tt.want {
				t.Errorf("exitCodeOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestEveryKindHasACode(t *testing.T) {
	t.Parallel()
	for _, kind := range job.Kinds() {
		if _, ok := exitCodes[kind]; !ok {
			t.Errorf("kind %q has no exit code", kind)
		}
		if got := kindOf(withKind(kind, errors.New("x"))); got != kind {
			t.Errorf("kindOf(withKind(%q)) = %q", kind, got)
		}
	}
}

// The README's exit-code table (section "Exit codes") against the code's:
// the same codes, and for every kind of failure the README's line for its
// code says what that kind is.
func TestExitCodesMatchReadme(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Exit codes\n")
	if !ok {
		t.Fatal("README has no \"## Exit codes\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	readme := map[int]string{}
	row := regexp.MustCompile(`^\| (\d+) \| (.+) \|$`)
	for _, line := range strings.Split(section, "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			code, _ := strconv.Atoi(m[1])
			readme[code] = m[2]
		}
	}
	code := map[int]bool{exitOK: true}
	for _, c := range exitCodes {
		code[c] = true
	}
	for c := range code {
		if _, ok := readme[c]; !ok {
			t.Errorf("exit code %d is in errors.go's table, not in the README's", c)
		}
	}
	for c, meaning := range readme {
		if !code[c] {
			t.Errorf("README's exit code %d (%s) is no code of errors.go's table", c, meaning)
		}
	}
	// What the README's line must say for each kind's code.
	says := map[error]string{
		errRows:         "some rows",
		errUsage:        "usage",
		errFile:         "input error",
		errReportExists: "usage or input error",
		errAborted:      "aborted",
		errInterrupted:  "interrupted",
		errLocked:       "lock",
		errStopped:      "--resume",
		errInternal:     "internal error",
	}
	for kind, c := range exitCodes {
		want, ok := says[kind]
		if !ok {
			t.Errorf("kind %q (exit %d): the test does not know what the README must say of it", kind, c)
			continue
		}
		if !strings.Contains(readme[c], want) {
			t.Errorf("kind %q exits %d, whose README line %q does not say %q", kind, c, readme[c], want)
		}
	}
	if !strings.Contains(readme[exitOK], "every row") {
		t.Errorf("README's exit 0 is %q, want every row ok", readme[exitOK])
	}
}

func TestKindKeepsMessage(t *testing.T) {
	t.Parallel()
	err := usageErr("--rate %g: want 0 (no limit) or more", -1.0)
	if got, want := err.Error(), "--rate -1: want 0 (no limit) or more"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if !errors.Is(err, errUsage) {
		t.Error("errors.Is(usageErr(...), errUsage) = false")
	}
}

func TestExitCodeReportsOnStderr(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if code := exitCode(errRows, &b); code != exitRows || b.Len() != 0 {
		t.Errorf("errRows: exit %d, stderr %q; want %d and nothing (the summary said it)", code, b.String(), exitRows)
	}
	if code := exitCode(usageErr("no server URL"), &b); code != exitUsage || b.String() != "ensbulk: no server URL\n" {
		t.Errorf("usage: exit %d, stderr %q", code, b.String())
	}
}

func TestUnknownCommandIsUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"bogus"}, {"runn", "x.csv"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			res := runCLI(t, context.Background(), nil, args...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, "unknown command") {
				t.Errorf("stderr does not say the command is unknown:\n%s", res.stderr)
			}
		})
	}
	if res := runCLI(t, context.Background(), nil, "runn"); !strings.Contains(res.stderr, "\trun") {
		t.Errorf("no suggestion of run for runn:\n%s", res.stderr)
	}
}

func TestNoCommandPrintsHelp(t *testing.T) {
	t.Parallel()
	res := runCLI(t, context.Background(), nil)
	if res.code != exitOK || !strings.Contains(res.stdout, "Available Commands") {
		t.Errorf("exit %d, stdout:\n%s", res.code, res.stdout)
	}
}

func TestChoiceFlagsRefuseAtParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "x.csv", "--format", "xml"}, `"--format"`},
		{[]string{"run", "x.csv", "--report-format", "tsv"}, `"--report-format"`},
		{[]string{"validate", "x.csv", "--progress", "loud"}, `"--progress"`},
		{[]string{"run", "x.csv", "--log-level", "trace"}, `"--log-level"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// No environment: had the value passed, the run would stop on
			// the missing URL instead.
			res := runCLI(t, context.Background(), nil, tt.args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) || !strings.Contains(res.stderr, "invalid argument") {
				t.Errorf("exit %d, stderr %q; want %d naming %s", res.code, res.stderr, exitUsage, tt.want)
			}
		})
	}
}

func TestChoiceFlagsAcceptAnyCase(t *testing.T) {
	t.Parallel()
	var level string
	c := newChoice(&level, nil, "info", "debug", "info", "warn", "error")
	if err := c.Set("WARN"); err != nil || c.String() != "warn" {
		t.Errorf("Set(WARN): %v, value %q", err, c.String())
	}
}

func TestChoiceFlagsComplete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag string
		want []string
	}{
		{"--progress", []string{"auto", "bar", "json", "none"}},
		{"--report-format", []string{"csv", "jsonl"}},
		{"--log-level", []string{"debug", "info", "warn", "error"}},
		{"--format", []string{"csv", "jsonl", "ndjson"}},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			var out strings.Builder
			e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
			if err := run(context.Background(), []string{"__complete", "validate", tc.flag, ""}, e); err != nil {
				t.Fatal(err)
			}
			got := strings.Fields(out.String())
			if len(got) < len(tc.want) || strings.Join(got[:len(tc.want)], " ") != strings.Join(tc.want, " ") {
				t.Errorf("completions %q, want %q first", got, tc.want)
			}
		})
	}
}
