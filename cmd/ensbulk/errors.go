package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/profile"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report/resume"
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

// The kinds of failure an operator acts on differently. Each is a sentinel:
// errors.Is(err, errLocked) holds for any error marked with it.
var (
	errUsage        = errors.New("usage error")                   // a flag, argument or setting is wrong
	errFile         = errors.New("file error")                    // the input, or a file named by a flag, cannot be used
	errReportExists = errors.New("report exists")                 // a report is there and --resume was not given
	errLocked       = errors.New("report locked")                 // another run holds the report's lock
	errStopped      = errors.New("stopped by a budget or window") // resumable
	errAborted      = errors.New("aborted")                       // the server or the circuit ended the run
	errInterrupted  = errors.New("interrupted")                   // a signal ended the run
	errRows         = errors.New("some rows were not applied")    // the summary has said which
	errInternal     = errors.New("internal error")                // a fault of ours, e.g. the report cannot be written
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

// kindError gives err one of the kinds above; its message is err's alone.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// withKind marks err with kind; nil stays nil.
func withKind(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

// usageErr is a usage or input error: nothing was sent.
func usageErr(format string, args ...any) error {
	return withKind(errUsage, fmt.Errorf(format, args...))
}

// fileErr marks err as a file that cannot be used (read, created, parsed).
func fileErr(err error) error { return withKind(errFile, err) }

// internalErr marks err as a fault of ours rather than of the input or the
// server.
func internalErr(err error) error { return withKind(errInternal, err) }

// kindOf says what err means. The outermost mark wins, so code that knows
// better than a wrapped error (a file error met while writing the report
// is internal) says so by marking it; then the engine's StopError and the
// reader's FileError speak for themselves; anything else is internal.
func kindOf(err error) error {
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	var se *batch.StopError
	if errors.As(err, &se) {
		switch se.Kind {
		case batch.StopBudget:
			return errStopped
		case batch.StopInterrupted:
			return errInterrupted
		}
		return errAborted
	}
	var fe *reader.FileError
	if errors.As(err, &fe) {
		return errFile
	}
	var pe *profile.Error
	if errors.As(err, &pe) {
		return errUsage
	}
	var re *resume.RefusedError
	if errors.As(err, &re) {
		if errors.Is(err, resume.ErrReportExists) {
			return errReportExists
		}
		return errUsage
	}
	for kind := range exitCodes {
		if errors.Is(err, kind) {
			return kind
		}
	}
	return errInternal
}

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

// summarisedInterrupt says whether err is the engine's own interruption,
// returned as it is after the summary. One marked with a kind (a report
// that could not be finished, a prompt abandoned) says something the
// summary has not.
func summarisedInterrupt(err error) bool {
	var ke *kindError
	var se *batch.StopError
	return !errors.As(err, &ke) && errors.As(err, &se) && se.Kind == batch.StopInterrupted
}
