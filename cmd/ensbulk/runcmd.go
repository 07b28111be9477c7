package main

import (
	"context"
	"crypto/x509"
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
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/internal/lock"
	"github.com/ensbulk/ensbulk/internal/reqlog"
	"github.com/ensbulk/ensbulk/internal/snapshot"
	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/internal/window"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// runOptions are the settings of run and validate: the shared flag groups,
// and the few flags only one of the two has.
type runOptions struct {
	connFlags
	inputFlags
	engineFlags
	scheduleFlags
	reportFlags
	outputFlags

	validate     bool   // the validate command: phase 1 only
	offline      bool   // validate --offline
	allOrNothing bool   // run --all-or-nothing
	retryFailed  string // run --retry-failed
	readFlags           // run: --no-read, --undo; the plan command (undo.go, plancmd.go)
	stageFlags          // run: --canary, --max-failures, --verify, --plan (stage.go)

	now func() time.Time // injected clock (tests); time.Now otherwise
}

// addFlags declares the groups run and validate share.
func (o *runOptions) addFlags(f *pflag.FlagSet) {
	f.SortFlags = false
	o.connFlags.addFlags(f)
	o.engineFlags.addFlags(f, defaultRate)
	o.reportFlags.addFlags(f)
	o.inputFlags.addFlags(f)
	o.scheduleFlags.addFlags(f)
	o.outputFlags.addFlags(f)
}

func newRunCmd(env *Env) *cobra.Command {
	o := &runOptions{now: time.Now}
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
				return refusedBeforeRun(env, o, args[0], err)
			}
			return runBatch(cmd.Context(), env, o, args[0])
		},
	}
	f := c.Flags()
	o.addFlags(f)
	f.BoolVar(&o.allOrNothing, "all-or-nothing", false, "apply nothing if any row fails validation")
	f.StringVar(&o.retryFailed, "retry-failed", "", "rerun only the rows that are not ok in this earlier report (and later rows of the same mailboxes)")
	o.readFlags.addFlags(f)
	o.stageFlags.addFlags(f)
	return c
}

func newValidateCmd(env *Env) *cobra.Command {
	o := &runOptions{validate: true, now: time.Now}
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
				return refusedBeforeRun(env, o, args[0], err)
			}
			if o.offline {
				return runOffline(env, o, args[0])
			}
			return runBatch(cmd.Context(), env, o, args[0])
		},
	}
	f := c.Flags()
	o.addFlags(f)
	f.BoolVar(&o.offline, "offline", false, "local checks only: send nothing, print per-column counts")
	return c
}

