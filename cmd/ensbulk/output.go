package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// style is what stderr can show.
type style struct {
	terminal bool // stderr is a terminal
	bar      bool // a progress bar can be drawn: a terminal that is not TERM=dumb
	color    bool // colour codes: a terminal, NO_COLOR unset, TERM not dumb
}

func styleOf(env *Env) style {
	t := env.StderrTerminal
	dumb := env.Getenv("TERM") == "dumb"
	return style{terminal: t, bar: t && !dumb, color: t && !dumb && env.Getenv("NO_COLOR") == ""}
}

// newLogger logs to stderr in zap's console format, on a terminal and off
// it. Off a terminal stderr is a cron mail, a log file or the journal,
// which a person reads after something went wrong, next to the plain-text
// summary and error line that end every run; JSON log lines mixed with
// those would be two formats in one stream. Machines have --summary-json
// and the report. Off a terminal the timestamps are full ISO 8601 and
// there is never colour.
func newLogger(w io.Writer, st style, lvl zapcore.Level) *zap.Logger {
	cfg := zap.NewDevelopmentEncoderConfig()
	cfg.EncodeLevel = zapcore.CapitalLevelEncoder
	if st.color {
		cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
	}
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	if st.terminal {
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
	}
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.AddSync(w), lvl)
	return zap.New(core)
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
func (o *outputFlags) progressMode(st style) string {
	mode := o.progress.String()
	if mode != "auto" {
		return mode
	}
	switch {
	case o.quiet:
		return "none"
	case st.bar:
		return "bar"
	}
	return "json"
}

// stderrMux is stderr shared by the progress bar and the log lines, which
// write from different goroutines. A log line written while the bar is on
// screen would be glued to the bar and overwritten by its next redraw, so
// the mux wipes the bar's line, writes the log line, and draws the bar
// again below it. Its Write is the log side; bar() the bar's.
type stderrMux struct {
	mu    sync.Mutex
	w     io.Writer
	shown []byte // the bar as last drawn, while it is on screen
	width int    // the widest the bar has been, in cells
}

func newStderrMux(w io.Writer) *stderrMux { return &stderrMux{w: w} }

// Write writes a log line (or any whole lines) above the bar.
func (m *stderrMux) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.shown) > 0 {
		_, _ = io.WriteString(m.w, "\r"+strings.Repeat(" ", m.width)+"\r")
	}
	n, err := m.w.Write(p)
	if len(m.shown) > 0 {
		_, _ = m.w.Write(m.shown)
	}
	return n, err
}

// bar is the writer the progress bar draws with.
func (m *stderrMux) bar() io.Writer { return barWriter{m} }

type barWriter struct{ m *stderrMux }

func (b barWriter) Write(p []byte) (int, error) {
	m := b.m
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.w.Write(p)
	rest := p
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
		m.shown, m.width = m.shown[:0], 0 // the bar's line is done with
		rest = p[i+1:]
	}
	// The bar wipes its line with spaces before each drawing: keep the
	// drawing, not the wipe.
	if len(bytes.TrimSpace(rest)) > 0 {
		m.shown = append(m.shown[:0], rest...)
		m.width = max(m.width, utf8.RuneCount(bytes.Trim(rest, "\r")))
	}
	return n, err
}

// barEvery is how often the bar is redrawn at most.
const barEvery = 100 * time.Millisecond

// progress shows how a run goes: a bar on a terminal, a log line every
// few seconds otherwise. It is driven by the engine's writer goroutine
// only, which therefore owns the bar.
type progress struct {
	mode  string
	log   *zap.Logger
	every time.Duration
	out   io.Writer // the bar's side of stderr
	bar   *progressbar.ProgressBar
	phase batch.Phase
	last  time.Time
	cur   batch.Progress
	desc  string // the bar's description as last set
}

func newProgress(m *stderrMux, st style, o *runOptions, log *zap.Logger) *progress {
	return &progress{mode: o.progressMode(st), log: log, every: o.progressEvery, out: m.bar()}
}

