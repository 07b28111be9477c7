package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
)

// runOptions are the flags of run and validate.
type runOptions struct {
	validate bool

	url, user, passwordFile, caFile string
	insecure                        bool

	workers     int
	rate        float64
	timeout     time.Duration
	maxAttempts int

	report, reportFormat string
	format, delimiter    string
	emptyToken           string
	allOrNothing         bool
	offline              bool
	resume, force        bool
	retryFailed          string

	logLevel      string
	progress      string
	progressEvery time.Duration
	fsync         string
	cpuprofile    string // hidden: for ensbulk-bench

	maxDuration time.Duration
	maxRows     int
	window      string
	windowExit  bool
	summaryJSON string

	now func() time.Time // injected clock (tests); time.Now otherwise
}

func newRunCmd(env *Env, validate bool) *cobra.Command {
	o := &runOptions{validate: validate, now: time.Now}
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
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if validate {
		c.Use = "validate FILE"
		c.Short = "Have the server validate every row (changes nothing); --offline for local checks only"
		c.Long = `validate reads FILE and asks the server to validate every row with
validation=1: nothing is changed. Passing rows are reported "valid". With
--offline nothing is sent: the rows are checked locally and a table shows,
per column, how many rows set, keep and clear it.`
		c.Example = `  ensbulk validate changes.csv
  ensbulk validate --offline changes.csv
  ensbulk validate changes.jsonl --report /tmp/check.report.csv`
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return runBatch(cmd.Context(), env, o, args[0])
	}
	f := c.Flags()
	f.SortFlags = false
	f.StringVar(&o.url, "url", "", "server base URL, e.g. https://switch.example.com (env ENSWITCH_URL)")
	f.StringVar(&o.user, "user", "", "API username (env ENSWITCH_USER)")
	f.StringVar(&o.passwordFile, "password-file", "", "read the API password from this file (else env ENSWITCH_PASSWORD, else a prompt on a terminal)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of CA certificates to trust instead of the system's")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify the server's TLS certificate (dangerous: the password can be intercepted)")
	f.IntVar(&o.workers, "workers", 8, "concurrent requests")
	f.Float64Var(&o.rate, "rate", 10, "requests per second across both phases, smooth, no bursts (0 = no limit)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one request")
	// 8, not 5: against a server with 8% transport faults per request
	// (the fault soak's mix), 5 tries left some row in error in one
	// 10,000-row run out of twenty; 8 tries, in one out of ~40,000, for
	// ~15s more backoff on a row that never succeeds.
	f.IntVar(&o.maxAttempts, "max-attempts", 8, "attempts per row and phase for transport faults (429/503 slow the run down instead)")
	f.StringVar(&o.report, "report", "", "report path (default: the input's name with .report.csv or .report.jsonl)")
	f.StringVar(&o.reportFormat, "report-format", "csv", "report format: csv or jsonl")
	f.StringVar(&o.format, "format", "", "input format: csv or jsonl (default: from the file's extension)")
	f.StringVar(&o.delimiter, "delimiter", ",", "CSV field delimiter, e.g. ';' for European Excel exports")
	f.StringVar(&o.emptyToken, "empty-token", "<empty>", "CSV cell value that sets a field to empty (an empty cell keeps the current value)")
	if validate {
		f.BoolVar(&o.offline, "offline", false, "local checks only: send nothing, print per-column counts")
	} else {
		f.BoolVar(&o.allOrNothing, "all-or-nothing", false, "apply nothing if any row fails validation")
		f.StringVar(&o.retryFailed, "retry-failed", "", "rerun only the rows that are not ok in this earlier report (and later rows of the same mailboxes)")
	}
	f.BoolVar(&o.resume, "resume", false, "continue an interrupted run from its report (starts afresh when there is no report yet)")
	f.BoolVar(&o.force, "force", false, "with --resume: accept an input file that changed since the report was started (changed rows are redone)")
	f.DurationVar(&o.maxDuration, "max-duration", 0, "stop cleanly after this long (exit 5, resumable), e.g. 2h")
	f.IntVar(&o.maxRows, "max-rows", 0, "stop cleanly after starting this many rows (exit 5, resumable)")
	f.StringVar(&o.window, "window", "", "only send requests inside this daily window, e.g. 01:00-05:00 or '01:00-05:00 Europe/Oslo'")
	f.BoolVar(&o.windowExit, "window-exit", false, "outside --window, exit 5 (resumable) instead of waiting for it to open")
	f.StringVar(&o.summaryJSON, "summary-json", "", "write the final counts, rate, duration and exit code to this file as JSON")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.progress, "progress", "auto", "auto (a bar on a terminal, JSON lines otherwise), bar, json or none")
	f.DurationVar(&o.progressEvery, "progress-interval", 5*time.Second, "how often a JSON progress line is written")
	f.StringVar(&o.fsync, "fsync", "batch", "report durability: batch (fsync each group of results) or none (for benchmarks)")
	_ = f.MarkHidden("fsync")
	f.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile to this file (for ensbulk-bench)")
	_ = f.MarkHidden("cpuprofile")
	return c
}

