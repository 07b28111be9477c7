package resume

import (
	"errors"
	"fmt"
	"time"

	"github.com/ensbulk/ensbulk/report"
)

// This package says why it refuses a run, and what a plan does that a
// plain run would not, as typed values: the command turns them into the
// words, option names and command lines the operator reads.

// Reason is why a run is refused.
type Reason int

// The reasons. Path is the report concerned unless said otherwise; Then
// is its sidecar, Now this run's (Config.Meta).
const (
	ReportExists      Reason = iota + 1 // Path exists; the run neither resumes nor retries it
	NotAReport                          // Path exists and has no sidecar; the run neither resumes nor retries it
	SidecarMissing                      // the report to resume has content but no sidecar
	SidecarUnreadable                   // the sidecar of the report resumed or retried cannot be read (Err); for a retry, Now says against which switch it would be taken
	OtherMode                           // the report to resume is of a run of another mode (Then.Mode, not Now.Mode)
	OtherFormat                         // the report to resume is in another format (Then.Format)
	InputChanged                        // the input changed since the report to resume was started (Changes)
	OtherSwitch                         // the report belongs to another switch or user (Then, Now)
	NoIdentity                          // the report records no switch or user (written by an older ensbulk); Now is this run's
	RetryOfItself                       // this run's report (Path) is the report being retried (Retried)
	RetryMismatch                       // row Row is another mailbox in the input (Box) than in the report retried (ReportBox)
	RetryGone                           // rows of the report retried are not in the input (Rows)
	RetryEditedOK                       // rows ok in the report retried were edited since (Rows)
	ReportUnreadable                    // the report resumed or retried cannot be read (Err)
	RowUnreadable                       // a row of the input cannot be read (Err)
	RowOrder                            // the input's row numbers do not increase (Row after After)
	FileLink                            // the report (or, with Sidecar, its sidecar) at Path is a symbolic link
	FileIrregular                       // the report (or its sidecar) at Path is not a regular file
	FileUnusable                        // the report (or its sidecar) at Path cannot be looked at (Err)
	DiscardFailed                       // the header-only report Path without a sidecar cannot be removed (Err)
	ReplaceFailed                       // the earlier report Path (or, with Sidecar, its sidecar) cannot be removed (Err)
)

var reasonNames = [...]string{
	ReportExists: "report exists", NotAReport: "not a report", SidecarMissing: "sidecar missing",
	SidecarUnreadable: "sidecar unreadable", OtherMode: "another mode", OtherFormat: "another format",
	InputChanged: "input changed", OtherSwitch: "another switch", NoIdentity: "no switch recorded",
	RetryOfItself: "retry of itself", RetryMismatch: "rows do not match", RetryGone: "rows gone",
	RetryEditedOK: "ok rows edited", ReportUnreadable: "report unreadable", RowUnreadable: "row unreadable",
	RowOrder: "rows out of order", FileLink: "symbolic link", FileIrregular: "not a regular file",
	FileUnusable: "file unusable", DiscardFailed: "cannot remove", ReplaceFailed: "cannot replace",
}

func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason %d", int(r))
}

// Op is what a refused run was asked to do with its report.
type Op int

const (
	OpStart  Op = iota // a plain run (or plan, validate)
	OpResume           // Config.Resume
	OpRetry            // Config.RetryFailed: Path is the report retried
)

// Refusal is a run refused before anything is sent: the report, its
// sidecar or the input do not allow what was asked. The command says
// what to pass instead, and exits with its usage code. The fields a
// Reason does not name are zero.
type Refusal struct {
	Reason Reason
	Op     Op
	Path   string
	// Sidecar says that Path is the report's sidecar (FileLink,
	// FileIrregular, FileUnusable) or that the sidecar could not be
	// removed (ReplaceFailed).
	Sidecar bool
	// Retried is the report being retried (RetryOfItself).
	Retried string
	// Then is the report's sidecar, Now this run's.
	Then, Now report.Meta
	// Changes are what differs between the report and the input now.
	Changes []Change
	// Rows are the rows concerned (RetryGone, RetryEditedOK).
	Rows Rows
	// Row (RetryMismatch, RowOrder) and After (RowOrder).
	Row, After int
	// Box is the mailbox of Row in the input, ReportBox in the report.
	Box, ReportBox Box
	// Err is the cause.
	Err error
}

