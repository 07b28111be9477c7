package batch

import (
	"context"
	"fmt"
	"time"
)

// Defaults of a run. The command's flags take their defaults from here, so
// the engine and the command line never disagree.
const (
	DefaultWorkers     = 8
	DefaultMaxAttempts = 8
	DefaultTimeout     = 30 * time.Second
	DefaultBackoffBase = 250 * time.Millisecond
	DefaultBackoffMax  = 15 * time.Second

	// DefaultForbiddenAbortAfter is Options.ForbiddenAbortAfter's default.
	DefaultForbiddenAbortAfter = 3
	// DefaultCircuitThreshold is Options.CircuitThreshold's default.
	DefaultCircuitThreshold = 25
	// DefaultMaxThrottles is Options.MaxThrottles's default.
	DefaultMaxThrottles = 50
	// DefaultMaxRetryAfter is Options.MaxRetryAfter's default: a server
	// that asks more wants the run to come back later, not to hold it.
	DefaultMaxRetryAfter = 10 * time.Minute
)

// Pause is a wait the server asked for (Retry-After), for OnPause.
type Pause struct {
	Asked   time.Duration
	Until   time.Time
	Message string // the server's words with the answer
}

// Options configure a run. A zero field takes its Default* value.
type Options struct {
	Workers     int           // concurrent requests
	Rate        float64       // requests per second across both phases; 0 = no limit
	MaxAttempts int           // tries per row and phase for transport faults
	Timeout     time.Duration // per request
	BackoffBase time.Duration // first retry delay ceiling
	BackoffMax  time.Duration // retry delay ceiling

	ValidateOnly bool // phase 1 only; passing rows are reported valid
	AllOrNothing bool // apply nothing when any row did not validate

	// ForbiddenAbortAfter aborts the run when this many rows in a row end
	// with 402 (the role is global for the user, so a repeat means every
	// row will fail), or this many customers refused with 403 before any
	// row was accepted (a 403 otherwise stops only its customer's rows).
	ForbiddenAbortAfter int
	// CircuitThreshold aborts the run after this many consecutive
	// transport failures across the pool, with no success between them.
	CircuitThreshold int
	// MaxThrottles bounds 429/503 answers per row and phase; they slow the
	// pool instead of counting as attempts.
	MaxThrottles int
	// MaxRetryAfter is the longest Retry-After the run waits for; a
	// longer one stops the run resumably (StopBudget) with the server's
	// words.
	MaxRetryAfter time.Duration
	// OnPause, when set, is told when a server's Retry-After starts (or
	// lengthens) a pause of every request, so the wait is said as it
	// begins. It may be called from any worker.
	OnPause func(Pause)

	// Todo, when set, is asked once per row number in file order during
	// the first read; rows it refuses are left out of this run entirely
	// (they were finished by an earlier run being resumed). They are not
	// read in full even in the first read: the caller that refuses a row
	// read the input before (the plan of a resume checks every row of
	// the same bytes), and a resume of a million-row report then parses
	// the rows it redoes, not the million.
	Todo func(num int) bool
	// MaxRows stops the run, resumably, once this many rows have been
	// sent in the apply phase (validate-only: in the validate phase): a
	// row counts when its first request goes out, and rows already sent
	// finish. 0 = no limit.
	MaxRows int
	// Validated, when set, is asked once per row this run handles, in the
	// first read: a row it accepts was validated by an earlier run (the
	// caller checked that its content is unchanged) and goes straight to
	// the apply phase. Not used in a validate-only run.
	Validated func(*Row) bool
	// RecordValidation writes a row's passed validation to the sink at
	// once (status valid, phase validate), before its final result, and
	// reports a validated row left unsent skipped with phase validate, so
	// that a later run can pass it back through Validated (validated.go).
	RecordValidation bool
	// Gate, when set, is called before every request; an error stops the
	// run resumably with that error as the reason (budgets, windows).
	Gate func(context.Context) error
	// Preflight, when set, is called once the whole input has been read
	// and before any row is sent, behind Gate, with the first row this
	// run will send (its number, line, mailbox and customer) and the
	// run's pace, which each request it makes waits on first (an error
	// from pace: the run is stopping, and says why itself). An error
	// from Preflight ends the run before any row is sent: Run returns it
	// with no summary, as for a file-level error. Not called when no row
	// will be sent.
	Preflight func(ctx context.Context, first Row, pace func(context.Context) error) error
	// Deadline, when set, is when the run must have stopped, resumably
	// (--max-duration): no request goes after it, and a Retry-After
	// pause that would end after it stops the run at once.
	Deadline time.Time

	// OnResult, when set, is called with every final result once the sink
	// has made it durable, one call at a time, in the order written:
	// the command logs rows that were not applied through it, so the
	// engine needs no logger.
	OnResult   func(Result)
	OnProgress func(Progress) // called from one goroutine
	// Now is the run's clock (time.Now when nil); the pace sleeps on real
	// timers, so it must advance with real time.
	Now func() time.Time

	// Getter, when set, reads each mailbox just before its update (see
	// read.go): rows that change nothing are reported unchanged and not
	// sent. nil sends every row blind.
	Getter Getter
	// PlanOnly (with Getter) sends no update: rows that would change
	// their mailbox are reported change, with what they would change.
	PlanOnly bool
	// Undo, when set, is given the previous values of what a row changes
	// before its update is sent (see UndoLog).
	Undo UndoLog
	// Force sends a conditional row's fields (Row.Expect) even where the
	// switch no longer holds what the row expected; the result still
	// says which fields were overwritten.
	Force bool
	// ReadBack, when set, reads each mailbox back after its update was
	// applied and compares it with what was sent (stage.go): a field
	// that reads otherwise makes the row StatusMismatch. Required by
	// Canary.
	ReadBack Getter
	// Canary, when > 0, makes the apply phase send only this many valid
	// rows, spread over the customers (see pickCanary), and read them
	// back; then, with rows left, the run stops (StopBudget, its Err a
	// *CanaryError) unless every canary row ended ok and read back as
	// sent and AfterCanary says to go on.
	Canary int
	// AfterCanary, when set, is asked whether to go on with the rest
	// after a clean canary (a terminal's prompt).
	AfterCanary func(context.Context, CanaryReport) bool
	// MaxFailures, when set, stops the run, resumably (StopBudget, its
	// Err a *FailureLimitError), once rows fail at apply beyond it.
	MaxFailures *FailureLimit
	// OwnCustomer, when set, names the login's own customer once known
	// ("" until then): a row without a customer means that customer, for
	// the plan's view of earlier rows and the undo entry's customer.
	OwnCustomer func() string

	// Lister, with Getter, reads the mailboxes of each customer that has
	// at least ListRows rows in this run in one mailboxes/list before
	// the first phase (prefetch.go): a row whose mailbox holds its
	// values already is reported unchanged and sends nothing. ListRows
	// 0 lists nothing; 1 lists every customer the rows name.
	Lister   Lister
	ListRows int
	// OnList, when set, is called after each list, whole or failed.
	OnList func(ListReport)
	// OnWorkload, when set, is called once before the first phase with
	// what the run will send (estimate.go).
	OnWorkload func(Workload)

	// Words are the phrases of row messages and stop reasons that name
	// the caller's own options (its flag names).
	Words Words
}