func (p *progress) update(pr batch.Progress) {
	switch p.mode {
	case "bar":
		if p.bar == nil || pr.Phase != p.phase {
			p.endBar()
			p.phase = pr.Phase
			p.last = time.Time{}
			p.desc = fmt.Sprintf("%-8s", pr.Phase)
			p.bar = progressbar.NewOptions(pr.Total,
				progressbar.OptionSetWriter(p.out),
				progressbar.OptionSetDescription(p.desc),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("rows"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetWidth(30),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.out) }),
			)
		}
		p.cur = pr
		// Throttled here rather than by the bar, so that the last count
		// is drawn when the phase ends short of its total.
		if now := time.Now(); now.Sub(p.last) >= barEvery || pr.Done >= pr.Total {
			p.last = now
			p.draw()
		}
	case "json":
		p.cur = pr
		now := time.Now()
		if pr.Phase != p.phase || now.Sub(p.last) >= p.every || pr.Done == pr.Total {
			p.phase = pr.Phase
			p.last = now
			p.emit(pr)
		}
	}
}

// draw shows the current counts on the bar.
func (p *progress) draw() {
	if p.bar.IsFinished() {
		return // a finished bar redraws on a fresh line
	}
	// Describe draws the bar too: only when the failures change.
	if d := fmt.Sprintf("%-8s failures %d", p.cur.Phase, p.cur.Failures); d != p.desc {
		p.desc = d
		p.bar.Describe(d)
	}
	_ = p.bar.Set(p.cur.Done)
}

// endBar leaves the bar showing where its phase got to. Finish would
// fill it to 100%, which after an abort or Ctrl-C is a lie.
func (p *progress) endBar() {
	if p.bar == nil {
		return
	}
	p.draw() // reaching the total finishes the bar
	if !p.bar.IsFinished() {
		_ = p.bar.Exit() // keeps the count drawn; ends the line
	}
	p.bar = nil
}

func (p *progress) emit(pr batch.Progress) {
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Requests) / s
	}
	p.log.Info("progress", zap.String("phase", string(pr.Phase)), zap.Int("done", pr.Done), zap.Int("total", pr.Total),
		zap.Int("failures", pr.Failures), zap.Int64("requests", pr.Requests), zap.Float64("rate", round1(rate)))
}

func (p *progress) finish() {
	p.endBar()
}

// plural is n with the word in the form n takes: "1 row", "2 rows".
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// printSummary is the end of every run, on stderr: a few lines, or with
// -q the final line alone.
func printSummary(w io.Writer, o *runOptions, sum *batch.Summary, c *report.Counts, reportPath string, in *input, code int, runErr error) {
	verb := "run"
	if o.validate {
		verb = "validate"
	}
	if o.plan {
		verb = "plan"
	}
	outcome := "finished"
	if sum.Stopped != nil {
		switch sum.Stopped.Kind {
		case batch.StopAborted:
			outcome = "ABORTED: " + sum.Stopped.Reason
		case batch.StopInterrupted:
			outcome = "interrupted"
		case batch.StopBudget:
			outcome = "stopped (" + sum.Stopped.Reason + "), resumable"
		}
	}
	rf, _ := report.ParseFormat(o.reportFormat.String())
	meta := report.Meta{Input: in.path, InputFormat: string(in.opts.Format), EmptyToken: o.emptyToken, Delimiter: o.delimiter, Mode: verb, Format: rf}
	next := ""
	switch code {
	case exitRows:
		next = "fix the rows above, then: " + retryCommand(reportPath, meta)
		if o.plan {
			next = "fix the rows above, then plan again"
		}
		if o.fromPlan != "" {
			next = "fix the rows above, then: " + planAgain(reportPath, meta)
		}
	case exitAborted, exitStopped:
		if sum.Stopped != nil && sum.Stopped.Kind != batch.StopAborted || code == exitStopped {
			next = resumeCommand(verb, reportPath, meta)
		} else {
			next = "fix the cause, then: " + resumeCommand(verb, reportPath, meta)
		}
	}
	if o.quiet {
		var counts []string
		for _, st := range batch.Statuses {
			if n := c.ByStatus[st]; n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n, st))
			}
		}
		line := fmt.Sprintf("ensbulk %s %s: %s in %s: %s (%s); report %s", verb, in.name, outcome,
			sum.Duration.Round(time.Millisecond), plural(c.Rows, "row", "rows"), strings.Join(counts, ", "), reportPath)
		if next != "" {
			line += "; next: " + strings.TrimPrefix(next, "fix the rows above, then: ")
		}
		fmt.Fprintf(w, "%s; exit %d\n", line, code)
		return
	}
	fmt.Fprintf(w, "\nensbulk %s %s: %s in %s\n", verb, in.name, outcome, sum.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "%s in the input", plural(c.Rows, "row", "rows"))
	if sum.Todo != sum.Rows {
		fmt.Fprintf(w, ", %d handled by this run, %d done before", sum.Todo, sum.Rows-sum.Todo)
	}
	fmt.Fprintln(w, ":")
	report.WriteStatusTable(w, c.ByStatus)
	target := "no limit"
	if sum.TargetRate > 0 {
		target = fmt.Sprintf("%.4g/s", sum.TargetRate)
	}
	fmt.Fprintf(w, "%s (%s, %d throttled by the server), achieved %.1f/s, target %s, throttled for %s\n",
		plural(sum.Requests, "request", "requests"), plural(sum.Retries, "retry", "retries"), sum.Throttles,
		sum.AchievedRate, target, sum.Throttled.Round(time.Millisecond))
	if len(c.Errors) > 0 {
		fmt.Fprintln(w, "top problems:")
		report.WriteErrorTable(w, c.Errors, 10)
	}
	fmt.Fprintf(w, "report: %s\n", reportPath)
	if next != "" {
		fmt.Fprintf(w, "next: %s\n", next)
	}
	fmt.Fprintf(w, "exit %d\n", code)
}

