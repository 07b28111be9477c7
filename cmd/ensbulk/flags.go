package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/console"
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

// inputFlags say how to read the input file.
type inputFlags struct {
	format     *choice
	delimiter  string
	emptyToken string
}

func (in *inputFlags) addFlags(f *pflag.FlagSet) {
	in.format = newChoice("", "csv", "jsonl", "ndjson")
	f.Var(in.format, "format", "input format (default: from the file's extension)")
	f.StringVar(&in.delimiter, "delimiter", ",", "CSV field delimiter, e.g. ';' for European Excel exports")
	f.StringVar(&in.emptyToken, "empty-token", reader.DefaultEmptyToken, "CSV cell value that sets a field to empty (an empty cell keeps the current value)")
}

func (in *inputFlags) validate() error {
	if in.emptyToken == "" {
		return usageErr("--empty-token must not be empty (an empty cell already means keep)")
	}
	_, err := parseDelimiter(in.delimiter)
	return err
}

// engineFlags tune the worker pool: how many requests, how fast, how
// patiently.
type engineFlags struct {
	workers       int
	rate          float64
	timeout       time.Duration
	maxAttempts   int
	maxRetryAfter time.Duration
}

// addFlags declares the group with rate as the --rate default (the demo
// runs faster than an operator's first run should).
func (e *engineFlags) addFlags(f *pflag.FlagSet, rate float64) {
	f.IntVar(&e.workers, "workers", batch.DefaultWorkers, "concurrent requests")
	f.Float64Var(&e.rate, "rate", rate, "requests per second across both phases, smooth, no bursts (0 = no limit)")
	f.DurationVar(&e.timeout, "timeout", batch.DefaultTimeout, "timeout of one request")
	f.IntVar(&e.maxAttempts, "max-attempts", batch.DefaultMaxAttempts, "attempts per row and phase for transport faults (429/503 slow the run down instead)")
	f.DurationVar(&e.maxRetryAfter, "max-retry-after", batch.DefaultMaxRetryAfter, "longest wait a server's Retry-After may ask; a longer one stops the run (exit 5, resumable)")
}

func (e *engineFlags) validate() error {
	switch {
	case e.workers < 1 || e.workers > 1024:
		return usageErr("--workers %d: want 1 to 1024", e.workers)
	case batch.CheckRate(e.rate) != nil:
		return usageErr("%v", batch.CheckRate(e.rate))
	case e.timeout <= 0:
		return usageErr("--timeout must be positive")
	case e.maxAttempts < 1:
		return usageErr("--max-attempts must be at least 1")
	case e.maxRetryAfter <= 0:
		return usageErr("--max-retry-after must be positive")
	}
	return nil
}

// args are the flags that give another command the same settings.
func (e *engineFlags) args() []string {
	return []string{"--workers", fmt.Sprint(e.workers), "--rate", fmt.Sprint(e.rate),
		"--timeout", e.timeout.String(), "--max-attempts", fmt.Sprint(e.maxAttempts), "--max-retry-after", e.maxRetryAfter.String()}
}

// scheduleFlags bound a run in time and size; each stop is resumable.
type scheduleFlags struct {
	maxDuration time.Duration
	maxRows     int
	window      string
	windowExit  bool
}

func (s *scheduleFlags) addFlags(f *pflag.FlagSet) {
	f.DurationVar(&s.maxDuration, "max-duration", 0, "stop cleanly after this long (exit 5, resumable), e.g. 2h")
	f.IntVar(&s.maxRows, "max-rows", 0, "stop cleanly once this many rows were sent to be applied (exit 5, resumable)")
	f.StringVar(&s.window, "window", "", "only send requests inside this daily window, e.g. 01:00-05:00 or '01:00-05:00 Europe/Oslo'")
	f.BoolVar(&s.windowExit, "window-exit", false, "outside --window, exit 5 (resumable) instead of waiting for it to open")
}

func (s *scheduleFlags) validate() error {
	switch {
	case s.maxRows < 0:
		return usageErr("--max-rows must not be negative")
	case s.maxDuration < 0:
		return usageErr("--max-duration must not be negative")
	case s.windowExit && s.window == "":
		return usageErr("--window-exit needs --window")
	}
	return nil
}

// reportFlags say where the per-row report goes and how an earlier one is
// continued.
type reportFlags struct {
	report       string
	reportFormat *choice
	resume       bool
	force        bool
	rotate       bool
	summaryJSON  string
}

