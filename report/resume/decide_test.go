package resume

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/report"
)

// TestDecideTable holds decide, the one place that chooses what a run does
// with its report, against each situation look and the effects can
// produce. It reads no file: decide is pure.
func TestDecideTable(t *testing.T) {
	cur := report.Meta{Mode: "run", Format: report.CSV, Switch: "sw", User: "u", Input: "in.csv"}
	finished := cur
	finished.Finished = time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	otherSwitch := cur
	otherSwitch.Switch = "other"
	validate := cur
	validate.Mode = "validate"
	cfg := func(f func(*Config)) Config {
		c := Config{Report: "r.csv", Meta: cur}
		if f != nil {
			f(&c)
		}
		return c
	}
	resume := func(c *Config) { c.Resume = true }
	tests := []struct {
		name    string
		cfg     Config
		s       situation
		want    action
		refusal string // a part of the refusal; "" when none
	}{
		{"nothing there", cfg(nil), situation{}, actStart, ""},
		{"nothing there, resume", cfg(resume), situation{}, actStart, ""},
		{"nothing there, reuse", cfg(func(c *Config) { c.Reuse = "v.csv" }), situation{}, actReuse, ""},
		{"looked and refused", cfg(nil), situation{refused: refuse("a link")}, 0, "a link"},
		{"exists", cfg(nil), situation{exists: true, meta: cur}, 0, "pass --resume"},
		{"exists without sidecar", cfg(nil), situation{exists: true, metaErr: fs.ErrNotExist}, 0, "not a report of ensbulk"},
		{"earlier validate", cfg(func(c *Config) { c.Meta = validate }), situation{exists: true, meta: validate}, actReplace, ""},
		{"resume without sidecar, empty", cfg(resume), situation{exists: true, metaErr: fs.ErrNotExist, empty: true}, actDiscard, ""},
		{"resume without sidecar, not empty", cfg(resume), situation{exists: true, metaErr: fs.ErrNotExist}, 0, "sidecar r.csv.meta.json is missing"},
		{"resume, unreadable sidecar", cfg(resume), situation{exists: true, metaErr: errors.New("bad json")}, 0, "is unreadable (bad json)"},
		{"resume, other switch", cfg(resume), situation{exists: true, meta: otherSwitch}, 0, "belongs to switch other"},
		{"resume, other mode", cfg(resume), situation{exists: true, meta: validate}, 0, `report of a "validate" run`},
		{"resume, not compared", cfg(resume), situation{exists: true, meta: cur}, actCompare, ""},
		{"resume, same input", cfg(resume), situation{exists: true, meta: cur, compared: true}, actContinue, ""},
		{"resume, changed", cfg(resume), situation{exists: true, meta: cur, compared: true, diffs: []string{"row 2"}}, 0, "input changed since"},
		{"resume, changed, force", cfg(func(c *Config) { c.Resume, c.Force = true, true }), situation{exists: true, meta: cur, compared: true, diffs: []string{"row 2"}}, actContinue, ""},
		{"resume, changed, rotate unfinished", cfg(func(c *Config) { c.Resume, c.Rotate = true, true }), situation{exists: true, meta: cur, compared: true, diffs: []string{"row 2"}}, 0, "input changed since"},
		{"resume, changed, rotate finished", cfg(func(c *Config) { c.Resume, c.Rotate = true, true }), situation{exists: true, meta: finished, compared: true, diffs: []string{"row 2"}}, actRotate, ""},
		{"rotated", cfg(resume), situation{rotated: true}, actStart, ""},
		{"rotated, reuse", cfg(func(c *Config) { c.Resume, c.Reuse = true, "v.csv" }), situation{rotated: true}, actReuse, ""},
		{"retry", cfg(func(c *Config) { c.RetryFailed = "old.csv" }), situation{retried: &cur}, actRetry, ""},
		{"retry, other switch", cfg(func(c *Config) { c.RetryFailed = "old.csv" }), situation{retried: &otherSwitch}, 0, "belongs to switch other"},
		{"retry, unreadable sidecar", cfg(func(c *Config) { c.RetryFailed = "old.csv" }), situation{retriedErr: fs.ErrNotExist}, 0, "pass --force if it was made against sw"},
		{"retry, unreadable sidecar, force", cfg(func(c *Config) { c.RetryFailed, c.Force = "old.csv", true }), situation{retriedErr: fs.ErrNotExist}, actRetry, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decide(tt.cfg, tt.s)
			if tt.refusal == "" {
				if err != nil || got != tt.want {
					t.Errorf("decide = %v, %v; want %v, nil", got, err, tt.want)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.refusal) {
				t.Errorf("decide = %v, %v; want a refusal containing %q", got, err, tt.refusal)
			}
		})
	}
}
