package batch

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// Rows an earlier run validated skip the validate phase; every other row
// is validated, and with RecordValidation its passed validation reaches
// the sink before its final result.
func TestValidatedRowsSkipValidation(t *testing.T) {
	rows := mkRows(10, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(ok)
	sink := &memSink{}
	opts := fast(Options{Workers: 2, RecordValidation: true, Validated: func(r *Row) bool { return r.Num <= 6 }})
	sum, err := Run(context.Background(), opener(rows), s, sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.ByStatus[StatusOK] != 10 {
		t.Errorf("statuses %v, want 10 ok", sum.ByStatus)
	}
	if s.calls != 14 {
		t.Errorf("calls = %d, want 14 (4 validations, 10 applies)", s.calls)
	}
	seen := map[int][]Status{}
	for _, r := range sink.results {
		seen[r.Row] = append(seen[r.Row], r.Status)
	}
	for n := 1; n <= 10; n++ {
		want := fmt.Sprint([]Status{StatusValid, StatusOK})
		if n <= 6 {
			want = fmt.Sprint([]Status{StatusOK})
		}
		if got := fmt.Sprint(seen[n]); got != want {
			t.Errorf("row %d: sink got %s, want %s", n, got, want)
		}
	}
}

// A validated row a budget leaves unsent is reported skipped with phase
// validate: the next run may take it as validated.
func TestSkippedAfterValidationKeepsPhase(t *testing.T) {
	rows := mkRows(20, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(ok)
	sink := &memSink{}
	_, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 1, MaxRows: 5, RecordValidation: true}))
	var se *StopError
	if !errors.As(err, &se) || se.Kind != StopBudget {
		t.Fatalf("err = %v, want a budget stop", err)
	}
	skipped := 0
	for _, r := range sink.results {
		if r.Status == StatusSkipped {
			skipped++
			if r.Phase != PhaseValidate {
				t.Errorf("row %d skipped with phase %q, want validate", r.Row, r.Phase)
			}
		}
	}
	if skipped != 15 {
		t.Errorf("skipped = %d, want 15", skipped)
	}
}