func (r *reportFlags) addFlags(f *pflag.FlagSet) {
	r.reportFormat = newChoice(string(report.CSV), string(report.CSV), string(report.JSONL))
	f.StringVar(&r.report, "report", "", "report path (default: changes.csv -> changes.report.csv; validate: changes.validate.report.csv)")
	f.Var(r.reportFormat, "report-format", "report format (default: --report's extension, .csv or .jsonl, else csv)")
	f.BoolVar(&r.resume, "resume", false, "continue an interrupted run from its report (starts afresh when there is no report yet)")
	f.BoolVar(&r.force, "force", false, "with --resume: accept an input file that changed since the report was started (changed rows are redone); with --retry-failed: also apply rows that were ok and were edited since")
	f.BoolVar(&r.rotate, "rotate", false, "with --resume: when the report's run finished and the input has changed (a new file each night), keep that report under a dated name and start a new one")
	f.StringVar(&r.summaryJSON, "summary-json", "", "write the final counts, rate, duration and exit code to this file as JSON")
}

// validate makes the report's extension decide its format: --report
// x.report.jsonl writes JSONL without --report-format, and a
// --report-format that contradicts the extension is refused rather than
// writing one format under the other's name. A path with another
// extension takes --report-format.
func (r *reportFlags) validate() error {
	if r.report == "" {
		return nil
	}
	f, ok := report.FormatOf(r.report)
	if !ok {
		return nil
	}
	if r.reportFormat.changed && r.reportFormat.value != string(f) {
		return usageErr("--report %s names a %s report but --report-format is %s: drop --report-format (the extension decides), or name the report with .%s", r.report, f, r.reportFormat.value, r.reportFormat.value)
	}
	r.reportFormat.value = string(f)
	return nil
}

// outputFlags shape what a run says on stderr while it goes.
type outputFlags struct {
	logLevel      *choice
	progress      *choice
	progressEvery time.Duration
	fsync         *choice
	cpuprofile    string
	quiet         bool // errors and the final line only
	verbose       bool // debug logs, one line per request
}

func (o *outputFlags) addFlags(f *pflag.FlagSet) {
	o.logLevel = newChoice("info", "debug", "info", "warn", "error")
	o.progress = newChoice("auto", "auto", "bar", "json", "none")
	o.fsync = newChoice(string(report.SyncBatch), string(report.SyncBatch), string(report.SyncNone))
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print errors and the final line only")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "debug logs, with a line per request (secrets redacted)")
	f.Var(o.logLevel, "log-level", "how much to log on stderr")
	f.Var(o.progress, "progress", "progress display; auto is a bar on a terminal, a log line every --progress-interval otherwise")
	f.DurationVar(&o.progressEvery, "progress-interval", 5*time.Second, "how often a progress log line is written (--progress json)")
	f.Var(o.fsync, "fsync", "report durability: fsync each group of results (batch) or never (none, for benchmarks)")
	_ = f.MarkHidden("fsync")
	f.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile to this file (for ensbulk-bench)")
	_ = f.MarkHidden("cpuprofile")
}

// level is the log level that -q, -v and --log-level ask for.
func (o *outputFlags) level() (zapcore.Level, error) {
	switch {
	case o.quiet && o.verbose:
		return 0, usageErr("-q and -v do not go together")
	case (o.quiet || o.verbose) && o.logLevel.changed:
		return 0, usageErr("--log-level does not go with -q or -v")
	case o.quiet:
		return zapcore.ErrorLevel, nil
	case o.verbose:
		return zapcore.DebugLevel, nil
	}
	lvl, err := zapcore.ParseLevel(o.logLevel.String())
	if err != nil {
		return 0, usageErr("--log-level %q: want debug, info, warn or error", o.logLevel)
	}
	return lvl, nil
}

// progressMode is --progress with auto decided: a bar where one can be
// drawn, log lines elsewhere, nothing with -q.
func (o *outputFlags) progressMode(st console.Style) console.Mode {
	mode := o.progress.String()
	if mode != "auto" {
		return console.Mode(mode)
	}
	switch {
	case o.quiet:
		return console.ModeNone
	case st.Bar:
		return console.ModeBar
	}
	return console.ModeLog
}

// newProgress is the progress of a run, as its flags ask, on the bar's
// side of m.
func (o *outputFlags) newProgress(m *console.Mux, st console.Style, log *zap.Logger) *console.Progress {
	return console.NewProgress(o.progressMode(st), o.progressEvery, m.Bar(), log)
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
	value   string
	allowed []string
	changed bool // set on the command line
}

func newChoice(def string, allowed ...string) *choice {
	return &choice{value: def, allowed: allowed}
}

func (c *choice) String() string { return c.value }

// Type is what --help shows in place of a value: the choices.
func (c *choice) Type() string { return strings.Join(c.allowed, "|") }

// Set accepts one of the choices.
func (c *choice) Set(s string) error {
	s = strings.ToLower(s)
	if !slices.Contains(c.allowed, s) {
		return fmt.Errorf("want %s", orList(c.allowed))
	}
	c.value, c.changed = s, true
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
