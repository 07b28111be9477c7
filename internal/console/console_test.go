package console

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
)

func TestStyleOf(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		env      map[string]string
		want     Style
	}{
		{"terminal", true, nil, Style{Terminal: true, Bar: true, Color: true}},
		{"NO_COLOR keeps the bar", true, map[string]string{"NO_COLOR": "1"}, Style{Terminal: true, Bar: true}},
		{"TERM=dumb draws nothing", true, map[string]string{"TERM": "dumb"}, Style{Terminal: true}},
		{"not a terminal", false, map[string]string{"TERM": "xterm"}, Style{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StyleOf(tt.terminal, func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("StyleOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A log line written while the bar is on screen wipes the bar's line,
// and the bar is drawn again below it; once the bar's line is done (a
// newline), log lines are written as they are.
func TestMuxKeepsLogLinesOffTheBar(t *testing.T) {
	var out bytes.Buffer
	m := NewMux(&out)
	bar := m.Bar()
	fmt.Fprint(bar, "\rvalidate  50% |#####     |")
	fmt.Fprint(m, "WARN row not applied\n")
	want := "\rvalidate  50% |#####     |" +
		"\r" + "                          " + "\r" + // the bar's line wiped, as wide as the bar
		"WARN row not applied\n" +
		"\rvalidate  50% |#####     |" // and drawn again
	if got := out.String(); got != want {
		t.Errorf("stderr = %q\nwant     %q", got, want)
	}

	out.Reset()
	fmt.Fprint(bar, "\n")
	fmt.Fprint(m, "INFO done\n")
	if got, want := out.String(), "\nINFO done\n"; got != want {
		t.Errorf("after the bar's line ended, stderr = %q, want %q", got, want)
	}
}

// The bar says its rate in rows a second from its first frame to its
// last: the bar library's own rate said rows/hr while it was slow.
func TestProgressBarRateOneUnit(t *testing.T) {
	var out bytes.Buffer
	p := NewProgress(ModeBar, time.Second, NewMux(&out).Bar(), zap.NewNop())
	p.Update(batch.Progress{Phase: batch.PhaseValidate, Done: 0, Total: 4, Elapsed: 3 * time.Second})
	p.Update(batch.Progress{Phase: batch.PhaseValidate, Done: 4, Total: 4, Elapsed: 5 * time.Second})
	p.Update(batch.Progress{Phase: batch.PhaseApply, Done: 0, Total: 2, Elapsed: 5 * time.Second})
	p.Finish()
	screen := out.String()
	for _, want := range []string{"validate 0.0 rows/s", "validate 2.0 rows/s", "apply    0.0 rows/s"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the bar never said %q:\n%q", want, screen)
		}
	}
	if n := regexp.MustCompile(`rows/[a-z]+`).FindAllString(screen, -1); len(n) == 0 || slices.ContainsFunc(n, func(u string) bool { return u != "rows/s" }) {
		t.Errorf("rate units %q, want rows/s throughout:\n%q", n, screen)
	}
}
