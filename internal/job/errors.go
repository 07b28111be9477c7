package job

import (
	"errors"
	"fmt"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/profile"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report/resume"
)

// Kind is the kind of failure an operator acts on differently. The job
// says what went wrong with a Kind; only the command maps a Kind to an
// exit code. A Kind is a constant error, so errors.Is(err, Locked) holds
// for any error marked with it, and no package variable can be reassigned.
type Kind string

// Error implements error: a bare kind is an error of that kind.
func (k Kind) Error() string { return string(k) }

// The kinds, from the operator's side.
const (
	Usage        Kind = "usage error"                   // a flag, argument or setting is wrong
	File         Kind = "file error"                    // the input, or a file named by a flag, cannot be used
	ReportExists Kind = "report exists"                 // a report is there and --resume was not given
	Locked       Kind = "report locked"                 // another run holds the report's lock
	Stopped      Kind = "stopped by a budget or window" // resumable
	Aborted      Kind = "aborted"                       // the server or the circuit ended the run
	Interrupted  Kind = "interrupted"                   // a signal ended the run
	Rows         Kind = "some rows were not applied"    // the summary has said which
	Internal     Kind = "internal error"                // a fault of ours, e.g. the report cannot be written
)

// Kinds are every Kind, for a table that must cover them all.
func Kinds() []Kind {
	return []Kind{Usage, File, ReportExists, Locked, Stopped, Aborted, Interrupted, Rows, Internal}
}

// Error gives Err one of the kinds; its message is Err's alone.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is find both the kind and what Err wraps.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Mark gives err the kind; nil stays nil.
func Mark(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// usageErr is a usage or input error: nothing was sent.
func usageErr(format string, args ...any) error {
	return Mark(Usage, fmt.Errorf(format, args...))
}

// fileErr marks err as a file that cannot be used (read, created, parsed).
func fileErr(err error) error { return Mark(File, err) }

// internalErr marks err as a fault of ours rather than of the input or the
// server.
func internalErr(err error) error { return Mark(Internal, err) }

// KindOf says what err means; nil for nil. The outermost mark wins, so
// code that knows better than a wrapped error (a file error met while
// writing the report is internal) says so by marking it; then the
// engine's StopError, the reader's FileError, a profile's and a resume's
// refusals speak for themselves; anything else is internal.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Kind
	}
	var se *batch.StopError
	if errors.As(err, &se) {
		switch se.Kind {
		case batch.StopBudget:
			return Stopped
		case batch.StopInterrupted:
			return Interrupted
		}
		return Aborted
	}
	var fe *reader.FileError
	if errors.As(err, &fe) {
		return File
	}
	var pe *profile.Error
	if errors.As(err, &pe) {
		return Usage
	}
	var re *resume.Refusal
	if errors.As(err, &re) {
		if errors.Is(err, resume.ErrReportExists) {
			return ReportExists
		}
		return Usage
	}
	for _, kind := range Kinds() {
		if errors.Is(err, kind) {
			return kind
		}
	}
	return Internal
}
