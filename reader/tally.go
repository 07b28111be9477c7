package reader

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

// Tally counts what a file asks for, per column: how many valid rows set
// it (send a non-empty value), keep it (do not send it) and clear it (send
// ""). Refused rows are counted in Invalid and nowhere else, since they will
// not be sent. It is what an operator reads before a run: "1,200 rows clear
// pager".
type Tally struct {
	Rows    int // rows read, refused ones included
	Invalid int // rows refused by local checks
	// PinsKeptEmpty counts valid rows that gave pin as empty (<empty> or
	// ""): the PIN is kept, as a PIN cannot be cleared. Only the tally of a
	// Reader (Reader.Tally) can know this; rows do not carry it.
	PinsKeptEmpty int

	fields   []schema.Field
	set      []int
	clear    []int
	declared []bool // the column appears (a row sent it, or the header has it)
}

// NewTally returns an empty Tally.
func NewTally() *Tally {
	fs := schema.Fields()
	return &Tally{
		fields:   fs,
		set:      make([]int, len(fs)),
		clear:    make([]int, len(fs)),
		declared: make([]bool, len(fs)),
	}
}

// Add counts one row.
func (t *Tally) Add(row batch.Row) {
	t.Rows++
	if row.Err != nil {
		t.Invalid++
		return
	}
	j := 0 // params are in schema order: walk the schema alongside
	for _, p := range row.Params {
		for j < len(t.fields) && t.fields[j].Name != p.Name {
			j++
		}
		i := j
		if j == len(t.fields) {
			i, j = schema.Index(p.Name), 0 // not in order after all
		}
		if i < 0 || p.Name == "mailbox" {
			continue
		}
		t.declared[i] = true
		if p.Value == "" {
			t.clear[i]++
		} else {
			t.set[i]++
		}
	}
}

// addSlots is Add for a row the reader has just built from slots (in
// schema order, as t.fields): the same counts without looking up each
// param's name.
func (t *Tally) addSlots(row *batch.Row, slots []slot, mailbox int) {
	t.Rows++
	if row.Err != nil {
		t.Invalid++
		return
	}
	for i, s := range slots {
		if !s.set || i == mailbox {
			continue
		}
		t.declared[i] = true
		if s.val == "" {
			t.clear[i]++
		} else {
			t.set[i]++
		}
	}
}

// declare lists a column even if no row sends it.
func (t *Tally) declare(field int) { t.declared[field] = true }

// Columns returns the columns that appear, in schema order (mailbox, which
// every row has, is left out).
func (t *Tally) Columns() []string {
	var out []string
	for i, d := range t.declared {
		if d {
			out = append(out, t.fields[i].Name)
		}
	}
	return out
}

// Counts returns how many valid rows set, keep and clear column.
func (t *Tally) Counts(column string) (set, keep, clear int) {
	i := schema.Index(column)
	if i < 0 || !t.declared[i] {
		return 0, 0, 0
	}
	set, clear = t.set[i], t.clear[i]
	return set, t.Rows - t.Invalid - set - clear, clear
}

// WriteTable writes the counts as a table for people, then a line with the
// row totals. A column that cannot be cleared shows "-" under clear.
//
//	column     set  keep  clear
//	pager       10     0  1,200
//	1,210 rows, 1,210 valid, 0 invalid (not counted above)
func (t *Tally) WriteTable(w io.Writer) error {
	lines := [][4]string{{"column", "set", "keep", "clear"}}
	for i, d := range t.declared {
		if !d {
			continue
		}
		f := &t.fields[i]
		set, keep, clr := t.Counts(f.Name)
		c := thousands(clr)
		if f.EmptyMeans == "" || f.EmptyKeeps {
			c = "-"
		}
		lines = append(lines, [4]string{f.Name, thousands(set), thousands(keep), c})
	}
	var width [4]int
	for _, l := range lines {
		for i, c := range l {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s  %*s  %*s  %*s\n", width[0], l[0], width[1], l[1], width[2], l[2], width[3], l[3])
	}
	fmt.Fprintf(&b, "%s rows, %s valid, %s invalid (not counted above)\n",
		thousands(t.Rows), thousands(t.Rows-t.Invalid), thousands(t.Invalid))
	if t.PinsKeptEmpty > 0 {
		fmt.Fprintf(&b, "%s rows give pin as empty: a PIN cannot be cleared, so those keep their PIN\n", thousands(t.PinsKeptEmpty))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// thousands writes n with comma separators: 1200 -> "1,200".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}