func (o *runOptions) check() error {
	switch {
	case o.workers < 1 || o.workers > 1024:
		return usageErr("--workers %d: want 1 to 1024", o.workers)
	case o.rate < 0:
		return usageErr("--rate %g: want 0 (no limit) or more", o.rate)
	case o.timeout <= 0:
		return usageErr("--timeout must be positive")
	case o.maxAttempts < 1:
		return usageErr("--max-attempts must be at least 1")
	case o.maxRows < 0:
		return usageErr("--max-rows must not be negative")
	case o.maxDuration < 0:
		return usageErr("--max-duration must not be negative")
	case o.resume && o.retryFailed != "":
		return usageErr("--resume and --retry-failed do not go together: --retry-failed writes a new report")
	case o.windowExit && o.window == "":
		return usageErr("--window-exit needs --window")
	case o.fsync != string(report.SyncBatch) && o.fsync != string(report.SyncNone):
		return usageErr("--fsync %q: want batch or none", o.fsync)
	}
	if o.emptyToken == "" {
		return usageErr("--empty-token must not be empty (an empty cell already means keep)")
	}
	if _, err := parseDelimiter(o.delimiter); err != nil {
		return err
	}
	switch o.progress {
	case "auto", "bar", "json", "none":
	default:
		return usageErr("--progress %q: want auto, bar, json or none", o.progress)
	}
	return nil
}

func parseDelimiter(s string) (rune, error) {
	switch s {
	case `\t`, "tab":
		return '\t', nil
	}
	r := []rune(s)
	if len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
		return 0, usageErr("--delimiter %q: want one character such as ',' ';' or tab", s)
	}
	return r[0], nil
}

// input is the file being run, and how to read it again and again.
type input struct {
	path   string // as given
	file   string // the file read ("-" spooled to a temporary file)
	name   string // for messages
	opts   reader.Options
	sha256 string
	size   int64
	mtime  time.Time
}

