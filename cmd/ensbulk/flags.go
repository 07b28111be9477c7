package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
)

// The flags of run and validate come in groups, each declared once with
// its defaults; a command adds the groups it needs. An engine default
// lives in batch (Default*), the input's in reader.

// defaultRate is --rate: gentle enough for a production switch.
const defaultRate = 10

// connFlags say which server to talk to, as whom, and how to trust it.
// The password has no flag: argv is visible to every user of the machine.
// A named profile (--profile, --config) can stand in for any of them:
// useProfile fills the ones the command line left unset.
type connFlags struct {
	url, user, passwordFile, caFile string
	insecure                        bool
	auth                            string // "" = ENSWITCH_AUTH, else auto
	profiles                        profileOptions
}

func (c *connFlags) addFlags(f *pflag.FlagSet) {
	c.profiles.addFlags(f)
	f.StringVar(&c.url, "url", "", "server base URL, e.g. https://switch.example.com (env ENSWITCH_URL)")
	f.StringVar(&c.user, "user", "", "API username (env ENSWITCH_USER)")
	f.StringVar(&c.passwordFile, "password-file", "", "read the API password from this file (else env ENSWITCH_PASSWORD, else a prompt on a terminal)")
	f.StringVar(&c.caFile, "ca-file", "", "PEM file of CA certificates to trust instead of the system's")
	f.BoolVar(&c.insecure, "insecure", false, "do not verify the server's TLS certificate (dangerous: the password can be intercepted)")
	authFlag(f, &c.auth)
}

// authFlag registers --auth on f; its value goes to *p.
func authFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "auth", "", "authentication: auto (a token where the server issues them, else the password), token or password (env ENSWITCH_AUTH; default auto)")
}

// useProfile applies the chosen profile (internal/profile, through
// profileflags.go) to the flags of fs that the command line did not set.
// It runs after parsing, in RunE, so that a flag always wins.
func (c *connFlags) useProfile(fs *pflag.FlagSet, env *Env) error {
	p, err := loadProfile(c.profiles, env.Getenv, env.userConfigDir)
	if err != nil {
		return err
	}
	return applyProfile(fs, p, env.Getenv)
}

// addInputFlags declares how to read the input file.
func addInputFlags(f *pflag.FlagSet, o *job.Options) {
	f.Var(newChoice(&o.Format, nil, "", "csv", "jsonl", "ndjson"), "format", "input format (default: from the file's extension)")
	f.StringVar(&o.Delimiter, "delimiter", ",", "CSV field delimiter, e.g. ';' for European Excel exports")
	f.StringVar(&o.EmptyToken, "empty-token", reader.DefaultEmptyToken, "CSV cell value that sets a field to empty (an empty cell keeps the current value)")
}

// addEngineFlags declares the worker pool's flags (how many requests, how
// fast, how patiently) with rate as the --rate default (the demo runs
// faster than an operator's first run should).
func addEngineFlags(f *pflag.FlagSet, o *job.Options, rate float64) {
	f.IntVar(&o.Workers, "workers", batch.DefaultWorkers, "concurrent requests")
	f.Float64Var(&o.Rate, "rate", rate, "requests per second across both phases, smooth, no bursts (0 = no limit)")
	f.DurationVar(&o.Timeout, "timeout", batch.DefaultTimeout, "timeout of one request")
	f.IntVar(&o.MaxAttempts, "max-attempts", batch.DefaultMaxAttempts, "attempts per row and phase for transport faults (429/503 slow the run down instead)")
	f.DurationVar(&o.MaxRetryAfter, "max-retry-after", batch.DefaultMaxRetryAfter, "longest wait a server's Retry-After may ask; a longer one stops the run (exit 5, resumable)")
}

// engineArgs are the flags that give another command the same pace.
func engineArgs(o *job.Options) []string {
	return []string{"--workers", fmt.Sprint(o.Workers), "--rate", fmt.Sprint(o.Rate),
		"--timeout", o.Timeout.String(), "--max-attempts", fmt.Sprint(o.MaxAttempts), "--max-retry-after", o.MaxRetryAfter.String()}
}

// addScheduleFlags declares the bounds of a run in time and size; each
// stop is resumable.
func addScheduleFlags(f *pflag.FlagSet, o *job.Options) {
	f.DurationVar(&o.MaxDuration, "max-duration", 0, "stop cleanly after this long (exit 5, resumable), e.g. 2h")
	f.IntVar(&o.MaxRows, "max-rows", 0, "stop cleanly once this many rows were sent to be applied (exit 5, resumable)")
	f.StringVar(&o.Window, "window", "", "only send requests inside this daily window, e.g. 01:00-05:00 or '01:00-05:00 Europe/Oslo'")
	f.BoolVar(&o.WindowExit, "window-exit", false, "outside --window, exit 5 (resumable) instead of waiting for it to open")
}

