package job

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/internal/lock"
	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/internal/window"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// Run is run and validate, in three steps: prepare refuses whatever
// can be refused before anything is sent, run drives the engine, finish
// completes the report and says how it went.
//
// --summary-json is written however the run ends, refusals included, and
// a file of its own says "running" while the run goes: monitoring never
// reads the success of an earlier run after this one failed or was
// killed.
func Run(ctx context.Context, env *Env, o *Options, path string) (err error) {
	dest, err := checkSummaryDest(o, path, env.Stdout)
	if err != nil {
		return err
	}
	rec := &runRecord{o: o, exit: env.ExitCode, dest: dest, input: path, started: o.now()}
	if dest != nil {
		if dest.Replaced() {
			if err := rec.write(-1, nil); err != nil {
				return fileErr(fmt.Errorf("--summary-json %s: %w", dest.Path(), err))
			}
		}
		defer env.atExit(func() {
			_ = rec.write(env.ExitCode(Interrupted), Mark(Interrupted, errors.New("signalled twice: exited at once")))
		})()
		defer func() { err = rec.final(env.Stderr, err) }()
	}
	if err := o.Check(); err != nil {
		return err
	}
	stopProfile, err := startProfile(o.CPUProfile)
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
	o   *Options

	in      *input
	cleanup func() // removes the input's snapshot
	rec     *runRecord
	errw    *console.Mux // stderr, shared by the logger and the progress bar
	log     *zap.Logger
	conn    *Conn
	win     *window.Window

	reportPath string
	rf         report.Format
	lock       *lock.Lock
	plan       *resume.Plan
	want       report.Meta     // the sidecar this invocation would write afresh
	journal    *report.Journal // nil once closed
	undo       *undo.Journal   // the undo journal of a run that reads (undo.go)

	tally     *planTally      // plan: what the rows change, per column
	estimate  *batch.Workload // what the engine said the run would send (readmode.go)
	canaryLog []batch.Result  // what the canary did, for the summary

	prog    *console.Progress
	started time.Time
}

