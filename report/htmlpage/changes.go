package htmlpage

import (
	"strings"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/report"
)

// parseChanges reads a changes cell with report.ParseChanges, the exact
// inverse of report.FormatChanges; ok is false for a cell it refuses
// (one ensbulk does not write). What the page adds: a secret field of the
// schema (the PIN) never gives values, even from a cell that holds some,
// so that a hand-edited or foreign report cannot put a PIN on the page.
func parseChanges(s string) (cs []batch.Change, ok bool) {
	cs, err := report.ParseChanges(s)
	if err != nil {
		return nil, false
	}
	for i, c := range cs {
		if schema.IsSecret(strings.ToLower(c.Field)) {
			cs[i] = batch.Change{Field: c.Field, Secret: true}
		}
	}
	return cs, true
}

// cutChange shortens the field name and values of c to n bytes.
func cutChange(c batch.Change, n int) batch.Change {
	c.Field, c.Old, c.New = cut(c.Field, n), cut(c.Old, n), cut(c.New, n)
	return c
}