// check refuses settings that cannot go together, before anything is
// opened.
func (o *runOptions) check() error {
	for _, g := range []interface{ validate() error }{&o.inputFlags, &o.engineFlags, &o.scheduleFlags, &o.reportFlags} {
		if err := g.validate(); err != nil {
			return err
		}
	}
	if o.rotate && !o.resume {
		return usageErr("--rotate goes with --resume: it sets aside the finished report that --resume would continue")
	}
	if o.resume && o.retryFailed != "" {
		return usageErr("--resume and --retry-failed do not go together: --retry-failed writes a new report")
	}
	return o.stageFlags.validate(o)
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

// input is the file being run, and how to read it again and again: from
// a private snapshot (internal/snapshot), so that every pass sees the bytes the
// first one checked.
type input struct {
	path   string // as given
	name   string // for messages
	opts   reader.Options
	sha256 string             // of the snapshot: the content this run works from
	snap   *snapshot.Snapshot // nil for validate --offline on a file, read once in place
	// undo is the header of an undo file (package undo), which is read by
	// its own Source: nil for an input of changes.
	undo *undo.Header
	// approved is the plan run --plan applies: the input reads through
	// it (approve.go).
	approved *approvedPlan
}

// openInput checks the input and takes its snapshot beside reportPath
// (in TMPDIR without a report). validate --offline reads a file once and
// takes none.
func openInput(env *Env, o *runOptions, path, reportPath string) (*input, func(), error) {
	cleanup := func() {}
	dir := os.TempDir()
	if reportPath != "" {
		dir = filepath.Dir(reportPath)
	}
	in := &input{path: path, name: path}
	fmtName, err := reader.DetectFormat(path, o.format.String())
	if err != nil {
		return nil, cleanup, withKind(errUsage, err)
	}
	delim, _ := parseDelimiter(o.delimiter)
	in.opts = reader.Options{Name: in.name, Format: fmtName, EmptyToken: o.emptyToken, Delimiter: delim}
	src := env.Stdin
	if path == "-" {
		in.name, in.opts.Name = "stdin", "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, cleanup, fileErr(fmt.Errorf("input: %w", err))
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, cleanup, fileErr(fmt.Errorf("input: %w", err))
		}
		if st.IsDir() {
			return nil, cleanup, fileErr(fmt.Errorf("input %s is a directory", path))
		}
		if o.offline {
			if h, err := undo.ReadHeader(path); err == nil {
				in.undo = &h
			}
			return in, cleanup, nil // one pass, no report to tie to the input
		}
		src = f
	}
	snap, err := snapshot.Take(dir, src)
	switch {
	case errors.Is(err, snapshot.ErrPlace):
		return nil, cleanup, fileErr(fmt.Errorf("report %s: its directory %w", reportPath, err))
	case err != nil:
		if path == "-" {
			return nil, cleanup, fileErr(fmt.Errorf("read standard input: %w", err))
		}
		return nil, cleanup, fileErr(fmt.Errorf("input %s: %w", path, err))
	}
	in.snap, in.sha256 = snap, snap.SHA256()
	start := make([]byte, 64<<10)
	n, _ := io.ReadFull(snap.Reader(), start)
	if undo.Is(start[:n]) {
		src, err := undo.NewSource(snap.Reader(), in.name)
		if err != nil {
			snap.Remove()
			return nil, cleanup, fileErr(err)
		}
		h := src.Header()
		in.undo = &h
	}
	return in, snap.Remove, nil
}

// open reads the input from the start.
func (in *input) open() (batch.Source, io.Closer, error) {
	if in.undo != nil {
		src, err := undo.NewSource(in.snap.Reader(), in.name)
		if err != nil {
			return nil, nil, err
		}
		return src, noClose{}, nil
	}
	src, c, err := in.openChanges()
	if err != nil || in.approved == nil {
		return src, c, err
	}
	return in.approved.source(src, c)
}

// openChanges reads an input of changes (not an undo file) from the start.
func (in *input) openChanges() (*reader.Reader, io.Closer, error) {
	if in.snap == nil {
		return reader.Open(in.path, in.opts)
	}
	r, err := reader.New(in.snap.Reader(), in.opts)
	if err != nil {
		return nil, nil, err
	}
	return r, noClose{}, nil
}

// noClose is the Closer of a pass over the snapshot, which the job closes.
type noClose struct{}

func (noClose) Close() error { return nil }

// changedSince says, for an input read from a file, whether the file no
// longer holds the bytes of the snapshot the run worked from.
func (in *input) changedSince() bool {
	if in.snap == nil || in.path == "-" {
		return false
	}
	sum, err := snapshot.HashFile(in.path)
	return err != nil || sum != in.sha256
}

// opener is open for the engine, which reads the input once per pass.
func (in *input) opener() batch.Opener {
	return in.open
}

