package batch

import "fmt"

// overBudget counts a row against Options.MaxRows as its first request is
// about to go out, after the pace let it through: a row still waiting
// for the pace when the budget runs out was never sent and is left for
// the sweep (skipped), so it must not use up the budget either. The row
// that finds the budget spent stops the run; rows already sent finish,
// their requests running without the run's cancellation (see send).
func (e *engine) overBudget(a *attempt) bool {
	if e.opts.MaxRows <= 0 || a.counted || a.attempts > 0 || (a.phase == PhaseApply) == e.opts.ValidateOnly {
		return false
	}
	a.counted = true
	if e.started.Add(1) <= int64(e.opts.MaxRows) {
		return false
	}
	e.stop(&StopError{Kind: StopBudget, Reason: e.opts.Words.RowLimit(e.opts.MaxRows), Err: &RowLimitError{Rows: e.opts.MaxRows}})
	return true
}

// RowLimitError is the Err of the StopError of a run stopped by
// Options.MaxRows.
type RowLimitError struct {
	Rows int // Options.MaxRows
}

func (e *RowLimitError) Error() string { return fmt.Sprintf("row limit of %d reached", e.Rows) }
