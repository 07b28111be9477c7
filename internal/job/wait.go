package job

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/internal/summaryfile"
)

// gate is the schedule's gate (gate) with the wait for a --window said:
// a run started before its window opens logs that it waits and when the
// window opens, and --summary-json says "waiting" until it does, then
// "running" again. A quiet wait of hours looks like a hang.
func (j *job) gate() func(context.Context) error {
	g := gate(j.o, j.win, j.started)
	if g == nil || j.win == nil || j.o.WindowExit {
		return g
	}
	var once sync.Once
	var waiting atomic.Bool
	return func(ctx context.Context) error {
		once.Do(func() {
			now := j.o.now()
			inside, wait := j.win.State(now)
			if inside {
				return
			}
			opens := now.Add(wait)
			j.log.Warn(fmt.Sprintf("waiting for --window %s: it opens at %s (in %s); nothing is sent until then", j.o.Window,
				opens.Format("2006-01-02 15:04 MST"), wait.Round(time.Second)), zap.Time("opens", opens))
			waiting.Store(true)
			if err := j.rec.writeOutcome(summaryfile.Waiting); err != nil {
				j.log.Warn("--summary-json: not written", zap.Error(err))
			}
		})
		err := g(ctx)
		if err == nil && waiting.CompareAndSwap(true, false) {
			j.log.Info(fmt.Sprintf("--window %s is open: sending", j.o.Window))
			if err := j.rec.writeOutcome(summaryfile.Running); err != nil {
				j.log.Warn("--summary-json: not written", zap.Error(err))
			}
		}
		return err
	}
}