// addReportFlags declares where the per-row report goes and how an
// earlier one is continued.
func addReportFlags(f *pflag.FlagSet, o *job.Options) {
	f.StringVar(&o.Report, "report", "", "report path (default: changes.csv -> changes.report.csv; validate: changes.validate.report.csv)")
	f.Var(newChoice(&o.ReportFormat, &o.ReportFormatSet, string(report.CSV), string(report.CSV), string(report.JSONL)), "report-format", "report format (default: --report's extension, .csv or .jsonl, else csv)")
	f.BoolVar(&o.Resume, "resume", false, "continue an interrupted run from its report (starts afresh when there is no report yet)")
	f.BoolVar(&o.Force, "force", false, "with --resume: accept an input file that changed since the report was started (changed rows are redone); with --retry-failed: also apply rows that were ok and were edited since")
	f.BoolVar(&o.Rotate, "rotate", false, "with --resume: when the report's run finished and the input has changed (a new file each night), keep that report under a dated name and start a new one")
	f.IntVar(&o.Keep, "keep", 0, "with --rotate: keep only the N newest reports set aside (with their sidecars and undo files); 0 keeps them all")
	f.StringVar(&o.SummaryJSON, "summary-json", "", "write the final counts, rate, duration and exit code to this file as JSON")
}

// addOutputFlags declares what a run says on stderr while it goes.
func addOutputFlags(f *pflag.FlagSet, o *job.Options) {
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print errors and the final line only")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "debug logs, with a line per request (secrets redacted)")
	f.Var(newChoice(&o.LogLevel, &o.LogLevelSet, "info", "debug", "info", "warn", "error"), "log-level", "how much to log on stderr")
	f.Var(newChoice(&o.Progress, nil, "auto", "auto", "bar", "json", "none"), "progress", "progress display; auto is a bar on a terminal, a log line every --progress-interval otherwise")
	f.DurationVar(&o.ProgressEvery, "progress-interval", 5*time.Second, "how often a progress log line is written (--progress json)")
	f.Var(newChoice(&o.Fsync, nil, string(report.SyncBatch), string(report.SyncBatch), string(report.SyncNone)), "fsync", "report durability: fsync each group of results (batch) or never (none, for benchmarks)")
	_ = f.MarkHidden("fsync")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile to this file (for ensbulk-bench)")
	_ = f.MarkHidden("cpuprofile")
}

// addReadFlags declares run's --no-read, --read and --undo.
func addReadFlags(f *pflag.FlagSet, o *job.Options) {
	f.BoolVar(&o.NoRead, "no-read", false, "do not read each mailbox before its update: every valid row is sent (2 requests a row instead of up to 3), no row is reported unchanged, and no undo file is written; the same as --read none")
	addReadFlag(f, o)
	f.StringVar(&o.UndoPath, "undo", "", "undo file path, *.jsonl (default: the report's name with .undo.jsonl; a retry adds to the undo file of the run it retries)")
}

// addReadFlag declares --read (docs/operating-cost.md).
func addReadFlag(f *pflag.FlagSet, o *job.Options) {
	f.StringVar(&o.Read, "read", "auto", "how current values are read before writing: auto (one mailboxes/list for each customer with "+
		strconv.Itoa(job.AutoListRows)+" rows or more, get for the rest), list (every customer), get (each row's mailbox, just before its update), none (as --no-read; not for plan). "+
		"With list, unchanged rows cost no request; a changed row is still read by get just before its update")
}

// addStageFlags declares run's staging flags: --canary, --max-failures,
// --verify and --plan.
func addStageFlags(f *pflag.FlagSet, o *job.Options) {
	f.IntVar(&o.Canary, "canary", 0, "apply only the first N valid rows (spread over the customers), read them back and stop (exit 5) for a look; --resume goes on with the rest")
	f.StringVar(&o.MaxFailures, "max-failures", "", fmt.Sprintf("stop sending (exit 5, resumable) once more than N rows, or P%% of the rows sent (after %d sent), fail at apply: N or P%%", batch.DefaultFailureSample))
	f.BoolVar(&o.Verify, "verify", false, "read each mailbox back after its update: a value the server did not keep is reported mismatch")
	f.StringVar(&o.FromPlan, "plan", "", "apply exactly the changes of this plan report (ensbulk plan FILE): only where the switch still holds the plan's old values")
}

// styleOf is what env's stderr can show.
func styleOf(env *Env) console.Style {
	st := console.StyleOf(env.StderrTerminal, env.Getenv)
	st.Stamped = env.StderrStamped && !env.StderrTerminal
	return st
}

// choice is a flag with a fixed set of values (any case): a wrong one is
// refused while the command line is parsed, and shell completion offers
// the set.
type choice struct {
	value   *string
	allowed []string
	changed *bool // set on the command line; nil: nobody asks
}

// newChoice is a choice flag that writes its value to *p (def until
// set) and, when changed is not nil, true to *changed once set.
func newChoice(p *string, changed *bool, def string, allowed ...string) *choice {
	*p = def
	return &choice{value: p, allowed: allowed, changed: changed}
}

func (c *choice) String() string { return *c.value }

// Type is what --help shows in place of a value: the choices.
func (c *choice) Type() string { return strings.Join(c.allowed, "|") }

// Set accepts one of the choices.
func (c *choice) Set(s string) error {
	s = strings.ToLower(s)
	if !slices.Contains(c.allowed, s) {
		return fmt.Errorf("want %s", orList(c.allowed))
	}
	*c.value = s
	if c.changed != nil {
		*c.changed = true
	}
	return nil
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// completeChoices has shell completion offer the values of every choice
// flag of c.
func completeChoices(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if ch, ok := f.Value.(*choice); ok {
			_ = c.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return ch.allowed, cobra.ShellCompDirectiveNoFileComp
			})
		}
	})
}