func openInput(env *Env, o *runOptions, path string) (*input, func(), error) {
	cleanup := func() {}
	in := &input{path: path, file: path, name: path}
	fmtName, err := reader.DetectFormat(path, o.format)
	if err != nil {
		return nil, cleanup, &exitError{code: exitUsage, err: err}
	}
	delim, _ := parseDelimiter(o.delimiter)
	if path == "-" {
		// Standard input is read several times (a check of every row
		// before anything is sent, then one pass per phase): keep a
		// private copy.
		tmp, err := os.CreateTemp("", "ensbulk-stdin-*")
		if err != nil {
			return nil, cleanup, err
		}
		cleanup = func() { os.Remove(tmp.Name()) }
		if _, err := io.Copy(tmp, env.Stdin); err != nil {
			tmp.Close()
			return nil, cleanup, fmt.Errorf("read standard input: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return nil, cleanup, err
		}
		in.file, in.name = tmp.Name(), "stdin"
	}
	in.opts = reader.Options{Name: in.name, Format: fmtName, EmptyToken: o.emptyToken, Delimiter: delim}
	f, err := os.Open(in.file)
	if err != nil {
		return nil, cleanup, &exitError{code: exitUsage, err: fmt.Errorf("input: %w", err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, cleanup, err
	}
	if st.IsDir() {
		return nil, cleanup, usageErr("input %s is a directory", path)
	}
	in.size, in.mtime = st.Size(), st.ModTime()
	if o.offline {
		return in, cleanup, nil // no report to tie to the input: skip reading it twice
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, cleanup, &exitError{code: exitUsage, err: fmt.Errorf("input %s: %w", path, err)}
	}
	in.sha256 = hex.EncodeToString(h.Sum(nil))
	return in, cleanup, nil
}

// opener reads the input from the start; it refuses a file that changed
// since it was hashed (the passes must see the same rows).
func (in *input) opener() batch.Opener {
	return func() (batch.Source, io.Closer, error) {
		st, err := os.Stat(in.file)
		if err != nil {
			return nil, nil, err
		}
		if st.Size() != in.size || !st.ModTime().Equal(in.mtime) {
			return nil, nil, fmt.Errorf("input %s changed during the run", in.name)
		}
		f, err := os.Open(in.file)
		if err != nil {
			return nil, nil, err
		}
		r, err := reader.New(f, in.opts)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return r, f, nil
	}
}

func runBatch(ctx context.Context, env *Env, o *runOptions, path string) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	in, cleanup, err := openInput(env, o, path)
	defer cleanup()
	if err != nil {
		return err
	}
	if o.offline {
		return runOffline(env, in)
	}

	errw := &lockedWriter{w: env.Stderr}
	log, err := newLogger(errw, env.StderrTerminal, o.logLevel)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	// Everything that can be refused is refused before anything is sent:
	// flags, connection settings, the input file as a whole, the report.
	conn, err := connect(env, o, log)
	if err != nil {
		return err
	}
	win, err := parseWindow(o.window, o.now)
	if err != nil {
		return err
	}
	rf, err := report.ParseFormat(o.reportFormat)
	if err != nil {
		return usageErr("--report-format: %v", err)
	}
	reportPath := o.report
	if reportPath == "" {
		if path == "-" {
			return usageErr("reading standard input needs --report PATH")
		}
		reportPath = report.DefaultPath(path, rf)
		if o.retryFailed != "" && sameFile(reportPath, o.retryFailed) {
			reportPath = nextRetryPath(path, rf)
		}
	}
	lock, err := acquireLock(reportPath)
	if err != nil {
		return err
	}
	defer lock.release()

	plan, err := planRun(in, o, reportPath, rf)
	if err != nil {
		return err
	}
	if !plan.Resuming {
		// The sidecar goes first: a report without one cannot be resumed.
		if err := report.WriteMeta(reportPath, plan.Meta); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("report sidecar: %w", err)}
		}
	}
	journal, err := report.OpenJournal(reportPath, rf, report.SyncPolicy(o.fsync))
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	closeJournal := func() error { return journal.Close() }
	defer func() {
		if closeJournal != nil {
			_ = closeJournal()
		}
	}()
	if err := plan.Seed(journal); err != nil {
		return err
	}

	prog := newProgress(errw, env.StderrTerminal, o, log)
	bopts := batch.Options{
		Workers: o.workers, Rate: o.rate, MaxAttempts: o.maxAttempts, Timeout: o.timeout,
		ValidateOnly: o.validate, AllOrNothing: o.allOrNothing,
		Todo: plan.Todo, MaxRows: o.maxRows,
		OnResult: logNotApplied(log), OnProgress: prog.update, Now: o.now,
	}
	started := o.now()
	bopts.Gate = gate(o, win, started)
	log.Info("run starting", zap.String("input", in.name), zap.String("report", reportPath),
		zap.String("url", conn.url), zap.String("user", conn.user), zap.Int("workers", o.workers),
		zap.Float64("rate", o.rate), zap.Bool("validate_only", o.validate), zap.Bool("resume", plan.Resuming),
		zap.Int("resumed_rows_done", plan.Done))

	sum, runErr := batch.Run(ctx, in.opener(), conn.client, journal, bopts)
	prog.finish()
	if se := (*batch.SinkError)(nil); errors.As(runErr, &se) {
		_ = closeJournal() // fails the same way: one message says it
		closeJournal = nil
		return &exitError{code: exitInternal, err: fmt.Errorf("%w: stopped sending (requests in flight finished; their results are not in the report). "+
			"Make the report writable again (free space, or restore its directory), then rerun with --resume: rows it holds are not sent again", se.Err)}
	}
	var fe *reader.FileError
	if sum == nil || errors.As(runErr, &fe) {
		// A file-level error: nothing was sent. Leave no empty report behind.
		closeJournal()
		closeJournal = nil
		if !plan.Resuming && plan.Seeded == 0 {
			os.Remove(reportPath)
			os.Remove(report.MetaPath(reportPath))
		}
		if runErr == nil {
			runErr = errors.New("run failed")
		}
		var fe *reader.FileError
		if errors.As(runErr, &fe) {
			return &exitError{code: exitUsage, err: fmt.Errorf("%w (nothing was sent)", runErr)}
		}
		return runErr
	}
	err = closeJournal()
	closeJournal = nil
	var counts *report.Counts
	if err == nil {
		counts, err = report.FinalizeCount(reportPath, rf)
	}
	if err != nil {
		return &exitError{code: exitInternal, err: fmt.Errorf("report %s: %w", reportPath, err)}
	}
	code := outcomeCode(counts, runErr)
	printSummary(env.Stderr, o, sum, counts, reportPath, in, code, runErr)
	if o.summaryJSON != "" {
		if err := writeSummaryJSON(o.summaryJSON, o, sum, counts, reportPath, in.path, code, started, o.now(), runErr); err != nil {
			log.Error("summary JSON not written", zap.Error(err))
			if code == exitOK || code == exitRows {
				return &exitError{code: exitInternal, err: err}
			}
		}
	}
	if runErr != nil {
		var se *batch.StopError
		if errors.As(runErr, &se) {
			return runErr
		}
		return &exitError{code: exitInternal, err: runErr}
	}
	if code == exitRows {
		return errRows
	}
	return nil
}

