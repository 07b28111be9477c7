package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ensbulk/ensbulk/internal/demo"
	"github.com/ensbulk/ensbulk/internal/job"
)

// demoRate is the demo's --rate: a show, on a simulator, need not be gentle.
const demoRate = 40

// demoOptions are the demo's flags; the engine group is run's, so the
// demo runs with run's defaults.
type demoOptions struct {
	pace job.Options // the engine's flags only
	demo.Options
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
			if err := o.pace.CheckEngine(); err != nil {
				return err
			}
			o.Args = engineArgs(&o.pace)
			denv := &demo.Env{Stdout: env.Stdout, Plan: demoCommand(env, newPlanCmd), Run: demoCommand(env, newRunCmd)}
			return demo.Run(cmd.Context(), denv, &o.Options)
		},
	}
	f := c.Flags()
	f.SortFlags = false
	f.BoolVar(&o.JSONL, "jsonl", false, "run the JSONL twin of the sample")
	addEngineFlags(f, &o.pace, demoRate)
	f.StringVar(&o.Dir, "dir", "", "directory for the sample and its report (default: a new temporary directory)")
	return c
}

// demoCommand is the command newCmd makes, run as the demo's step: env's
// streams, the demo server's environment.
func demoCommand(env *Env, newCmd func(*Env) *cobra.Command) demo.Command {
	return func(ctx context.Context, getenv func(string) string, args []string) error {
		denv := *env
		denv.Getenv = getenv
		c := newCmd(&denv)
		c.SetArgs(args)
		c.SetOut(env.Stdout)
		c.SetErr(env.Stderr)
		c.SilenceUsage, c.SilenceErrors = true, true
		return c.ExecuteContext(ctx)
	}
}