// Error is a short account for logs and tests; the command says it in
// full.
func (r *Refusal) Error() string {
	s := r.Reason.String()
	if r.Path != "" {
		s += " (" + r.Path + ")"
	}
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

// Unwrap returns the cause, if any.
func (r *Refusal) Unwrap() error { return r.Err }

// Is makes ErrReportExists match the refusal of a report that exists.
func (r *Refusal) Is(target error) bool {
	return target == ErrReportExists && (r.Reason == ReportExists || r.Reason == NotAReport)
}

// ErrReportExists matches (errors.Is) the Refusal of a run that would
// overwrite an existing report: one that neither resumes nor retries it.
var ErrReportExists = errors.New("already exists")

// ChangeKind is what changed between a report's input and the input now.
type ChangeKind int

const (
	ContentChanged    ChangeKind = iota + 1 // the input's bytes: Then and Now are their sha256
	FormatChanged                           // the input's format
	EmptyTokenChanged                       // the CSV empty token
	DelimiterChanged                        // the CSV delimiter
	RowsChanged                             // rows the report holds differ now (Rows)
	RowsGone                                // rows of the report are no longer in the input (Rows)
)

// Change is one thing that differs between the input a report describes
// (Then) and the input now (Now).
type Change struct {
	Kind      ChangeKind
	Then, Now string
	Rows      Rows
}

// Rows are rows named in a message: the first few of them in increasing
// order (at least RowsShown+1 when there are more) and how many in all.
type Rows struct {
	First []int
	Total int
}

// RowsShown is how many rows a message names before it counts the rest.
const RowsShown = 5

// Box is a mailbox as a row names it.
type Box struct {
	Mailbox, Customer string
}

// NoteKind is what a plan does that a plain run would not.
type NoteKind int

const (
	NoteReplaced         NoteKind = iota + 1 // the earlier Mode report Path of this input was removed
	NoteNotRevalidated                       // N rows validated by an earlier run of the report resumed are not validated again
	NoteReapplied                            // (with Force) Rows ok in the report retried (Path) were edited since and are applied again
	NoteRotated                              // the report Path of a run finished at Finished was set aside as To: its input changed (Changes)
	NotePruned                               // the reports set aside beyond the Keep newest were removed (Removed)
	NoteReuseUnreadable                      // the validate report Path cannot be read (Err): every row is validated
	NoteReuseOtherSwitch                     // the validate report Path is of another switch or user (Then, Now)
	NoteReuseOtherInput                      // the validate report Path is of another input (Changes)
	NoteReuseTooOld                          // the validate report Path was started Age ago, more than MaxAge
	NoteReused                               // the validate report Path, Age old, is taken over: Valid rows not validated again, Invalid reported without sending
)

// Note is what the operator is told before anything is sent. The fields
// a NoteKind does not name are zero.
type Note struct {
	Kind NoteKind
	Path string
	// Mode is the mode of the report replaced.
	Mode string
	// N, Valid, Invalid and Keep are counts; Rows are the rows concerned.
	N, Valid, Invalid, Keep int
	Rows                    Rows
	// Then is the sidecar of the report Path, Now this run's.
	Then, Now report.Meta
	Changes   []Change
	Err       error
	// Age is how long ago the report Path was started; MaxAge how old
	// it may be.
	Age, MaxAge time.Duration
	// Finished is when the run of the report set aside finished, To
	// where it is now.
	Finished time.Time
	To       string
	// Removed are the reports set aside that were removed.
	Removed []string
}

// PruneError is a failure to remove the reports set aside beyond
// Config.Keep, after the report was set aside.
type PruneError struct{ Err error }

func (e *PruneError) Error() string { return "remove the reports set aside: " + e.Err.Error() }

func (e *PruneError) Unwrap() error { return e.Err }
