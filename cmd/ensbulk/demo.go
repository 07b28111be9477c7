package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/samples"
	"github.com/ensbulk/ensbulk/simulator"
)

const (
	demoUser     = "admin"
	demoPassword = "admin-demo-pass"
)

func newDemoCmd(env *Env) *cobra.Command {
	var (
		jsonl   bool
		workers int
		rate    float64
		dir     string
	)
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
			return runDemo(cmd.Context(), env, jsonl, workers, rate, dir)
		},
	}
	c.Flags().BoolVar(&jsonl, "jsonl", false, "run the JSONL twin of the sample")
	c.Flags().IntVar(&workers, "workers", 8, "concurrent requests")
	c.Flags().Float64Var(&rate, "rate", 40, "requests per second (0 = no limit)")
	c.Flags().StringVar(&dir, "dir", "", "directory for the sample and its report (default: a new temporary directory)")
	return c
}

func runDemo(ctx context.Context, env *Env, jsonl bool, workers int, rate float64, dir string) error {
	name := "changes.csv"
	if jsonl {
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
	for _, p := range []string{reportPath, report.MetaPath(reportPath)} {
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
	fmt.Fprintf(out, "input: %s (the sample shipped with ensbulk; edit it and run it yourself with 'ensbulk run')\n\n", input)

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
	runCmd := newRunCmd(&denv, false)
	runCmd.SetArgs([]string{input, "--workers", strconv.Itoa(workers), "--rate", strconv.FormatFloat(rate, 'f', -1, 64), "--log-level", "error"})
	runCmd.SetOut(env.Stdout)
	runCmd.SetErr(env.Stderr)
	runErr := runCmd.ExecuteContext(ctx)
	if runErr != nil && !errors.Is(runErr, errRows) {
		return runErr
	}

	latest, _, err := report.Latest(reportPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nrows that did not go through (from %s):\n", reportPath)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  row\tmailbox\tstatus\tphase\tcode\tkey\tmessage")
	rows := make([]int, 0, len(latest))
	for n := range latest {
		rows = append(rows, n)
	}
	sort.Ints(rows)
	checked, mismatched := 0, 0
	for _, n := range rows {
		r := latest[n]
		if r.Status != string(batch.StatusOK) {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Row, r.Mailbox, r.Status, r.Phase, dash(r.Code), dash(r.Key), r.Message)
			continue
		}
		cust, _ := strconv.Atoi(r.Customer)
		if _, ok := sim.Mailbox(cust, r.Mailbox); ok {
			checked++
		} else {
			mismatched++
		}
	}
	tw.Flush()
	fmt.Fprintf(out, "\nthe simulator holds all %d mailboxes reported ok", checked)
	if mismatched > 0 {
		fmt.Fprintf(out, " (%d reported ok but missing!)", mismatched)
	}
	fmt.Fprintln(out, ".")
	fmt.Fprintf(out, "next: ensbulk summary %s\n", reportPath)
	if mismatched > 0 {
		return fmt.Errorf("demo: %d rows reported ok are not in the simulator", mismatched)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
