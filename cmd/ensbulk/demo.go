package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ensbulk/ensbulk/internal/job"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch/schema"
	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/samples"
	"github.com/ensbulk/ensbulk/simulator"
)

const (
	demoUser     = "admin"
	demoPassword = "admin-demo-pass"
)

// demoRate is the demo's --rate: a show, on a simulator, need not be gentle.
const demoRate = 40

// demoOptions are the demo's flags; the engine group is run's, so the
// demo runs with run's defaults.
type demoOptions struct {
	job.Options // the engine's pace only
	jsonl       bool
	dir         string
}

func newDemoCmd(env *Env) *cobra.Command {
	o := &demoOptions{}
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run the sample changes against an embedded simulator and show the report",
		Long: `demo starts a simulated Enswitch server on 127.0.0.1, runs samples/changes.csv
(58 changes to two customers' mailboxes, a few of them deliberately wrong)
through validate and apply, prints the summary and the rows that did not go
through, and checks the simulator's mailboxes against the report.`,
		Example: `  ensbulk demo
  ensbulk demo --jsonl --rate 0 --workers 16
  ensbulk demo --dir /tmp/demo    # keep the input and the report there`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.CheckEngine(); err != nil {
				return err
			}
			return runDemo(cmd.Context(), env, o)
		},
	}
	f := c.Flags()
	f.SortFlags = false
	f.BoolVar(&o.jsonl, "jsonl", false, "run the JSONL twin of the sample")
	addEngineFlags(f, &o.Options, demoRate)
	f.StringVar(&o.dir, "dir", "", "directory for the sample and its report (default: a new temporary directory)")
	return c
}

