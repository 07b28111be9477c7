package console

import (
	"bytes"
	"fmt"
	"testing"
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
