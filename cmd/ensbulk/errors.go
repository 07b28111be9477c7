package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/job"
)

// Exit codes (README, "Exit codes"). exitCodeOf is the only place that picks
// one; code elsewhere says what went wrong with the kinds below.
const (
	exitOK       = 0 // every row ok (or valid)
	exitRows     = 1 // some rows invalid, failed, error or skipped
	exitUsage    = 2 // usage or input error: nothing sent
	exitAborted  = 3 // 401, repeated 402/403, circuit open, interrupted
	exitLocked   = 4 // another run holds the report's lock
	exitStopped  = 5 // stopped by a budget or window: resumable with --resume
	exitInternal = 6 // the report could not be written, or another fault of ours
)

// The kinds of failure an operator acts on differently are package
// job's (typed reasons); this file alone maps them to exit codes.
const (
	errUsage        = job.Usage
	errFile         = job.File
	errReportExists = job.ReportExists
	errLocked       = job.Locked
	errStopped      = job.Stopped
	errAborted      = job.Aborted
	errInterrupted  = job.Interrupted
	errRows         = job.Rows
	errInternal     = job.Internal
)

// exitCodes is the table from a kind to the process exit code.
var exitCodes = map[error]int{
	errRows:         exitRows,
	errUsage:        exitUsage,
	errFile:         exitUsage,
	errReportExists: exitUsage,
	errAborted:      exitAborted,
	errInterrupted:  exitAborted,
	errLocked:       exitLocked,
	errStopped:      exitStopped,
	errInternal:     exitInternal,
}

// withKind marks err with kind; nil stays nil.
func withKind(kind job.Kind, err error) error { return job.Mark(kind, err) }

// usageErr is a usage or input error: nothing was sent.
func usageErr(format string, args ...any) error {
	return withKind(errUsage, fmt.Errorf(format, args...))
}

// fileErr marks err as a file that cannot be used (read, created, parsed).
func fileErr(err error) error { return withKind(errFile, err) }

// internalErr marks err as a fault of ours rather than of the input or the
// server.
func internalErr(err error) error { return withKind(errInternal, err) }

// kindOf says what err means (job.KindOf).
func kindOf(err error) error { return job.KindOf(err) }

// exitCodeOf is the exit code of a command that returned err.
func exitCodeOf(err error) int {
	if err == nil {
		return exitOK
	}
	return exitCodes[kindOf(err)]
}

// exitCode reports err on stderr and returns the process exit code. Rows
// that are not ok have been summarised already, so they are not repeated;
// nor is an interruption the engine stopped for, which the summary has
// said ("interrupted", the next step, "exit 3") just above.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	kind := kindOf(err)
	if kind != errRows && !summarisedInterrupt(err) {
		fmt.Fprintf(stderr, "ensbulk: %v\n", err)
	}
	return exitCodes[kind]
}

// plural is n with the word in the form n takes: "1 row", "2 rows".
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// summarisedInterrupt says whether err is the engine's own interruption,
// returned as it is after the summary. One marked with a kind (a report
// that could not be finished, a prompt abandoned) says something the
// summary has not.
func summarisedInterrupt(err error) bool {
	var ke *job.Error
	var se *batch.StopError
	return !errors.As(err, &ke) && errors.As(err, &se) && se.Kind == batch.StopInterrupted
}
