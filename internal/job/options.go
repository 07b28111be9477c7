package job

import (
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/report"
)

// Options are the settings of run, validate and plan, as the command's
// flags give them (the command declares the flags and their defaults).
// A choice is its value's text (Format "csv"); a ...Set field says the
// flag was given, where a default and an explicit value mean different
// things.
type Options struct {
	// How to read the input.
	Format     string // "" (from the extension), csv, jsonl, ndjson
	Delimiter  string
	EmptyToken string

	// The engine's pace.
	Workers       int
	Rate          float64
	Timeout       time.Duration
	MaxAttempts   int
	MaxRetryAfter time.Duration

	// The schedule: each stop is resumable.
	MaxDuration time.Duration
	MaxRows     int
	Window      string
	WindowExit  bool

	// The report, and how an earlier one is continued.
	Report          string
	ReportFormat    string
	ReportFormatSet bool
	Resume          bool
	Force           bool
	Rotate          bool
	Keep            int // with Rotate: the reports set aside to keep; 0 = all
	SummaryJSON     string

	// What the run says on stderr while it goes.
	LogLevel      string
	LogLevelSet   bool
	Progress      string // auto, bar, json, none
	ProgressEvery time.Duration
	Fsync         string
	CPUProfile    string
	Quiet         bool // errors and the final line only
	Verbose       bool // debug logs, one line per request

	// The command.
	Validate     bool   // validate: phase 1 only
	Offline      bool   // validate --offline
	Plan         bool   // plan: read, compare, send no update
	AllOrNothing bool   // run --all-or-nothing
	RetryFailed  string // run --retry-failed

	// The read before each update (readmode.go, undo.go).
	NoRead   bool
	Read     string // auto, list, get or none
	UndoPath string

	// Staging (stage.go, approve.go).
	Canary      int
	MaxFailures string // N or P%
	Verify      bool
	FromPlan    string // run --plan PLAN_REPORT

	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// now is o.Now, or the wall clock.
func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// Check refuses settings that cannot go together, before anything is
// opened.
func (o *Options) Check() error {
	for _, check := range []func() error{o.checkInput, o.CheckEngine, o.checkSchedule, o.checkReport} {
		if err := check(); err != nil {
			return err
		}
	}
	if o.Rotate && !o.Resume {
		return usageErr("--rotate goes with --resume: it sets aside the finished report that --resume would continue")
	}
	switch {
	case o.Keep < 0:
		return usageErr("--keep %d: want 0 (keep every report set aside) or more", o.Keep)
	case o.Keep > 0 && !o.Rotate:
		return usageErr("--keep goes with --rotate: it bounds the reports rotation sets aside")
	}
	if o.Resume && o.RetryFailed != "" {
		return usageErr("--resume and --retry-failed do not go together: --retry-failed writes a new report")
	}
	return o.checkStage()
}

func (o *Options) checkInput() error {
	if o.EmptyToken == "" {
		return usageErr("--empty-token must not be empty (an empty cell already means keep)")
	}
	_, err := parseDelimiter(o.Delimiter)
	return err
}

// CheckEngine refuses a pace the engine cannot keep.
func (o *Options) CheckEngine() error {
	switch {
	case o.Workers < 1 || o.Workers > 1024:
		return usageErr("--workers %d: want 1 to 1024", o.Workers)
	case batch.CheckRate(o.Rate) != nil:
		return checkRate(o.Rate)
	case o.Timeout <= 0:
		return usageErr("--timeout must be positive")
	case o.MaxAttempts < 1:
		return usageErr("--max-attempts must be at least 1")
	case o.MaxRetryAfter <= 0:
		return usageErr("--max-retry-after must be positive")
	}
	return nil
}

func (o *Options) checkSchedule() error {
	switch {
	case o.MaxRows < 0:
		return usageErr("--max-rows must not be negative")
	case o.MaxDuration < 0:
		return usageErr("--max-duration must not be negative")
	case o.WindowExit && o.Window == "":
		return usageErr("--window-exit needs --window")
	}
	return nil
}

// checkReport makes the report's extension decide its format: --report
// x.report.jsonl writes JSONL without --report-format, and a
// --report-format that contradicts the extension is refused rather than
// writing one format under the other's name. A path with another
// extension takes --report-format.
func (o *Options) checkReport() error {
	if o.Report == "" {
		return nil
	}
	f, ok := report.FormatOf(o.Report)
	if !ok {
		return nil
	}
	if o.ReportFormatSet && o.ReportFormat != string(f) {
		return usageErr("--report %s names a %s report but --report-format is %s: drop --report-format (the extension decides), or name the report with .%s", o.Report, f, o.ReportFormat, o.ReportFormat)
	}
	o.ReportFormat = string(f)
	return nil
}

// Level is the log level that -q, -v and --log-level ask for.
func (o *Options) Level() (zapcore.Level, error) {
	switch {
	case o.Quiet && o.Verbose:
		return 0, usageErr("-q and -v do not go together")
	case (o.Quiet || o.Verbose) && o.LogLevelSet:
		return 0, usageErr("--log-level does not go with -q or -v")
	case o.Quiet:
		return zapcore.ErrorLevel, nil
	case o.Verbose:
		return zapcore.DebugLevel, nil
	}
	lvl, err := zapcore.ParseLevel(o.LogLevel)
	if err != nil {
		return 0, usageErr("--log-level %q: want debug, info, warn or error", o.LogLevel)
	}
	return lvl, nil
}

// progressMode is --progress with auto decided: a bar where one can be
// drawn, log lines elsewhere, nothing with -q.
func (o *Options) progressMode(st console.Style) console.Mode {
	if o.Progress != "auto" && o.Progress != "" {
		return console.Mode(o.Progress)
	}
	switch {
	case o.Quiet:
		return console.ModeNone
	case st.Bar:
		return console.ModeBar
	}
	return console.ModeLog
}

// newProgress is the progress of a run, as its flags ask, on the bar's
// side of m.
func (o *Options) newProgress(m *console.Mux, st console.Style, log *zap.Logger) *console.Progress {
	return console.NewProgress(o.progressMode(st), o.ProgressEvery, m.Bar(), log)
}
