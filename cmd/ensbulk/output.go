package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// newLogger logs to stderr: a human console format on a terminal, JSON
// otherwise (cron, systemd, a pipe).
func newLogger(w io.Writer, terminal bool, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, usageErr("--log-level %q: want debug, info, warn or error", level)
	}
	var enc zapcore.Encoder
	if terminal {
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
		enc = zapcore.NewConsoleEncoder(cfg)
	} else {
		cfg := zap.NewProductionEncoderConfig()
		cfg.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(cfg)
	}
	core := zapcore.NewCore(enc, zapcore.AddSync(w), lvl)
	return zap.New(core), nil
}

// lockedWriter serialises writes to stderr, shared by the logger and the
// progress bar, which write from different goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// progress shows how a run goes: a bar on a terminal, a JSON line every
// few seconds otherwise. It is driven by the engine's writer goroutine
// only.
type progress struct {
	mode  string
	log   *zap.Logger
	every time.Duration
	bar   *progressbar.ProgressBar
	phase batch.Phase
	last  time.Time
	cur   batch.Progress
	out   io.Writer
}

func newProgress(w io.Writer, terminal bool, o *runOptions, log *zap.Logger) *progress {
	mode := o.progress.String()
	if mode == "auto" {
		mode = "json"
		if terminal {
			mode = "bar"
		}
	}
	return &progress{mode: mode, log: log, every: o.progressEvery, out: w}
}

func (p *progress) update(pr batch.Progress) {
	p.cur = pr
	switch p.mode {
	case "bar":
		if p.bar == nil || pr.Phase != p.phase {
			if p.bar != nil {
				_ = p.bar.Finish()
			}
			p.phase = pr.Phase
			p.bar = progressbar.NewOptions(pr.Total,
				progressbar.OptionSetWriter(p.out),
				progressbar.OptionSetDescription(fmt.Sprintf("%-8s", pr.Phase)),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("rows"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetWidth(30),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.out) }),
			)
		}
		p.bar.Describe(fmt.Sprintf("%-8s failures %d", pr.Phase, pr.Failures))
		_ = p.bar.Set(pr.Done)
	case "json":
		now := time.Now()
		if pr.Phase != p.phase || now.Sub(p.last) >= p.every || pr.Done == pr.Total {
			p.phase = pr.Phase
			p.last = now
			p.emit(pr)
		}
	}
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
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// printSummary is the end of every run, on stderr.
func printSummary(w io.Writer, o *runOptions, sum *batch.Summary, c *report.Counts, reportPath string, in *input, code int, runErr error) {
	verb := "run"
	if o.validate {
		verb = "validate"
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
	fmt.Fprintf(w, "\nensbulk %s %s: %s in %s\n", verb, in.name, outcome, sum.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "rows (%d in the input", c.Rows)
	if sum.Todo != sum.Rows {
		fmt.Fprintf(w, ", %d handled by this run, %d done before", sum.Todo, sum.Rows-sum.Todo)
	}
	fmt.Fprintln(w, "):")
	report.WriteStatusTable(w, c.ByStatus)
	target := "no limit"
	if sum.TargetRate > 0 {
		target = fmt.Sprintf("%.4g/s", sum.TargetRate)
	}
	fmt.Fprintf(w, "requests: %d (%d retries, %d throttled by the server), achieved %.1f/s, target %s, throttled for %s\n",
		sum.Requests, sum.Retries, sum.Throttles, sum.AchievedRate, target, sum.Throttled.Round(time.Millisecond))
	if len(c.Errors) > 0 {
		fmt.Fprintln(w, "top problems:")
		report.WriteErrorTable(w, c.Errors, 10)
	}
	fmt.Fprintf(w, "report: %s\n", reportPath)
	rf, _ := report.ParseFormat(o.reportFormat.String())
	meta := report.Meta{Input: in.path, InputFormat: string(in.opts.Format), EmptyToken: o.emptyToken, Delimiter: o.delimiter, Mode: verb, Format: rf}
	switch code {
	case exitRows:
		fmt.Fprintf(w, "next: fix the rows above, then: %s\n", retryCommand(reportPath, meta))
	case exitAborted, exitStopped:
		if sum.Stopped != nil && sum.Stopped.Kind != batch.StopAborted || code == exitStopped {
			fmt.Fprintf(w, "next: %s\n", resumeCommand(verb, reportPath, meta))
		} else {
			fmt.Fprintf(w, "next: fix the cause, then: %s\n", resumeCommand(verb, reportPath, meta))
		}
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

func writeSummaryJSON(path string, o *runOptions, sum *batch.Summary, c *report.Counts, reportPath, input string, code int, started, finished time.Time, runErr error) error {
	s := summaryJSON{
		Version: 1, Command: "run", Input: input, Report: reportPath, ExitCode: code,
		Rows: c.Rows, RowsThisRun: sum.Todo, Counts: map[string]int{},
		Requests: sum.Requests, Retries: sum.Retries, Throttles: sum.Throttles,
		TargetRate: sum.TargetRate, AchievedRate: round1(sum.AchievedRate),
		Started: started.UTC(), Finished: finished.UTC(), DurationSec: sum.Duration.Seconds(),
	}
	if o.validate {
		s.Command = "validate"
	}
	for _, st := range batch.Statuses {
		s.Counts[string(st)] = c.ByStatus[st]
	}
	switch code {
	case exitOK:
		s.Outcome = "ok"
	case exitRows:
		s.Outcome = "rows_not_ok"
	case exitStopped:
		s.Outcome = "stopped"
	default:
		s.Outcome = "aborted"
		if sum.Stopped != nil && sum.Stopped.Kind == batch.StopInterrupted {
			s.Outcome = "interrupted"
		}
	}
	if sum.Stopped != nil {
		s.Reason = sum.Stopped.Reason
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(path, append(b, '\n'), 0o644)
}
