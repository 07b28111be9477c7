// Package batch is what a bulk mailbox update is: rows, results, statuses,
// error kinds, and the engine that validates and applies rows through a
// rate-limited worker pool. It imports no other package of this module;
// readers, report writers and the Enswitch client adapt to it.
//
// Where things are:
//
//	batch.go      the domain: Row, Result, Status, Phase, Kind, Error, Sender
//	rows.go       Rows (the one way to walk a Source) and Sleep
//	options.go    Options and every default (the Default* constants)
//	engine.go     Run, the run's state, why it stopped (StopError)
//	phase.go      the phase loop: dispatcher, workers, the writer, the sweep
//	attempt.go    one attempt and its retry rule (decide), backoff
//	circuit.go    the abort rules: repeated 402, 403 by customer, consecutive transport
//	              failures, throttle waves, 401 and fatal faults
//	scheduler.go  per-mailbox ordering: one row of a mailbox at a time
//	governor.go   the shared pace, slowed by 429/503
//	summary.go    Summary and the counts the writer keeps
//
// To change a retry rule (what a code means for a row, whether and when it
// is sent again), edit decide in attempt.go; an abort rule, circuit.go; a
// default, options.go (the command's flags take theirs from there).
package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Param is one API parameter of a row, as it will be sent.
type Param struct {
	Name  string
	Value string
}

// Row is one input row of changes.
type Row struct {
	// Num is the row number used in errors and in the report: CSV data
	// records count from 1 (the header is row 0); JSONL uses the 1-based
	// line number.
	Num int
	// Line is the physical line on which the record starts.
	Line int
	// Mailbox and Customer identify the mailbox; Customer is "" when the
	// row does not name one (the server then uses the auth user's).
	Mailbox  string
	Customer string
	// Params are the parameters to send, mailbox and customer included,
	// in schema order. A kept value (empty cell, absent key) is not here.
	Params []Param
	// Hash is a digest of the row's meaning (its params), used by resume
	// to tell whether a row changed between runs.
	Hash string
	// Err is set when local checks refused the row; the row is then
	// reported invalid and never sent.
	Err *RowError
	// Expect makes the row a conditional write (an undo, an approved
	// plan): each param is a field and the value the switch must hold
	// for the row's value of that field to be sent. A field that holds
	// something else is a conflict: left alone, unless Options.Force.
	// Only honoured when the engine reads before it updates.
	Expect []Param
	// ExpectAll makes Expect hold for the row as a whole: one field in
	// conflict and none of the row is sent (an approved plan's row is
	// one change, approved as a whole). Without it each field stands
	// alone (an undo restores what it can).
	ExpectAll bool
	// Note is what the input says of the row beyond its params (an undo
	// row's fields that cannot be restored); it is added to the row's
	// result message.
	Note string
	// Settled, when set, is the row's result decided before the run (an
	// approved plan found nothing to send for it): the row is reported
	// with it and never sent (see stage.go).
	Settled *Settled
}

// Key is the identity used to order rows: rows with the same key are sent
// in file order and never concurrently. It is the mailbox number alone,
// whatever the customer column: a row without a customer means the login's
// own customer, which may be the customer another row names, and the
// engine does not know which customer that is. Mailboxes of different
// customers that share a number are serialised too; that costs only
// concurrency, never order.
func (r *Row) Key() string { return r.Mailbox }

// Fields returns the names of the parameters the row changes (mailbox and
// customer, which only identify it, are left out). Never the values: PINs
// must not reach reports.
func (r *Row) Fields() []string {
	out := make([]string, 0, len(r.Params))
	for _, p := range r.Params {
		if p.Name == "mailbox" || p.Name == "customer" {
			continue
		}
		out = append(out, p.Name)
	}
	return out
}

// RowError is a local check failure of one row.
type RowError struct {
	File    string
	Row     int
	Line    int
	Column  string // column or JSON key; "" when the row as a whole is wrong
	Message string
}

func (e *RowError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "row %d", e.Row)
	if e.Line != 0 && e.Line != e.Row && e.Line != e.Row+1 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Source yields rows in file order. Next returns io.EOF after the last row.
// Any other error is file-level: the run stops before sending anything when
// it happens during the first pass.
type Source interface {
	Next() (Row, error)
}

// Filter is a Source that can pass over, unread, the rows a pass of the
// engine does not need: after Only(want), Next returns only the rows whose
// number want accepts, and Passed counts the rows it left out. A row left
// out is not checked, so only a pass that follows a full read of the same
// bytes filters. A Source that is not a Filter is filtered by the engine
// itself (see Wanted): the same rows, each read in full.
type Filter interface {
	Source
	Only(want func(num int) bool)
	Passed() int
}

// Status is the outcome of one row.
type Status string

