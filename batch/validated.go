package batch

// Validation results that outlive a run. A budgeted run (--max-rows,
// --max-duration, a window) that must validate every remaining row before
// it applies one would, resumed night after night over a large file,
// spend every budget validating again and never apply a row. With
// Options.RecordValidation a passed validation is written to the sink
// (status valid, phase validate) as soon as it is known, superseded later
// by the row's final result; a row it leaves unsent is reported skipped
// with phase validate. The next run passes those rows back through
// Options.Validated, and they go straight to the apply phase.

// prevalidated marks, during the first read, a row this run handles that
// an earlier run validated: the validate phase leaves it out.
func (e *engine) prevalidated(row *Row) {
	if e.opts.Validated == nil || e.opts.ValidateOnly || row.Err != nil || row.Settled != nil || !e.opts.Validated(row) {
		return
	}
	e.prevalid.Set(row.Num)
	e.valid.Set(row.Num)
	e.validCount++
}

// passedItem is the writer's item for a row that passed validation in a
// run: with RecordValidation it carries the result the sink records.
func (e *engine) passedItem(row *Row, o outcome) item {
	it := item{row: row, passed: true}
	if e.opts.RecordValidation {
		o.status = StatusValid
		it.res = o.result(row)
		it.record = true
	}
	return it
}

// skippedPhase is the phase of the skipped result of a row: validate when
// the row passed validation (in this run or an earlier one) and its apply
// was never sent.
func (e *engine) skippedPhase(row *Row) Phase {
	if e.opts.RecordValidation && e.valid.Has(row.Num) {
		return PhaseValidate
	}
	return PhaseNone
}
