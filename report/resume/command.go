package resume

import (
	"fmt"
	"strings"

	"github.com/ensbulk/ensbulk/report"
)

// RetryAdvice is what the summary of a report with notOK rows that are
// not ok tells the operator to run next; haveMeta is false when the
// report's sidecar could not be read, and meta is then not used.
func RetryAdvice(reportPath string, meta report.Meta, haveMeta bool, notOK int, d Dialect) string {
	if !haveMeta {
		meta = report.Meta{}
	}
	return fmt.Sprintf("to rerun the %d %s not ok (after fixing %s):\n  %s\n", notOK, plural(notOK, "row that is", "rows that are"), plural(notOK, "it", "them"), RetryCommand(reportPath, meta, d))
}

// RetryCommand is the command line that reruns the rows of a report that
// are not ok.
func RetryCommand(reportPath string, meta report.Meta, d Dialect) string {
	return commandLine("run", meta, d, "--retry-failed", shellQuote(reportPath))
}

// ResumeCommand is the command line ("ensbulk VERB ... --resume") that
// continues the run of a report. It names the report unless it is the
// input's default: a retry's report, changes.retry1.report.csv, is not,
// and resuming without naming it would resume the report retried.
func ResumeCommand(verb, reportPath string, meta report.Meta, d Dialect) string {
	tail := []string{"--resume"}
	if meta.Input == "" || meta.Input == "-" || reportPath != report.DefaultPathFor(meta.Input, meta.Mode, formatOr(meta.Format)) {
		tail = append(tail, "--report", shellQuote(reportPath))
	}
	return commandLine(verb, meta, d, tail...)
}

// AgainCommand is the command line that does a plan or validate of a
// report's input again, writing over that report (a plan or validation
// of the same input replaces its own earlier report). It names the report
// unless it is the input's default.
func AgainCommand(verb, reportPath string, meta report.Meta, d Dialect) string {
	var tail []string
	if meta.Input == "" || meta.Input == "-" || reportPath != report.DefaultPathFor(meta.Input, meta.Mode, formatOr(meta.Format)) {
		tail = append(tail, "--report", shellQuote(reportPath))
	}
	return commandLine(verb, meta, d, tail...)
}

// CommandLine is "ensbulk VERB INPUT" with the options that change how
// the input is read, then tail (see commandLine).
func CommandLine(verb string, meta report.Meta, d Dialect, tail ...string) string {
	return commandLine(verb, meta, d, tail...)
}

// commandLine is "ensbulk VERB INPUT" with the options that change how
// the input is read (a semicolon file read again without --delimiter is
// refused) and the report's format, then tail; words are quoted for a
// shell.
func commandLine(verb string, meta report.Meta, d Dialect, tail ...string) string {
	input := "INPUT"
	if meta.Input != "" && meta.Input != "-" {
		input = meta.Input
	}
	words := []string{"ensbulk", verb, shellQuote(input)}
	if meta.InputFormat != "" && d.FormatOf(input) != meta.InputFormat {
		words = append(words, "--format", shellQuote(meta.InputFormat))
	}
	if meta.InputFormat == d.CSV {
		if r, err := d.ParseDelimiter(meta.Delimiter); err == nil && r != d.DefaultDelimiter {
			words = append(words, "--delimiter", shellQuote(meta.Delimiter))
		}
		if meta.EmptyToken != "" && meta.EmptyToken != d.DefaultEmptyToken {
			words = append(words, "--empty-token", shellQuote(meta.EmptyToken))
		}
	}
	if meta.Format != "" && meta.Format != report.CSV {
		words = append(words, "--report-format", string(meta.Format))
	}
	return strings.Join(append(words, tail...), " ")
}

// formatOr is f, or CSV when the sidecar names no format.
func formatOr(f report.Format) report.Format {
	if f == "" {
		return report.CSV
	}
	return f
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./:=@%+,-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
