package console

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// Every line begun through a Stamper starts with the time of its first
// piece and a tab; blank lines stay blank; a line written in pieces is
// stamped once.
func TestStamperStampsEveryLine(t *testing.T) {
	at := time.Date(2026, 5, 1, 2, 0, 3, 123e6, time.FixedZone("", 2*3600))
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"one line", []string{"ensbulk: warning: x\n"}, "2026-05-01T02:00:03.123+02:00\tensbulk: warning: x\n"},
		{"a summary block", []string{"\nensbulk run a.csv: finished\n", "report: a.report.csv\nexit 0\n"},
			"\n2026-05-01T02:00:03.123+02:00\tensbulk run a.csv: finished\n" +
				"2026-05-01T02:00:03.123+02:00\treport: a.report.csv\n2026-05-01T02:00:03.123+02:00\texit 0\n"},
		{"a line in pieces", []string{"Password for a: ", "\n"}, "2026-05-01T02:00:03.123+02:00\tPassword for a: \n"},
		{"nothing", []string{""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			s := NewStamper(&out, func() time.Time { return at })
			for _, w := range tt.writes {
				n, err := fmt.Fprint(s, w)
				if err != nil || n != len(w) {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// On a Stamper the logger leaves its own time out: one time per line.
func TestLoggerOnStamperHasOneTime(t *testing.T) {
	var out bytes.Buffer
	at := time.Date(2026, 5, 1, 2, 0, 3, 0, time.UTC)
	log := NewLogger(NewStamper(&out, func() time.Time { return at }), Style{Stamped: true}, 0)
	log.Info("progress")
	if got, want := out.String(), "2026-05-01T02:00:03.000Z\tINFO\tprogress\n"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