// prepare opens the input, the logger, the connection and the report, in
// that order; the job it returns is never nil, so close always applies.
func prepare(env *Env, o *Options, path string, rec *runRecord) (*job, error) {
	j := &job{env: env, o: o, cleanup: func() {}, rec: rec, log: zap.NewNop(), errw: console.NewMux(env.Stderr)}
	lvl, err := o.Level()
	if err != nil {
		return j, err
	}
	j.rf, _ = report.ParseFormat(o.ReportFormat)
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
	j.log = console.NewLogger(j.errw, env.style(), lvl)
	if j.conn, err = env.Connect(j.log); err != nil {
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
	if j.win, err = parseWindow(o.Window, o.now); err != nil {
		return j, err
	}
	return j, j.openReport()
}

// reportPathFor is --report, or the input's default report for the
// command (validate and run keep separate reports). A retry never writes
// over the report it retries nor over the run's report: it takes the next
// free changes.retryN.report.csv, so the retry its summary suggests,
// of a retry's own report, works as printed.
func reportPathFor(o *Options, input string, rf report.Format) (string, error) {
	if o.Report != "" {
		return o.Report, nil
	}
	if o.Plan && input != "-" {
		return PlanPath(input, rf), nil
	}
	if input == "-" {
		return "", usageErr("reading standard input needs --report PATH")
	}
	mode := "run"
	if o.Validate {
		mode = "validate"
	}
	if mode == "run" && o.RetryFailed == "" && strings.HasSuffix(input, undo.Ext) {
		// changes.report.undo.jsonl -> changes.report.undone.csv: not a
		// stack of .report.undo.report names.
		return strings.TrimSuffix(input, undo.Ext) + ".undone." + string(rf), nil
	}
	p := report.DefaultPathFor(input, mode, rf)
	if o.RetryFailed == "" {
		return p, nil
	}
	if _, err := os.Lstat(p); err == nil || resume.SameFile(p, o.RetryFailed) {
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
	if j.plan, j.want, err = decideRun(j.in, j.o, j.reportPath, j.rf, j.conn.identity()); err != nil {
		return err
	}
	for _, n := range j.plan.Notes {
		fmt.Fprintf(j.errw, "ensbulk: %s\n", noteWords(n))
	}
	if j.plan.Resuming && j.plan.Meta.Verify && !j.o.Verify && !j.o.Validate && !j.o.Plan {
		// A resume carries on the same run: its rows are checked as the
		// first invocation's were, or "ok" would mean less for them.
		j.o.Verify = true
		fmt.Fprintf(j.errw, "ensbulk: %s was run with --verify: the rows left are read back after their update too\n", j.reportPath)
	}
	if !j.plan.Resuming {
		// The sidecar goes first: a report without one cannot be resumed.
		if err := report.WriteMeta(j.reportPath, j.plan.Meta); err != nil {
			return fileErr(fmt.Errorf("report sidecar: %w", err))
		}
	}
	if j.journal, err = report.OpenJournal(j.reportPath, j.rf, report.SyncPolicy(j.o.Fsync)); err != nil {
		return fileErr(err)
	}
	return j.plan.Seed(j.journal)
}

// run hands the rows to the engine, with progress and the schedule's gate.
func (j *job) run(ctx context.Context) (*batch.Summary, error) {
	o := j.o
	j.prog = o.newProgress(j.errw, j.env.style(), j.log)
	j.started = o.now()
	opts := batch.Options{
		Workers: o.Workers, Rate: o.Rate, MaxAttempts: o.MaxAttempts, Timeout: o.Timeout,
		ValidateOnly: o.Validate, AllOrNothing: o.AllOrNothing,
		Todo: j.plan.Todo, MaxRows: o.MaxRows, Gate: j.gate(), Preflight: j.preflight(), Deadline: deadline(o, j.started),
		Validated: j.plan.Validated, RecordValidation: !o.Validate && !o.Plan,
		OnResult: console.LogNotApplied(j.log), OnProgress: j.prog.Update, Now: o.now,
		OwnCustomer:   func() string { c, _ := j.conn.Client.OwnCustomer(); return c },
		MaxRetryAfter: o.MaxRetryAfter,
		Words:         engineWords(),
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
		zap.String("url", j.conn.URL), zap.String("user", j.conn.User), zap.Int("workers", o.Workers),
		zap.Float64("rate", o.Rate), zap.String("command", o.commandName()), zap.Bool("resume", j.plan.Resuming),
		zap.Int("resumed_rows_done", j.plan.Done))
	sender := ownCustomerSender{j.conn.Client}
	if opts.Getter != nil {
		opts.Getter = sender
	}
	if opts.Lister != nil {
		opts.Lister = sender
	}
	sum, err := batch.Run(ctx, j.in.opener(), sender, j.journal, opts)
	j.prog.Finish()
	return sum, err
}

// finish completes the report, prints the summary, hands the counts to
// --summary-json (written by Run), and returns the run's outcome.
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
	// The report's rewrite and the undo file's build each copy a file
	// the size of the run, and the input is hashed again: on two cores
	// and one disk they overlap.
	changed := j.in.changedLater()
	defer changed()
	built := j.buildUndo()
	counts, err := j.closeReport()
	ub := <-built
	if err != nil {
		return err
	}
	if err := j.finishReads(ub); err != nil {
		return err
	}
	j.markFinished(sum, counts, runErr)
	j.wordStop(sum)
	result := outcome(counts, runErr)
	code := j.env.ExitCode(result)
	if changed() {
		fmt.Fprintf(j.errw, "ensbulk: warning: input %s changed during the run: this run validated and applied it as it was when the run started (sha256 %.12s…), and the report describes that content; the new content was not sent (run it with a new --report PATH)\n", j.in.name, j.in.sha256)
	}
	j.printStage(j.errw, sum)
	j.printSummary(j.errw, sum, counts, code, result)
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
		if !j.plan.Resuming && j.o.RetryFailed == "" {
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
		return Rows
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

// deadline is when --max-duration ends (zero without it).
func deadline(o *Options, started time.Time) time.Time {
	if o.MaxDuration == 0 {
		return time.Time{}
	}
	return started.Add(o.MaxDuration)
}

// gate stops the run resumably at --max-duration or the end of --window,
// and holds requests while the window is closed.
func gate(o *Options, win *window.Window, started time.Time) func(context.Context) error {
	if o.MaxDuration == 0 && win == nil {
		return nil
	}
	return func(ctx context.Context) error {
		now := o.now()
		if o.MaxDuration > 0 && now.Sub(started) >= o.MaxDuration {
			return &batch.StopError{Kind: batch.StopBudget, Reason: fmt.Sprintf("--max-duration %s reached", o.MaxDuration)}
		}
		if win == nil {
			return nil
		}
		return gateWindow(ctx, win, started, o.WindowExit)
	}
}
