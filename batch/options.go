package batch

import (
	"context"
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
)

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
	// with 402 or 403 (role and rate plan are global for the user, so a
	// repeat means every row will fail).
	ForbiddenAbortAfter int
	// CircuitThreshold aborts the run after this many consecutive
	// transport failures across the pool, with no success between them.
	CircuitThreshold int
	// MaxThrottles bounds 429/503 answers per row and phase; they slow the
	// pool instead of counting as attempts.
	MaxThrottles int

	// Todo, when set, is asked once per row in file order during the
	// first read; rows it refuses are left out of this run entirely (they
	// were finished by an earlier run being resumed).
	Todo func(*Row) bool
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

	// OnResult, when set, is called with every final result once the sink
	// has made it durable, one call at a time, in the order written:
	// the command logs rows that were not applied through it, so the
	// engine needs no logger.
	OnResult   func(Result)
	OnProgress func(Progress) // called from one goroutine
	Now        func() time.Time
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
	if o.Now == nil {
		o.Now = time.Now
	}
}
