package main

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/internal/conn"
	"github.com/ensbulk/ensbulk/internal/job"
)

// runOptions are the settings of run, validate and plan: the connection,
// which this command turns into a job.Conn, and the job's own.
type runOptions struct {
	connFlags
	job.Options
}

// newRunOptions are the options of a command before its flags are parsed.
func newRunOptions() *runOptions {
	return &runOptions{Options: job.Options{Now: time.Now}}
}

// addFlags declares the groups run and validate share.
func (o *runOptions) addFlags(f *pflag.FlagSet) {
	f.SortFlags = false
	o.connFlags.addFlags(f)
	addEngineFlags(f, &o.Options, defaultRate)
	addReportFlags(f, &o.Options)
	addInputFlags(f, &o.Options)
	addScheduleFlags(f, &o.Options)
	addOutputFlags(f, &o.Options)
}

func newRunCmd(env *Env) *cobra.Command {
	o := newRunOptions()
	c := &cobra.Command{
		Use:   "run FILE",
		Short: "Validate every row with the server, then apply the valid ones",
		Long: `run reads FILE (CSV or JSONL; "-" for standard input, with --report), checks
every row locally, asks the server to validate every row (validation=1,
changes nothing), then applies the rows that passed. Each finished row is
appended to the report as it happens (fsynced), so a crash loses nothing the
server acknowledged; --resume continues from the report. The report is
rewritten in row order at the end.`,
		Example: `  export ENSWITCH_URL=https://switch.example.com ENSWITCH_USER=admin
  ensbulk run changes.csv --rate 5 --workers 4
  ensbulk run changes.csv --all-or-nothing
  ensbulk run changes.csv --resume                      # after a crash or Ctrl-C
  ensbulk run changes.csv --retry-failed changes.report.csv
  ensbulk run changes.csv --resume --max-duration 2h --summary-json /var/log/ensbulk.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.useProfile(cmd.Flags(), env); err != nil {
				return job.Refused(o.jobEnv(env), &o.Options, args[0], err)
			}
			return runJob(cmd, env, o, args[0])
		},
	}
	f := c.Flags()
	o.addFlags(f)
	f.BoolVar(&o.AllOrNothing, "all-or-nothing", false, "apply nothing if any row fails validation")
	f.StringVar(&o.RetryFailed, "retry-failed", "", "rerun only the rows that are not ok in this earlier report (and later rows of the same mailboxes)")
	addReadFlags(f, &o.Options)
	addStageFlags(f, &o.Options)
	return c
}

func newValidateCmd(env *Env) *cobra.Command {
	o := newRunOptions()
	o.Validate = true
	c := &cobra.Command{
		Use:   "validate FILE",
		Short: "Have the server validate every row (changes nothing); --offline for local checks only",
		Long: `validate reads FILE and asks the server to validate every row with
validation=1: nothing is changed. Passing rows are reported "valid". With
--offline nothing is sent: the rows are checked locally and a table shows,
per column, how many rows set, keep and clear it.`,
		Example: `  ensbulk validate changes.csv
  ensbulk validate --offline changes.csv
  ensbulk validate changes.jsonl --report /tmp/check.report.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.useProfile(cmd.Flags(), env); err != nil {
				return job.Refused(o.jobEnv(env), &o.Options, args[0], err)
			}
			if o.Offline {
				return job.Offline(o.jobEnv(env), &o.Options, args[0])
			}
			return runJob(cmd, env, o, args[0])
		},
	}
	f := c.Flags()
	o.addFlags(f)
	f.BoolVar(&o.Offline, "offline", false, "local checks only: send nothing, print per-column counts")
	return c
}

func newPlanCmd(env *Env) *cobra.Command {
	o := newRunOptions()
	o.Plan = true
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
				return job.Refused(o.jobEnv(env), &o.Options, args[0], err)
			}
			return runJob(cmd, env, o, args[0])
		},
	}
	o.addFlags(c.Flags())
	addReadFlag(c.Flags(), &o.Options)
	return c
}

// runJob is run, validate and plan once their flags are parsed: the
// report-format and log-level flags say whether they were given, then
// package job does the rest.
func runJob(cmd *cobra.Command, env *Env, o *runOptions, path string) error {
	return job.Run(cmd.Context(), o.jobEnv(env), &o.Options, path)
}

// jobEnv is what a job needs of the process, and the connection of o's
// flags.
func (o *runOptions) jobEnv(env *Env) *job.Env {
	return &job.Env{
		Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr, Getenv: env.Getenv,
		StdinTerminal: env.StdinTerminal, StderrTerminal: env.StderrTerminal, StderrStamped: env.StderrStamped, AtExit: env.AtExit,
		Connect: func(log *zap.Logger) (*job.Conn, error) {
			return connect(env, &o.connFlags, o.Workers, o.Timeout, log)
		},
		ExitCode: exitCodeOf,
	}
}

// connect makes the client of c's flags and the environment; workers and
// timeout size its HTTP client.
func connect(env *Env, c *connFlags, workers int, timeout time.Duration, log *zap.Logger) (*job.Conn, error) {
	cenv := &conn.Env{Stderr: env.Stderr, Getenv: env.Getenv, StdinTerminal: env.StdinTerminal, ReadPassword: env.ReadPassword}
	return conn.Open(cenv, &conn.Settings{URL: c.url, User: c.user, PasswordFile: c.passwordFile, CAFile: c.caFile,
		Insecure: c.insecure, Auth: c.auth, Workers: workers, Timeout: timeout}, log)
}
