package job

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

// A lock held by another run is exit 4 with the holder's PID; the same
// report's lock is free again once released.
func TestAcquireLockWords(t *testing.T) {
	report := filepath.Join(t.TempDir(), "changes.report.csv")
	first, err := acquireLock(report)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	_, err = acquireLock(report)
	if KindOf(err) != Locked {
		t.Fatalf("second acquire: %v (kind %q), want kind %q", err, KindOf(err), Locked)
	}
	want := fmt.Sprintf("another ensbulk run (PID %d) holds the lock on report %s; wait for it to end", os.Getpid(), report)
	if err.Error() != want {
		t.Errorf("refusal = %q, want %q", err, want)
	}
}

// A lock file that cannot be used is a file error (exit 2), not ours.
func TestAcquireLockFileError(t *testing.T) {
	report := filepath.Join(t.TempDir(), "no such dir", "changes.report.csv")
	_, err := acquireLock(report)
	if KindOf(err) != File || !strings.Contains(err.Error(), "changes.report.csv.lock") {
		t.Errorf("err = %v (kind %q), want a file error naming the lock file (kind %q)", err, KindOf(err), File)
	}
}

// A symbolic link at REPORT.lock is refused as a file error, with what to
// do about it.
func TestAcquireLockSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need a privilege on Windows")
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "changes.report.csv")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), report+".lock"); err != nil {
		t.Fatal(err)
	}
	_, err := acquireLock(report)
	if KindOf(err) != File || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "remove it if no run is going") {
		t.Errorf("err = %v (kind %q), want a refusal naming the link, with the remedy (kind %q)", err, KindOf(err), File)
	}
}

// --window's errors name the flag and are usage errors; a closed window
// stops the run like a budget, with the flag in the reason the summary
// shows.
func TestWindowWords(t *testing.T) {
	_, err := parseWindow("05:00-05:00", time.Now)
	if want := `--window "05:00-05:00": start and end are equal`; err == nil || err.Error() != want || KindOf(err) != Usage {
		t.Errorf("parseWindow = %v (kind %q), want %q (kind %q)", err, KindOf(err), want, Usage)
	}
	noon := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	w, err := parseWindow("11:00-12:00 UTC", func() time.Time { return noon })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		started time.Time
		want    string
	}{
		{"before it opens, with --window-exit", noon, "outside --window 11:00-12:00 UTC (opens in 23h0m0s)"},
		{"after it closed", noon.Add(-30 * time.Minute), "--window 11:00-12:00 UTC closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := gateWindow(context.Background(), w, tt.started, true)
			var se *batch.StopError
			if !errors.As(err, &se) || se.Kind != batch.StopBudget || se.Reason != tt.want {
				t.Errorf("gateWindow = %v, want a budget stop %q", err, tt.want)
			}
		})
	}
}

// A rate the engine refuses is said with the flag's name; the engine's
// own error names no flag.
func TestCheckRateWords(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want string
	}{
		{math.NaN(), "--rate NaN: want a number of requests per second (0 = no limit)"},
		{-1, "--rate -1: want 0 (no limit) or more"},
		{0.001, "--rate 0.001: less than one request a minute; want 0 (no limit) or at least 0.0167"},
		{1e9, "--rate 1e+09: more than 100000 requests per second cannot be paced; use 0 for no limit"},
	} {
		err := checkRate(tc.rate)
		if err == nil || err.Error() != tc.want || KindOf(err) != Usage {
			t.Errorf("checkRate(%g) = %v (kind %q), want %q (kind %q)", tc.rate, err, KindOf(err), tc.want, Usage)
		}
	}
	for _, r := range []float64{0, 5, batch.MaxRate} {
		if err := checkRate(r); err != nil {
			t.Errorf("checkRate(%g) = %v, want nil", r, err)
		}
	}
}

// The engine's row messages and stop reasons name the flags.
func TestEngineWords(t *testing.T) {
	w := engineWords()
	for _, tc := range []struct{ got, want string }{
		{w.RowLimit(5), "--max-rows 5 reached"},
		{w.AllOrNothing(2), "not applied: --all-or-nothing and 2 row(s) did not pass validation"},
		{w.Forced, "overwritten (--force)"},
		{w.ForceHint, "a run with --force would overwrite them"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