// summaryJSON is the machine-readable result of a run (--summary-json),
// for monitoring. Its fields are a contract: add, never rename.
type summaryJSON struct {
	Version      int            `json:"version"`
	Command      string         `json:"command"`
	Input        string         `json:"input"`
	Report       string         `json:"report"`
	ExitCode     int            `json:"exit_code"`
	Outcome      string         `json:"outcome"` // ok, rows_not_ok, aborted, interrupted, stopped
	Reason       string         `json:"reason,omitempty"`
	Rows         int            `json:"rows"`
	RowsThisRun  int            `json:"rows_this_run"`
	Counts       map[string]int `json:"counts"`
	Requests     int64          `json:"requests"`
	Retries      int64          `json:"retries"`
	Throttles    int64          `json:"throttles"`
	TargetRate   float64        `json:"target_rate"`
	AchievedRate float64        `json:"achieved_rate"`
	Started      time.Time      `json:"started"`
	Finished     time.Time      `json:"finished"`
	DurationSec  float64        `json:"duration_seconds"`
}

// summaryOf is the --summary-json of a run that ends with code. sum and c
// are nil when it ended before the engine ran (a refusal, the lock): the
// counts are then zero and reason says why. Code -1 is a run still going.
func summaryOf(o *runOptions, sum *batch.Summary, c *report.Counts, reportPath, input string, code int, started, finished time.Time, runErr error) summaryJSON {
	s := summaryJSON{
		Version: 1, Command: "run", Input: input, Report: reportPath, ExitCode: code,
		Counts: map[string]int{}, Started: started.UTC(), Finished: finished.UTC(),
	}
	if o.validate {
		s.Command = "validate"
	}
	if o.plan {
		s.Command = "plan"
	}
	if sum != nil {
		s.RowsThisRun, s.Requests, s.Retries, s.Throttles = sum.Todo, sum.Requests, sum.Retries, sum.Throttles
		s.TargetRate, s.AchievedRate, s.DurationSec = sum.TargetRate, round1(sum.AchievedRate), sum.Duration.Seconds()
	} else if code >= 0 {
		s.DurationSec = finished.Sub(started).Seconds()
	}
	for _, st := range batch.Statuses {
		s.Counts[string(st)] = 0
		if c != nil {
			s.Counts[string(st)] = c.ByStatus[st]
		}
	}
	if c != nil {
		s.Rows = c.Rows
	}
	switch code {
	case -1:
		s.Outcome = "running"
	case exitOK:
		s.Outcome = "ok"
	case exitRows:
		s.Outcome = "rows_not_ok"
	case exitUsage:
		s.Outcome = "usage_error"
	case exitLocked:
		s.Outcome = "locked"
	case exitStopped:
		s.Outcome = "stopped"
	case exitInternal:
		s.Outcome = "internal_error"
	default:
		s.Outcome = "aborted"
		if errors.Is(runErr, errInterrupted) || sum != nil && sum.Stopped != nil && sum.Stopped.Kind == batch.StopInterrupted {
			s.Outcome = "interrupted"
		}
	}
	switch {
	case sum != nil && sum.Stopped != nil:
		s.Reason = sum.Stopped.Reason
	case code > exitRows && runErr != nil:
		s.Reason = runErr.Error()
	}
	return s
}

// encodeSummary is the bytes of a summary.
func encodeSummary(s summaryJSON) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	return append(b, '\n'), err
}
