package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch/schema"
	"github.com/ensbulk/ensbulk/report"
)

// readFlags are the settings of the read before each update: run's
// --no-read and --undo, and whether the command is plan.
type readFlags struct {
	noRead   bool
	read     string // --read: auto, list, get or none (readmode.go)
	undoPath string
	plan     bool

	tally    *planTally      // plan: what the rows change, per column
	estimate *batch.Workload // what the engine said the run would send (readmode.go)
}

func (r *readFlags) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&r.noRead, "no-read", false, "do not read each mailbox before its update: every valid row is sent (2 requests a row instead of up to 3), no row is reported unchanged, and no undo file is written; the same as --read none")
	r.addReadFlag(f)
	f.StringVar(&r.undoPath, "undo", "", "undo file path, *.jsonl (default: the report's name with .undo.jsonl; a retry adds to the undo file of the run it retries)")
}

// planPath is a plan's default report: changes.csv -> changes.plan.csv,
// changes.jsonl -> changes.jsonl.plan.csv, so that inputs that differ
// only by extension do not share one (as run's reports do not).
func planPath(input string, rf report.Format) string {
	if ext := filepath.Ext(input); strings.EqualFold(ext, ".csv") {
		input = strings.TrimSuffix(input, ext)
	}
	return input + ".plan." + string(rf)
}

func newPlanCmd(env *Env) *cobra.Command {
	o := &runOptions{now: time.Now}
	o.plan = true
	c := &cobra.Command{
		Use:   "plan FILE",
		Short: "Show what FILE would change, old -> new, without changing anything",
		Long: `plan checks every row of FILE locally, reads the current values (one
mailboxes/list for each customer with many rows, see --read; else
mailboxes/get of each row's mailbox), has the server validate the rows
that change something (validation=1), and reports what each row would
change: status change (with "field: old -> new" for every field, a PIN
only as "pin: changed") or unchanged. No update is sent. Before it starts
it says how many requests it will send and how long that takes at --rate.
Several rows of one mailbox are compared against what the earlier rows
would leave. The report goes to FILE's name with .plan.csv; the terminal
shows, per column, how many rows change it and the most common changes.
Exit 0 when every row is change or unchanged, 1 otherwise.`,
		Example: `  ensbulk plan changes.csv
  ensbulk export --customer 100 > box.csv && ensbulk plan box.csv   # all unchanged, 1 list
  ensbulk plan changes.csv --read get                               # a get of every row`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.useProfile(cmd.Flags(), env); err != nil {
				return refusedBeforeRun(env, o, args[0], err)
			}
			return runBatch(cmd.Context(), env, o, args[0])
		},
	}
	o.addFlags(c.Flags())
	o.addReadFlag(c.Flags())
	return c
}

// reads sets the engine's read options: a run reads unless --no-read and
// writes the undo journal; a plan reads and sends no update.
func (j *job) reads(opts *batch.Options) error {
	o := j.o
	j.workload(opts)
	if mode, _ := o.readMode(); o.validate || mode == readNone {
		return nil
	}
	opts.Reader = j.conn.client
	if err := j.listing(opts); err != nil {
		return err
	}
	if o.plan {
		opts.PlanOnly = true
		o.tally = newPlanTally()
		next := opts.OnResult
		opts.OnResult = func(r batch.Result) {
			o.tally.add(r)
			if next != nil {
				next(r)
			}
		}
		return nil
	}
	if j.in.undo != nil {
		// An undo file is a conditional write: --force overwrites the
		// fields changed since its run.
		opts.Force = o.force
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
func (j *job) finishReads() error {
	w := j.env.Stderr
	if j.o.tally != nil {
		j.o.tally.print(w)
	}
	if j.o.quiet {
		w = io.Discard // -q: errors and the final line only
	}
	if h := j.in.undo; h != nil && !j.o.plan {
		sayLost(w, h.LostPINs, h.LostOther, h.Nulls)
	}
	if j.undo == nil {
		return nil
	}
	return j.finishUndo(w)
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
