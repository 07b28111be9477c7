// Package console is what a run shows people on stderr: the style the
// terminal allows, the logger, the progress bar or progress lines, and
// the mux that lets the bar and the log lines share one stream.
package console

import (
	"bytes"
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
)

// Style is what stderr can show.
type Style struct {
	Terminal bool // stderr is a terminal
	Bar      bool // a progress bar can be drawn: a terminal that is not TERM=dumb
	Color    bool // colour codes: a terminal, NO_COLOR unset, TERM not dumb
	// Stamped: stderr is a Stamper, which starts every line with the
	// time, so the logger leaves its own out.
	Stamped bool
}

// StyleOf is the style of a stderr that is a terminal or not, in the
// environment getenv reads (TERM, NO_COLOR).
func StyleOf(terminal bool, getenv func(string) string) Style {
	dumb := getenv("TERM") == "dumb"
	return Style{Terminal: terminal, Bar: terminal && !dumb, Color: terminal && !dumb && getenv("NO_COLOR") == ""}
}

// NewLogger logs to w (stderr) in zap's console format, on a terminal and off
// it. Off a terminal stderr is a cron mail, a log file or the journal,
// which a person reads after something went wrong, next to the plain-text
// summary and error line that end every run; JSON log lines mixed with
// those would be two formats in one stream. Machines have --summary-json
// and the report. Off a terminal the timestamps are full ISO 8601 and
// there is never colour; on a Stamper (st.Stamped) the stamp is the time,
// in the place the logger would put its own.
func NewLogger(w io.Writer, st Style, lvl zapcore.Level) *zap.Logger {
	cfg := zap.NewDevelopmentEncoderConfig()
	cfg.EncodeLevel = zapcore.CapitalLevelEncoder
	if st.Color {
		cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
	}
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	if st.Terminal {
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
	}
	if st.Stamped {
		cfg.TimeKey = ""
	}
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.AddSync(w), lvl)
	return zap.New(core)
}

// Mux is stderr shared by the progress bar and the log lines, which
// write from different goroutines. A log line written while the bar is on
// screen would be glued to the bar and overwritten by its next redraw, so
// the mux wipes the bar's line, writes the log line, and draws the bar
// again below it. Its Write is the log side; Bar the bar's.
type Mux struct {
	mu    sync.Mutex
	w     io.Writer
	shown []byte // the bar as last drawn, while it is on screen
	width int    // the widest the bar has been, in cells
}

// NewMux shares w.
func NewMux(w io.Writer) *Mux { return &Mux{w: w} }

// Write writes a log line (or any whole lines) above the bar.
func (m *Mux) Write(p []byte) (int, error) {
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

// Bar is the writer the progress bar draws with.
func (m *Mux) Bar() io.Writer { return barWriter{m} }

// barWriter is the bar's side of a Mux: it remembers the bar as drawn.
type barWriter struct{ m *Mux }

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

// Mode is how progress is shown.
type Mode string

// The modes of Progress; the values are --progress's.
const (
	ModeBar  Mode = "bar"  // a bar, redrawn in place (a terminal)
	ModeLog  Mode = "json" // an info log line every so often
	ModeNone Mode = "none" // nothing
)

// Progress shows how a run goes: a bar on a terminal, a log line every
// few seconds otherwise. It is driven by the engine's writer goroutine
// only, which therefore owns the bar.
type Progress struct {
	mode  Mode
	log   *zap.Logger
	every time.Duration
	out   io.Writer // the bar's side of stderr
	bar   *progressbar.ProgressBar
	phase batch.Phase
	last  time.Time
	cur   batch.Progress
	desc  string        // the bar's description as last set
	since time.Duration // the run's Elapsed when the bar's phase began
}

// NewProgress shows progress in mode: the bar draws on out (a Mux's
// Bar), the log lines go to log at most once per every.
func NewProgress(mode Mode, every time.Duration, out io.Writer, log *zap.Logger) *Progress {
	return &Progress{mode: mode, log: log, every: every, out: out}
}

// Update shows pr; it is the engine's OnProgress.
func (p *Progress) Update(pr batch.Progress) {
	switch p.mode {
	case ModeBar:
		if p.bar == nil || pr.Phase != p.phase {
			p.endBar()
			p.phase = pr.Phase
			p.last = time.Time{}
			p.since = pr.Elapsed
			p.desc = ""
			// The rate is ours, in the description (describe): the bar's
			// own (OptionShowIts) picks rows/hr, /min or /s by the rate,
			// so its first frames said "0 rows/hr" and the next "6401
			// rows/s".
			p.bar = progressbar.NewOptions(pr.Total,
				progressbar.OptionSetWriter(p.out),
				progressbar.OptionSetDescription(describe(pr, 0)),
				progressbar.OptionShowCount(),
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
	case ModeLog:
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
func (p *Progress) draw() {
	if p.bar.IsFinished() {
		return // a finished bar redraws on a fresh line
	}
	// Describe draws the bar too: only when the text changes.
	rate := 0.0
	if s := (p.cur.Elapsed - p.since).Seconds(); s > 0 {
		rate = float64(p.cur.Done) / s
	}
	if d := describe(p.cur, rate); d != p.desc {
		p.desc = d
		p.bar.Describe(d)
	}
	_ = p.bar.Set(p.cur.Done)
}

// describe is the bar's description: the phase, its rate in rows a
// second (one unit, whatever the rate), the failures so far.
func describe(pr batch.Progress, rate float64) string {
	return fmt.Sprintf("%-8s %.1f rows/s, failures %d", pr.Phase, rate, pr.Failures)
}

// endBar leaves the bar showing where its phase got to. Finish would
// fill it to 100%, which after an abort or Ctrl-C is a lie.
func (p *Progress) endBar() {
	if p.bar == nil {
		return
	}
	p.draw() // reaching the total finishes the bar
	if !p.bar.IsFinished() {
		_ = p.bar.Exit() // keeps the count drawn; ends the line
	}
	p.bar = nil
}

func (p *Progress) emit(pr batch.Progress) {
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Requests) / s
	}
	p.log.Info("progress", zap.String("phase", string(pr.Phase)), zap.Int("done", pr.Done), zap.Int("total", pr.Total),
		zap.Int("failures", pr.Failures), zap.Int64("requests", pr.Requests), zap.Float64("rate", round1(rate)))
}

// Finish ends the bar where its phase got to.
func (p *Progress) Finish() {
	p.endBar()
}

// round1 rounds f to one decimal, for a rate.
func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