// Statuses, as written in reports.
const (
	StatusOK      Status = "ok"      // applied
	StatusValid   Status = "valid"   // passed validation in a validate-only run
	StatusInvalid Status = "invalid" // 400 or a local check
	StatusFailed  Status = "failed"  // 404 or another non-retryable refusal
	StatusError   Status = "error"   // retries exhausted
	StatusSkipped Status = "skipped" // never attempted: aborted, interrupted, all-or-nothing, budget
	// StatusAppliedUnvalidated is a row the server applied when it was
	// asked only to validate it (it answered 204 to validation=1): the
	// change is in place but was never checked first. The run stops at
	// the first one.
	StatusAppliedUnvalidated Status = "applied-unvalidated"
	// StatusUnchanged: the read before the update found every given
	// field already holding its value; nothing was sent.
	StatusUnchanged Status = "unchanged"
	// StatusChange: a plan found that the row would change the mailbox.
	StatusChange Status = "change"
	// StatusConflict: a conditional row (Row.Expect) found a field that
	// no longer holds what it expected (another admin, a later run):
	// that field was left alone; the row's other fields were written.
	StatusConflict Status = "conflict"
	// StatusMismatch: the update was applied (204) but the mailbox read
	// back after it (Options.ReadBack) does not hold what was sent: a
	// server that accepts a value and keeps another.
	StatusMismatch Status = "mismatch"
)

// Statuses lists every status in report order.
var Statuses = []Status{StatusOK, StatusValid, StatusInvalid, StatusFailed, StatusError, StatusSkipped, StatusAppliedUnvalidated, StatusUnchanged, StatusChange, StatusConflict, StatusMismatch}

// Success reports whether a row with this status ended as asked: applied,
// valid, already as wanted, or (plan) able to change.
func (s Status) Success() bool {
	switch s {
	case StatusOK, StatusValid, StatusUnchanged, StatusChange:
		return true
	}
	return false
}

// Done reports whether a row with this status needs no more work on resume.
// error and skipped rows are redone: the server never gave a definite answer.
// An applied-unvalidated row is not: sending it again to a server that
// ignores validation=1 would apply it again, unchecked, and it is applied
// already. A conflict is a definite answer too: the same check would
// find the same change (a retry with --force overwrites it). So is a
// mismatch: the server answered 204 to it, and the same update would get
// the same answer.
func (s Status) Done() bool {
	switch s {
	case StatusOK, StatusValid, StatusInvalid, StatusFailed, StatusAppliedUnvalidated, StatusUnchanged, StatusChange, StatusConflict, StatusMismatch:
		return true
	}
	return false
}

// Phase is the step in which a row's result was decided.
type Phase string

// Phases, as written in reports.
const (
	PhaseLocal    Phase = "local"
	PhaseValidate Phase = "validate"
	PhaseApply    Phase = "apply"
	PhaseNone     Phase = "" // skipped rows
)

// Result is the final outcome of one row.
type Result struct {
	Row      int
	Line     int
	Mailbox  string
	Customer string
	Status   Status
	Phase    Phase
	Code     string
	Key      string
	Message  string
	Attempts int
	Duration time.Duration
	Fields   []string
	Hash     string
	// Changes are what the read before the update found the row changes
	// (nil when nothing was read); a PIN's values are never here.
	Changes []Change
	// Time is when the result was written.
	Time time.Time
}

// Kind classifies an error from the server or the transport.
type Kind int

// Kinds of errors. The enswitch package holds the one table from response
// codes to kinds.
const (
	KindOther        Kind = iota
	KindInvalid           // 400: the row is wrong; never retried
	KindNotFound          // 404: the mailbox is missing or not visible
	KindForbidden         // 402/403: the role or rate plan forbids it
	KindUnauthorized      // 401: credentials refused; the run aborts
	KindTransient         // transport fault, 5xx, unknown code: retried
	// KindFatal is a fault no retry can fix and that will hit every row:
	// a redirect (credentials are not re-sent to another URL), a TLS
	// certificate that does not verify. The run aborts.
	KindFatal
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not found"
	case KindForbidden:
		return "forbidden"
	case KindUnauthorized:
		return "unauthorized"
	case KindTransient:
		return "transient"
	case KindFatal:
		return "fatal"
	}
	return "other"
}

// Error is an error with a kind, a server code and message. Transport
// faults have no Code but a Message that says what happened.
type Error struct {
	Kind    Kind
	Code    string // server code ("400") or HTTP status for transport faults ("503")
	Key     string // parameter named by a 400
	Message string
	// Throttle marks a 429 or 503: the server asks for less load. The
	// engine slows the whole pool instead of burning this row's retries.
	Throttle   bool
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Key != "" {
		b.WriteString(" [")
		b.WriteString(e.Key)
		b.WriteString("]")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil && (e.Message == "" || !strings.Contains(e.Message, e.Err.Error())) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err, KindOther when it carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// Codes of mailboxes/update the engine knows by value: the only success
// codes, one per phase (any other code the sender passes on as a Response
// is judged by the engine), and the 403 whose scope is a customer.
const (
	CodeValidated = "201" // validation=1: the input passed, nothing changed
	CodeApplied   = "204" // the change was applied
	// CodeRatePlan is the 403 of KindForbidden: a rate plan, which refuses
	// per customer (a 402, the role, is global for the user).
	CodeRatePlan = "403"
)

// Response is the server's answer to a call the sender did not refuse.
// Only CodeValidated to a validation and CodeApplied to an apply are
// success; the engine judges every other code (see succeeded).
type Response struct {
	Code    string
	Key     string
	Message string
}

// Sender sends one mailboxes/update call. validate=true asks the server to
// check only (validation=1). A refusal or fault is returned as an *Error.
type Sender interface {
	Update(ctx context.Context, params []Param, validate bool) (Response, error)
}
