package window

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWindowState(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, oslo) }
	tests := []struct {
		name       string
		spec       string
		now        time.Time
		wantInside bool
		wantChange time.Duration
	}{
		{"before", "01:00-05:00 Europe/Oslo", at(0, 30), false, 30 * time.Minute},
		{"at start", "01:00-05:00 Europe/Oslo", at(1, 0), true, 4 * time.Hour},
		{"inside", "01:00-05:00 Europe/Oslo", at(4, 59), true, time.Minute},
		{"at end", "01:00-05:00 Europe/Oslo", at(5, 0), false, 20 * time.Hour},
		{"evening", "01:00-05:00 Europe/Oslo", at(23, 0), false, 2 * time.Hour},
		{"across midnight, evening", "22:00-04:00 Europe/Oslo", at(23, 0), true, 5 * time.Hour},
		{"across midnight, morning", "22:00-04:00 Europe/Oslo", at(3, 0), true, time.Hour},
		{"across midnight, day", "22:00-04:00 Europe/Oslo", at(12, 0), false, 10 * time.Hour},
		{"other zone", "01:00-05:00 UTC", at(2, 30), true, 3*time.Hour + 30*time.Minute}, // 01:30 UTC
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Parse(tt.spec, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			inside, change := w.State(tt.now)
			if inside != tt.wantInside || change != tt.wantChange {
				t.Errorf("state(%s) = %v, %s; want %v, %s", tt.now.Format("15:04"), inside, change, tt.wantInside, tt.wantChange)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{"1-5", "01:00", "01:00-05:00 Mars/Olympus", "05:00-05:00", "25:00-01:00", "01:00-02:00 UTC extra"} {
		t.Run(spec, func(t *testing.T) {
			_, err := Parse(spec, time.Now)
			var se *SyntaxError
			if !errors.As(err, &se) || se.Spec != spec {
				t.Errorf("Parse(%q) = %v, want a *SyntaxError for the spec", spec, err)
			}
		})
	}
}

// TestWindowGate drives the gate with an injected clock and sleep: no test
// sleeps for real.
func TestWindowGate(t *testing.T) {
	utc := time.UTC
	clock := time.Date(2026, 3, 10, 0, 0, 0, 0, utc)
	w, err := Parse("01:00-05:00 UTC", func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	w.sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		clock = clock.Add(d)
		return nil
	}
	ctx := context.Background()
	started := clock

	t.Run("outside with exit stops at once", func(t *testing.T) {
		err := w.Gate(ctx, started, true)
		var ce *ClosedError
		if !errors.As(err, &ce) || ce.Ended || ce.OpensIn != time.Hour {
			t.Fatalf("gate = %v, want a ClosedError opening in 1h", err)
		}
		if len(slept) != 0 {
			t.Errorf("slept %v, want no sleep", slept)
		}
	})
	t.Run("outside waits for the window", func(t *testing.T) {
		if err := w.Gate(ctx, started, false); err != nil {
			t.Fatalf("gate = %v", err)
		}
		if len(slept) != 1 || slept[0] != time.Hour {
			t.Errorf("slept %v, want [1h]", slept)
		}
	})
	t.Run("inside goes", func(t *testing.T) {
		clock = time.Date(2026, 3, 10, 3, 0, 0, 0, utc)
		if err := w.Gate(ctx, started, false); err != nil {
			t.Fatalf("gate = %v", err)
		}
	})
	t.Run("end of the window stops the run", func(t *testing.T) {
		clock = time.Date(2026, 3, 10, 5, 0, 0, 0, utc)
		err := w.Gate(ctx, started, false)
		var ce *ClosedError
		if !errors.As(err, &ce) || !ce.Ended {
			t.Fatalf("gate = %v, want a ClosedError for the window's end", err)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		w2, _ := Parse("01:00-05:00 UTC", func() time.Time { return time.Date(2026, 3, 10, 12, 0, 0, 0, utc) })
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := w2.Gate(cctx, time.Date(2026, 3, 10, 12, 0, 0, 0, utc), false); err == nil {
			t.Fatal("gate returned nil on a cancelled context")
		}
	})
}