// runBatch is run and validate, in three steps: prepare refuses whatever
// can be refused before anything is sent, run drives the engine, finish
// completes the report and says how it went.
//
// --summary-json is written however the run ends, refusals included, and
// a file of its own says "running" while the run goes: monitoring never
// reads the success of an earlier run after this one failed or was
// killed.
func runBatch(ctx context.Context, env *Env, o *runOptions, path string) (err error) {
	dest, err := checkSummaryDest(o, path, env.Stdout)
	if err != nil {
		return err
	}
	rec := &runRecord{o: o, dest: dest, input: path, started: o.now()}
	if dest != nil {
		if dest.Replaced() {
			if err := rec.write(-1, nil); err != nil {
				return fileErr(fmt.Errorf("--summary-json %s: %w", dest.Path(), err))
			}
		}
		defer env.atExit(func() {
			_ = rec.write(exitCodeOf(errInterrupted), withKind(errInterrupted, errors.New("signalled twice: exited at once")))
		})()
		defer func() { err = rec.final(env.Stderr, err) }()
	}
	if err := o.check(); err != nil {
		return err
	}
	stopProfile, err := startProfile(o.cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	j, err := prepare(env, o, path, rec)
	defer j.close()
	if err != nil {
		return err
	}
	sum, runErr := j.run(ctx)
	return j.finish(sum, runErr)
}

// job is one run or validate from prepare to finish, and what close must
// release however it ends.
type job struct {
	env *Env
	o   *runOptions

	in      *input
	cleanup func() // removes the input's snapshot
	rec     *runRecord
	errw    *console.Mux // stderr, shared by the logger and the progress bar
	log     *zap.Logger
	conn    *conn
	win     *window.Window

	reportPath string
	rf         report.Format
	lock       *lock.Lock
	plan       *resume.Plan
	want       report.Meta     // the sidecar this invocation would write afresh
	journal    *report.Journal // nil once closed
	undo       *undo.Journal   // the undo journal of a run that reads (undo.go)

	prog    *console.Progress
	started time.Time
}

// prepare opens the input, the logger, the connection and the report, in
// that order; the job it returns is never nil, so close always applies.
func prepare(env *Env, o *runOptions, path string, rec *runRecord) (*job, error) {
	j := &job{env: env, o: o, cleanup: func() {}, rec: rec, log: zap.NewNop(), errw: console.NewMux(env.Stderr)}
	lvl, err := o.level()
	if err != nil {
		return j, err
	}
	j.rf, _ = report.ParseFormat(o.reportFormat.String())
	if j.reportPath, err = reportPathFor(o, path, j.rf); err != nil {
		return j, err
	}
	rec.setReport(j.reportPath)
	in, removeSnapshot, err := openInput(env, o, path, j.reportPath)
	if err != nil {
		return j, err
	}
	// A second signal exits without returning here: it removes the
	// snapshot too, where the system could not unlink it at once.
	j.in, j.cleanup = in, sequence(env.atExit(removeSnapshot), removeSnapshot)
	j.log = console.NewLogger(j.errw, styleOf(env), lvl)
	if j.conn, err = connect(env, o, j.log); err != nil {
		return j, err
	}
	if h := in.undo; h != nil && !h.Identity.Same(j.conn.identity()) {
		cur := j.conn.identity()
		return j, usageErr("undo file %s belongs to switch %s as user %s; this run is against switch %s as user %s: an undo is applied where it was made (nothing was sent)",
			in.name, h.Switch, h.User, cur.Switch, cur.User)
	}
	if err := j.loadPlan(); err != nil {
		return j, err
	}
	if j.win, err = parseWindow(o.window, o.now); err != nil {
		return j, err
	}
	return j, j.openReport()
}

// reportPathFor is --report, or the input's default report for the
// command (validate and run keep separate reports). A retry never writes
// over the report it retries nor over the run's report: it takes the next
// free changes.retryN.report.csv, so the retry its summary suggests,
// of a retry's own report, works as printed.
func reportPathFor(o *runOptions, input string, rf report.Format) (string, error) {
	if o.report != "" {
		return o.report, nil
	}
	if o.plan && input != "-" {
		return planPath(input, rf), nil
	}
	if input == "-" {
		return "", usageErr("reading standard input needs --report PATH")
	}
	mode := "run"
	if o.validate {
		mode = "validate"
	}
	if mode == "run" && o.retryFailed == "" && strings.HasSuffix(input, undo.Ext) {
		// changes.report.undo.jsonl -> changes.report.undone.csv: not a
		// stack of .report.undo.report names.
		return strings.TrimSuffix(input, undo.Ext) + ".undone." + string(rf), nil
	}
	p := report.DefaultPathFor(input, mode, rf)
	if o.retryFailed == "" {
		return p, nil
	}
	if _, err := os.Lstat(p); err == nil || resume.SameFile(p, o.retryFailed) {
		p = nextRetryPath(input, rf)
	}
	return p, nil
}

// openReport locks the report, decides what this run does (start,
// resume or retry) and opens the journal.
func (j *job) openReport() error {
	var err error
	if j.lock, err = acquireLock(j.reportPath); err != nil {
		return err
	}
	if j.plan, j.want, err = planRun(j.in, j.o, j.reportPath, j.rf, j.conn.identity()); err != nil {
		return err
	}
	for _, n := range j.plan.Notes {
		fmt.Fprintf(j.errw, "ensbulk: %s\n", n)
	}
	if !j.plan.Resuming {
		// The sidecar goes first: a report without one cannot be resumed.
		if err := report.WriteMeta(j.reportPath, j.plan.Meta); err != nil {
			return fileErr(fmt.Errorf("report sidecar: %w", err))
		}
	}
	if j.journal, err = report.OpenJournal(j.reportPath, j.rf, report.SyncPolicy(j.o.fsync.String())); err != nil {
		return fileErr(err)
	}
	return j.plan.Seed(j.journal)
}

// run hands the rows to the engine, with progress and the schedule's gate.
func (j *job) run(ctx context.Context) (*batch.Summary, error) {
	o := j.o
	j.prog = o.newProgress(j.errw, styleOf(j.env), j.log)
	j.started = o.now()
	opts := batch.Options{
		Workers: o.workers, Rate: o.rate, MaxAttempts: o.maxAttempts, Timeout: o.timeout,
		ValidateOnly: o.validate, AllOrNothing: o.allOrNothing,
		Todo: j.plan.Todo, MaxRows: o.maxRows, Gate: j.gate(), Preflight: j.preflight(), Deadline: deadline(o, j.started),
		Validated: j.plan.Validated, RecordValidation: !o.validate && !o.plan,
		OnResult: console.LogNotApplied(j.log), OnProgress: j.prog.Update, Now: o.now,
		OwnCustomer:   func() string { c, _ := j.conn.client.OwnCustomer(); return c },
		MaxRetryAfter: o.maxRetryAfter,
		OnPause: func(p batch.Pause) {
			j.log.Warn(fmt.Sprintf("waiting %s: the server asked (Retry-After), until %s", p.Asked.Round(time.Second), p.Until.Format("15:04:05")),
				zap.String("message", p.Message))
		},
	}
	if err := j.reads(&opts); err != nil {
		j.prog.Finish()
		return nil, err
	}
	j.stage(&opts)
	j.log.Info("run starting", zap.String("input", j.in.name), zap.String("report", j.reportPath),
		zap.String("url", j.conn.url), zap.String("user", j.conn.user), zap.Int("workers", o.workers),
		zap.Float64("rate", o.rate), zap.Bool("validate_only", o.validate), zap.Bool("resume", j.plan.Resuming),
		zap.Int("resumed_rows_done", j.plan.Done))
	sender := ownCustomerSender{j.conn.client}
	if opts.Reader != nil {
		opts.Reader = sender
	}
	if opts.Lister != nil {
		opts.Lister = sender
	}
	sum, err := batch.Run(ctx, j.in.opener(), sender, j.journal, opts)
	j.prog.Finish()
	return sum, err
}

// finish completes the report, prints the summary, hands the counts to
// --summary-json (written by runBatch), and returns the run's outcome.
func (j *job) finish(sum *batch.Summary, runErr error) error {
	if se := (*batch.SinkError)(nil); errors.As(runErr, &se) {
		_ = j.journal.Close() // fails the same way: one message says it
		j.journal = nil
		return internalErr(fmt.Errorf("%w: stopped sending (requests in flight finished; their results are not in the report). "+
			"Make the report writable again (free space, or restore its directory), then rerun with --resume: rows it holds are not sent again", se.Err))
	}
	var fe *reader.FileError
	if sum == nil || errors.As(runErr, &fe) {
		return j.abandon(runErr)
	}
	counts, err := j.closeReport()
	if err != nil {
		return err
	}
	if err := j.finishReads(); err != nil {
		return err
	}
	j.markFinished(sum, counts, runErr)
	j.wordStop(sum)
	result := outcome(counts, runErr)
	code := exitCodeOf(result)
	if j.in.changedSince() {
		fmt.Fprintf(j.errw, "ensbulk: warning: input %s changed during the run: this run validated and applied it as it was when the run started (sha256 %.12s…), and the report describes that content; the new content was not sent (run it with a new --report PATH)\n", j.in.name, j.in.sha256)
	}
	j.printStage(j.errw, sum)
	printSummary(j.errw, j.o, sum, counts, j.reportPath, j.in, code, runErr)
	j.rec.setOutcome(sum, counts)
	return result
}

// markFinished records in the sidecar that the report's run went through
// its whole input, so that the next --resume with a new input (the next
// night's file) sets this report aside instead of refusing.
//
// It also records the login's own customer, known once the run logged in,
// which the sidecar could not name when it was first written.
func (j *job) markFinished(sum *batch.Summary, c *report.Counts, runErr error) {
	m := &j.plan.Meta
	own := j.conn.identity().Customer
	finished := runErr == nil && c.ByStatus[batch.StatusSkipped] == 0 && c.Rows == sum.Rows
	if !finished && (own == "" || m.Customer == own) {
		return
	}
	if m.Customer == "" {
		m.Customer = own
	}
	if finished {
		m.Finished = j.o.now().UTC()
	}
	if err := report.WriteMeta(j.reportPath, *m); err != nil {
		j.log.Warn("report sidecar: not marked finished; a --resume with a new input will be refused", zap.Error(err))
	}
}

// abandon ends a run that sent no row (a file-level error in the input,
// settings the preflight proved wrong): no report, sidecar or undo file
// of this run is left behind to block the corrected rerun.
func (j *job) abandon(runErr error) error {
	_ = j.journal.Close()
	j.journal = nil
	if !j.plan.Resuming && j.plan.Seeded == 0 {
		os.Remove(j.reportPath)
		os.Remove(report.MetaPath(j.reportPath))
	}
	if j.undo != nil {
		// Nothing was sent, so nothing new is in it.
		_ = j.undo.Close()
		j.undo = nil
		if !j.plan.Resuming && j.o.retryFailed == "" {
			os.Remove(undo.JournalPath(j.plan.Meta.Undo))
		}
	}
	var fe *reader.FileError
	switch {
	case errors.As(runErr, &fe):
		return fileErr(fmt.Errorf("%w (nothing was sent)", runErr))
	case runErr == nil:
		return internalErr(errors.New("run failed"))
	}
	return runErr
}

// closeReport closes the journal and rewrites the report in row order.
func (j *job) closeReport() (*report.Counts, error) {
	err := j.journal.Close()
	j.journal = nil
	var counts *report.Counts
	if err == nil {
		counts, err = report.FinalizeCount(j.reportPath, j.rf)
	}
	if err != nil {
		return nil, internalErr(fmt.Errorf("report %s: %w", j.reportPath, err))
	}
	return counts, nil
}

// close releases what prepare took, in reverse order.
func (j *job) close() {
	if j.journal != nil {
		_ = j.journal.Close()
	}
	_ = j.undo.Close()
	if j.plan != nil {
		j.plan.Close()
	}
	j.lock.Release()
	_ = j.log.Sync()
	j.cleanup()
}

// outcome is what a run that wrote its report returns: the engine's stop,
// a fault of ours, rows that are not ok, or nil.
func outcome(c *report.Counts, runErr error) error {
	var se *batch.StopError
	switch {
	case errors.As(runErr, &se):
		return runErr
	case runErr != nil:
		return internalErr(runErr)
	case c.Rows-c.Successes() > 0:
		return errRows
	}
	return nil
}

// startProfile writes a CPU profile until stop is called (--cpuprofile,
// for ensbulk-bench).
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fileErr(fmt.Errorf("--cpuprofile: %w", err))
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fileErr(fmt.Errorf("--cpuprofile: %w", err))
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// nextRetryPath picks changes.retry1.report.csv, retry2, ...: the first
// that does not exist.
func nextRetryPath(input string, f report.Format) string {
	for i := 1; ; i++ {
		p := report.RetryPath(input, i, f)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
}

// conn is a ready client and what may be said about it.
type conn struct {
	url, user string
	client    *enswitch.Client
	notices   *authNotices
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
	if _, err := enswitch.New(enswitch.Config{BaseURL: u, Username: user}); err != nil {
		return nil, usageErr("%v", err) // before the URL is shown anywhere
	}
	mode, notices, err := authSettings(env, o.auth, log)
	if err != nil {
		return nil, err
	}
	pw, err := password(env, o, u, user)
	if err != nil {
		return nil, err
	}
	var pool *x509.CertPool
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fileErr(fmt.Errorf("--ca-file: %w", err))
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fileErr(fmt.Errorf("--ca-file %s: no PEM certificates in it", o.caFile))
		}
	}
	if o.insecure {
		fmt.Fprintln(env.Stderr, "ensbulk: WARNING: --insecure: the server's TLS certificate is NOT verified; anyone on the path can read the API password and change mailboxes")
		log.Warn("TLS certificate verification disabled by --insecure")
	}
	warnPlainHTTP(env.Stderr, log, u)
	hc := enswitch.NewHTTPClient(enswitch.HTTPOptions{Workers: o.workers, Timeout: o.timeout, CAPool: pool, Insecure: o.insecure})
	hc.Transport = reqlog.Wrap(hc.Transport, log)
	cl, err := enswitch.New(enswitch.Config{BaseURL: u, Username: user, Password: pw, HTTPClient: hc, Auth: mode, Notice: notices.say})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return &conn{url: enswitch.RedactURL(u), user: user, client: cl, notices: notices}, nil
}

func password(env *Env, o *runOptions, u, user string) (string, error) {
	if o.passwordFile != "" {
		st, err := os.Stat(o.passwordFile)
		if err != nil {
			return "", fileErr(fmt.Errorf("--password-file: %w", err))
		}
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			return "", fileErr(fmt.Errorf("--password-file: %w", err))
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", fileErr(fmt.Errorf("--password-file %s is empty", o.passwordFile))
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
		fmt.Fprintf(env.Stderr, "Password for %s at %s: ", user, enswitch.RedactURL(u))
		b, err := env.ReadPassword()
		fmt.Fprintln(env.Stderr)
		if errors.Is(err, errInterrupted) {
			return "", err
		}
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

// deadline is when --max-duration ends (zero without it).
func deadline(o *runOptions, started time.Time) time.Time {
	if o.maxDuration == 0 {
		return time.Time{}
	}
	return started.Add(o.maxDuration)
}

// gate stops the run resumably at --max-duration or the end of --window,
// and holds requests while the window is closed.
func gate(o *runOptions, win *window.Window, started time.Time) func(context.Context) error {
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
		return gateWindow(ctx, win, started, o.windowExit)
	}
}