// Words are the phrases of the row messages and stop reasons that name an
// option of the run: the engine knows the option, only the command knows
// what its user calls it (a flag name). An empty field takes a plain
// phrase that names no flag.
type Words struct {
	// RowLimit is the stop reason of a run that sent MaxRows rows
	// ("row limit of N reached").
	RowLimit func(maxRows int) string
	// AllOrNothing is why an AllOrNothing run applied no row: invalid
	// rows did not pass validation ("not applied: all or nothing and N
	// row(s) did not pass validation").
	AllOrNothing func(invalid int) string
	// Forced opens the message of a row whose conflicts Force
	// overwrote, before ", changed since: " ("overwritten").
	Forced string
	// ForceHint follows, in parentheses, the conflicts of a plan's row
	// when Force is set ("a forced run would overwrite them").
	ForceHint string
}

func (w *Words) defaults() {
	if w.RowLimit == nil {
		w.RowLimit = func(n int) string { return fmt.Sprintf("row limit of %d reached", n) }
	}
	if w.AllOrNothing == nil {
		w.AllOrNothing = func(n int) string {
			return fmt.Sprintf("not applied: all or nothing and %d row(s) did not pass validation", n)
		}
	}
	if w.Forced == "" {
		w.Forced = "overwritten"
	}
	if w.ForceHint == "" {
		w.ForceHint = "a forced run would overwrite them"
	}
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.ForbiddenAbortAfter <= 0 {
		o.ForbiddenAbortAfter = DefaultForbiddenAbortAfter
	}
	if o.CircuitThreshold <= 0 {
		o.CircuitThreshold = DefaultCircuitThreshold
	}
	if o.MaxThrottles <= 0 {
		o.MaxThrottles = DefaultMaxThrottles
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Words.defaults()
}