func runDemo(ctx context.Context, env *Env, o *demoOptions) error {
	dir := o.dir
	name := "changes.csv"
	if o.jsonl {
		name = "changes.jsonl"
	}
	data, err := samples.FS.ReadFile(name)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ensbulk-demo-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	input := filepath.Join(dir, name)
	if err := os.WriteFile(input, data, 0o644); err != nil {
		return err
	}
	reportPath := report.DefaultPath(input, report.CSV)
	undoPath := undo.PathFor(reportPath)
	planReport := job.PlanPath(input, report.CSV)
	undoReport := strings.TrimSuffix(undoPath, undo.Ext) + ".undone.csv"
	for _, p := range []string{reportPath, report.MetaPath(reportPath), planReport, report.MetaPath(planReport),
		undoPath, undo.JournalPath(undoPath), undoReport, report.MetaPath(undoReport)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}

	sim, err := simulator.New(simulator.Config{Seed: 1})
	if err != nil {
		return err
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	out := env.Stdout
	fmt.Fprintf(out, "ensbulk demo: a simulated Enswitch server is listening on %s\n", url)
	fmt.Fprintf(out, "input: %s (the sample shipped with ensbulk; edit it and run it yourself with 'ensbulk run')\n", input)
	fmt.Fprintf(out, "6 of its 58 rows are wrong on purpose, so the run below reports them and ends with exit 1.\n\n")

	// The demo is an ordinary run: same command, same flags, same report.
	denv := *env
	denv.Getenv = func(k string) string {
		switch k {
		case "ENSWITCH_URL":
			return url
		case "ENSWITCH_USER":
			return demoUser
		case "ENSWITCH_PASSWORD":
			return demoPassword
		}
		return ""
	}
	before := sim.State()
	fmt.Fprintf(out, "1. ensbulk plan %s: what the file would change, old -> new; nothing is sent\n", name)
	planCmd := newPlanCmd(&denv)
	planCmd.SetArgs(append(append([]string{input}, engineArgs(&o.Options)...), "--log-level", "error"))
	planCmd.SetOut(env.Stdout)
	planCmd.SetErr(env.Stderr)
	planCmd.SilenceUsage, planCmd.SilenceErrors = true, true
	if err := planCmd.ExecuteContext(ctx); err != nil && !errors.Is(err, errRows) {
		return err
	}
	fmt.Fprintf(out, "\n2. ensbulk run %s: read each mailbox, write its old values to the undo file, then update\n", name)
	runCmd := newRunCmd(&denv)
	runCmd.SetArgs(append(append([]string{input}, engineArgs(&o.Options)...), "--log-level", "error"))
	runCmd.SetOut(env.Stdout)
	runCmd.SetErr(env.Stderr)
	runCmd.SilenceUsage, runCmd.SilenceErrors = true, true
	runErr := runCmd.ExecuteContext(ctx)
	if runErr != nil && !errors.Is(runErr, errRows) {
		return runErr
	}

	lr, err := report.OpenLatest(reportPath)
	if err != nil {
		return err
	}
	defer lr.Close()
	fmt.Fprintf(out, "\nrows that did not go through (from %s):\n", reportPath)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  row\tmailbox\tstatus\tphase\tcode\tkey\tmessage")
	ok := map[int]bool{} // the demo's sample is a few dozen rows
	for r, err := range lr.All() {
		if err != nil {
			return err
		}
		if r.Status == string(batch.StatusOK) {
			ok[r.Row] = true
			continue
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Row, r.Mailbox, r.Status, r.Phase, dash(r.Code), dash(r.Key), r.Message)
	}
	tw.Flush()
	checked, mismatched, err := verifyDemo(input, ok, sim)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nchecked against the simulator: %s exactly what their ok rows set", plural(checked, "mailbox holds", "mailboxes hold"))
	if mismatched > 0 {
		fmt.Fprintf(out, "; %d DO NOT", mismatched)
	}
	fmt.Fprintln(out, ".")
	if mismatched > 0 {
		return fmt.Errorf("demo: %d mailboxes differ from their ok rows", mismatched)
	}

	fmt.Fprintf(out, "\n3. ensbulk run %s: take it all back\n", filepath.Base(undoPath))
	undoCmd := newRunCmd(&denv)
	undoCmd.SetArgs(append(append([]string{undoPath}, engineArgs(&o.Options)...), "--log-level", "error"))
	undoCmd.SetOut(env.Stdout)
	undoCmd.SetErr(env.Stderr)
	undoCmd.SilenceUsage, undoCmd.SilenceErrors = true, true
	if err := undoCmd.ExecuteContext(ctx); err != nil {
		return err
	}
	// The demo server masks PINs in get, as servers commonly do: PIN
	// changes cannot be undone, everything else must be as before.
	differ := 0
	after := sim.State()
	for i, m := range before.Mailboxes {
		for k, v := range m {
			if !schema.IsSecret(k) && after.Mailboxes[i][k] != v {
				differ++
			}
		}
	}
	fmt.Fprintf(out, "\nchecked against the simulator after the undo: %d fields differ from before the run (PINs aside: the server masks them)\n", differ)
	fmt.Fprintf(out, "next: ensbulk summary %s\n", reportPath)
	if differ > 0 {
		return fmt.Errorf("demo: the undo left %d fields different from before the run", differ)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// verifyDemo replays the ok rows of the report, in file order, and checks
// that the simulator's mailboxes hold the values they set.
func verifyDemo(input string, ok map[int]bool, sim *simulator.Server) (checked, mismatched int, err error) {
	format, err := reader.DetectFormat(input, "")
	if err != nil {
		return 0, 0, err
	}
	src, c, err := reader.Open(input, reader.Options{Format: format})
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	type key struct {
		customer int
		mailbox  string
	}
	want := map[key]map[string]string{}
	for row, err := range batch.Rows(src) {
		if err != nil {
			return 0, 0, err
		}
		if !ok[row.Num] {
			continue
		}
		cust, _ := strconv.Atoi(row.Customer)
		k := key{cust, row.Mailbox}
		if want[k] == nil {
			want[k] = map[string]string{}
		}
		for _, p := range row.Params {
			want[k][p.Name] = p.Value
		}
	}
	for k, fields := range want {
		got, ok := sim.Mailbox(k.customer, k.mailbox)
		same := ok
		for f, v := range fields {
			if f != "customer" && got[f] != v {
				same = false
			}
		}
		if same {
			checked++
		} else {
			mismatched++
		}
	}
	return checked, mismatched, nil
}