// outcomeCode is the exit code of a run that wrote its report.
func outcomeCode(c *report.Counts, runErr error) int {
	var se *batch.StopError
	if errors.As(runErr, &se) {
		if se.Kind == batch.StopBudget {
			return exitStopped
		}
		return exitAborted
	}
	if runErr != nil {
		return exitInternal
	}
	if c.Rows-c.ByStatus[batch.StatusOK]-c.ByStatus[batch.StatusValid] > 0 {
		return exitRows
	}
	return exitOK
}

func sameFile(a, b string) bool {
	ea, err1 := filepath.Abs(a)
	eb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && ea == eb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// nextRetryPath picks changes.retry1.report.csv, retry2, ... so a retry
// never overwrites the report it retries.
func nextRetryPath(input string, f report.Format) string {
	ext := filepath.Ext(input)
	base := strings.TrimSuffix(input, ext)
	for i := 1; ; i++ {
		p := fmt.Sprintf("%s.retry%d.report.%s", base, i, f)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
}

// conn is a ready client and what may be said about it.
type conn struct {
	url, user string
	client    *enswitch.Client
}

func connect(env *Env, o *runOptions, log *zap.Logger) (*conn, error) {
	u := firstNonEmpty(o.url, env.Getenv("ENSWITCH_URL"))
	user := firstNonEmpty(o.user, env.Getenv("ENSWITCH_USER"))
	if u == "" {
		return nil, usageErr("no server URL: pass --url or set ENSWITCH_URL")
	}
	if user == "" {
		return nil, usageErr("no API user: pass --user or set ENSWITCH_USER")
	}
	pw, err := password(env, o, u, user)
	if err != nil {
		return nil, err
	}
	var pool *x509.CertPool
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, usageErr("--ca-file: %v", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageErr("--ca-file %s: no PEM certificates in it", o.caFile)
		}
	}
	if o.insecure {
		fmt.Fprintln(env.Stderr, "ensbulk: WARNING: --insecure: the server's TLS certificate is NOT verified; anyone on the path can read the API password and change mailboxes")
		log.Warn("TLS certificate verification disabled by --insecure")
	}
	if strings.HasPrefix(strings.ToLower(u), "http://") && !isLoopbackURL(u) {
		log.Warn("plain http to a non-loopback server: the API password crosses the network unencrypted", zap.String("url", u))
	}
	hc := enswitch.NewHTTPClient(enswitch.HTTPOptions{Workers: o.workers, Timeout: o.timeout, CAPool: pool, Insecure: o.insecure})
	cl, err := enswitch.New(enswitch.Config{BaseURL: u, Username: user, Password: pw, HTTPClient: hc})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return &conn{url: u, user: user, client: cl}, nil
}

func password(env *Env, o *runOptions, u, user string) (string, error) {
	if o.passwordFile != "" {
		st, err := os.Stat(o.passwordFile)
		if err != nil {
			return "", usageErr("--password-file: %v", err)
		}
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			return "", usageErr("--password-file: %v", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", usageErr("--password-file %s is empty", o.passwordFile)
		}
		if st.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(env.Stderr, "ensbulk: warning: %s is readable by other users (mode %v); chmod 600 it\n", o.passwordFile, st.Mode().Perm())
		}
		return pw, nil
	}
	if pw := env.Getenv("ENSWITCH_PASSWORD"); pw != "" {
		return pw, nil
	}
	if env.StdinTerminal != nil && env.StdinTerminal() && env.ReadPassword != nil {
		fmt.Fprintf(env.Stderr, "Password for %s at %s: ", user, u)
		b, err := env.ReadPassword()
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", usageErr("read password: %v", err)
		}
		if len(b) == 0 {
			return "", usageErr("empty password")
		}
		return string(b), nil
	}
	return "", usageErr("no password: set ENSWITCH_PASSWORD, pass --password-file FILE, or run on a terminal to be prompted")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func isLoopbackURL(u string) bool {
	rest := strings.TrimPrefix(strings.ToLower(u), "http://")
	return strings.HasPrefix(rest, "127.") || strings.HasPrefix(rest, "localhost") || strings.HasPrefix(rest, "[::1]")
}

// gate stops the run resumably at --max-duration or the end of --window,
// and holds requests while the window is closed.
func gate(o *runOptions, win *window, started time.Time) func(context.Context) error {
	if o.maxDuration == 0 && win == nil {
		return nil
	}
	return func(ctx context.Context) error {
		now := o.now()
		if o.maxDuration > 0 && now.Sub(started) >= o.maxDuration {
			return &batch.StopError{Kind: batch.StopBudget, Reason: fmt.Sprintf("--max-duration %s reached", o.maxDuration)}
		}
		if win == nil {
			return nil
		}
		return win.gate(ctx, started, o.windowExit)
	}
}
