package report

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
)

// ParseChanges gives back exactly what FormatChanges wrote, for any
// value: the approved plan's old values are the expectations of run
// --plan.
func TestParseChangesRoundTrip(t *testing.T) {
	odd := []string{"", "?", "??", " ", " x", "x ", "a; b", "a -> b", "->", `"`, `say "hi"`, "line\nbreak", "tab\there",
		"\x00?", "<empty>", "NULL", "null", "'=1+1", "=cmd", "-1", "€ ünï", "\xff\xfe", "x: y", "changed", ": ", "a;b", "1;"}
	one := func(c batch.Change) {
		t.Helper()
		cell := FormatChanges([]batch.Change{c})
		got, err := ParseChanges(cell)
		if err != nil || len(got) != 1 || got[0] != c {
			t.Errorf("ParseChanges(%q) = %+v, %v; want %+v", cell, got, err, c)
		}
	}
	for _, a := range odd {
		for _, b := range odd {
			one(batch.Change{Field: "description", Old: a, New: b, Known: true})
		}
		one(batch.Change{Field: "description", New: a})
	}
	one(batch.Change{Field: "pin", Secret: true})
	// FormatChanges writes a field name as it is: one with a quote reads
	// back too (the HTML page shows such a column, escaped).
	one(batch.Change{Field: `x"onerror="y`, Old: "a", New: "b", Known: true})
	one(batch.Change{Field: `"`, New: "b"})
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune{'a', ' ', ';', '-', '>', '"', '?', ':', '\n', '\\', 'é', '\t', '\'', '='}
	word := func() string {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 2000 {
		var cs []batch.Change
		for i := range 1 + r.IntN(4) {
			c := batch.Change{Field: []string{"description", "pager", "pin", "callerid"}[i], Old: word(), New: word(), Known: r.IntN(4) > 0}
			if c.Field == "pin" {
				c = batch.Change{Field: "pin", Secret: true}
			}
			if !c.Known {
				c.Old = ""
			}
			cs = append(cs, c)
		}
		cell := FormatChanges(cs)
		got, err := ParseChanges(cell)
		if err != nil || !slices.Equal(got, cs) {
			t.Fatalf("ParseChanges(%q) = %+v, %v; want %+v", cell, got, err, cs)
		}
	}
}

func TestParseChangesRefuses(t *testing.T) {
	for _, bad := range []string{"description", "description: a", `description: "a -> b`, "a b: x -> y", "description: a -> b; ",
		"description: a -> b;x: c -> d", "description: a -> ?", `description: "a"x -> b`, "description: a;b -> c",
		// FormatChanges quotes an empty value, one with space at an end
		// and one not UTF-8.
		"description:  -> b", "description: x  -> y", "description: a -> b ", "description: \xff -> y"} {
		if got, err := ParseChanges(bad); err == nil {
			t.Errorf("ParseChanges(%q) = %+v, want an error", bad, got)
		}
	}
}
