package job

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/report"
)

// PlanPath is a plan's default report: changes.csv -> changes.plan.csv,
// changes.jsonl -> changes.jsonl.plan.csv, so that inputs that differ
// only by extension do not share one (as run's reports do not).
func PlanPath(input string, rf report.Format) string {
	if ext := filepath.Ext(input); strings.EqualFold(ext, ".csv") {
		input = strings.TrimSuffix(input, ext)
	}
	return input + ".plan." + string(rf)
}

// reads sets the engine's read options: a run reads unless --no-read and
// writes the undo journal; a plan reads and sends no update.
func (j *job) reads(opts *batch.Options) error {
	o := j.o
	j.workload(opts)
	if mode, _ := o.readMode(); o.Validate || mode == readNone {
		return nil
	}
	opts.Getter = j.conn.Client
	if err := j.listing(opts); err != nil {
		return err
	}
	if o.Plan {
		opts.PlanOnly = true
		j.tally = newPlanTally()
		next := opts.OnResult
		opts.OnResult = func(r batch.Result) {
			j.tally.add(r)
			if next != nil {
				next(r)
			}
		}
		return nil
	}
	if j.in.undo != nil {
		// An undo file is a conditional write: --force overwrites the
		// fields changed since its run.
		opts.Force = o.Force
		return nil
	}
	u, err := j.openUndo()
	if err != nil {
		return err
	}
	if u != nil {
		j.undo = u
		opts.Undo = u
	}
	return nil
}

// finishReads prints a plan's table, or writes a run's undo file and says
// what it cannot undo.
func (j *job) finishReads(ub undoBuilt) error {
	w := j.env.Stderr
	if j.tally != nil {
		j.tally.print(w)
	}
	if j.o.Quiet {
		w = io.Discard // -q: errors and the final line only
	}
	if h := j.in.undo; h != nil && !j.o.Plan {
		sayLost(w, h.LostPINs, h.LostOther, h.Nulls)
	}
	if !ub.built {
		return nil
	}
	return j.finishUndo(w, ub)
}

// planTally counts, per column, the rows a plan found changing it and the
// most common old -> new pairs. Distinct pairs are bounded per column:
// memory does not grow with the rows.
type planTally struct {
	cols map[string]*colTally
}

type colTally struct {
	rows  int
	pairs map[string]int
	other int // rows whose pair was not kept
}

const maxPairsPerColumn = 1000

func newPlanTally() *planTally { return &planTally{cols: map[string]*colTally{}} }

func (t *planTally) add(r batch.Result) {
	if r.Status != batch.StatusChange {
		return
	}
	for _, c := range r.Changes {
		ct := t.cols[c.Field]
		if ct == nil {
			ct = &colTally{pairs: map[string]int{}}
			t.cols[c.Field] = ct
		}
		ct.rows++
		pair := report.FormatChanges([]batch.Change{c})
		pair = strings.TrimPrefix(pair, c.Field+": ")
		if _, ok := ct.pairs[pair]; ok || len(ct.pairs) < maxPairsPerColumn {
			ct.pairs[pair]++
		} else {
			ct.other++
		}
	}
}

// print writes one line per column, in schema order, with its three most
// common changes.
func (t *planTally) print(w io.Writer) {
	if len(t.cols) == 0 {
		fmt.Fprintln(w, "plan: no row changes anything")
		return
	}
	names := make([]string, 0, len(t.cols))
	for n := range t.cols {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return schema.Index(names[i]) < schema.Index(names[j]) })
	fmt.Fprintln(w, "plan: rows that change each column (most common changes):")
	for _, n := range names {
		ct := t.cols[n]
		type pc struct {
			pair string
			n    int
		}
		var ps []pc
		for p, k := range ct.pairs {
			ps = append(ps, pc{p, k})
		}
		sort.Slice(ps, func(i, j int) bool {
			if ps[i].n != ps[j].n {
				return ps[i].n > ps[j].n
			}
			return ps[i].pair < ps[j].pair
		})
		var top []string
		for i, p := range ps {
			if i == 3 {
				break
			}
			top = append(top, fmt.Sprintf("%s (%d)", p.pair, p.n))
		}
		fmt.Fprintf(w, "  %-18s %6d  %s\n", n, ct.rows, strings.Join(top, ", "))
	}
}
