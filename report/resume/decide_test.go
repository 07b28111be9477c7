package resume

import (
	"errors"
	"io/fs"
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
	row2 := []Change{{Kind: RowsChanged, Rows: Rows{First: []int{2}, Total: 1}}}
	tests := []struct {
		name    string
		cfg     Config
		s       situation
		want    action
		refusal Reason // the refusal's reason; 0 when none
	}{
		{"nothing there", cfg(nil), situation{}, actStart, 0},
		{"nothing there, resume", cfg(resume), situation{}, actStart, 0},
		{"nothing there, reuse", cfg(func(c *Config) { c.Reuse = "v.csv" }), situation{}, actReuse, 0},
		{"looked and refused", cfg(nil), situation{refused: &Refusal{Reason: FileLink, Path: "r.csv"}}, 0, FileLink},
		{"exists", cfg(nil), situation{exists: true, meta: cur}, 0, ReportExists},
		{"exists without sidecar", cfg(nil), situation{exists: true, metaErr: fs.ErrNotExist}, 0, NotAReport},
		{"earlier validate", cfg(func(c *Config) { c.Meta = validate }), situation{exists: true, meta: validate}, actReplace, 0},
		{"resume without sidecar, empty", cfg(resume), situation{exists: true, metaErr: fs.ErrNotExist, empty: true}, actDiscard, 0},
		{"resume without sidecar, not empty", cfg(resume), situation{exists: true, metaErr: fs.ErrNotExist}, 0, SidecarMissing},
		{"resume, unreadable sidecar", cfg(resume), situation{exists: true, metaErr: errors.New("bad json")}, 0, SidecarUnreadable},
		{"resume, other switch", cfg(resume), situation{exists: true, meta: otherSwitch}, 0, OtherSwitch},
		{"resume, other mode", cfg(resume), situation{exists: true, meta: validate}, 0, OtherMode},
		{"resume, not compared", cfg(resume), situation{exists: true, meta: cur}, actCompare, 0},
		{"resume, same input", cfg(resume), situation{exists: true, meta: cur, compared: true}, actContinue, 0},
		{"resume, changed", cfg(resume), situation{exists: true, meta: cur, compared: true, diffs: row2}, 0, InputChanged},
		{"resume, changed, force", cfg(func(c *Config) { c.Resume, c.Force = true, true }), situation{exists: true, meta: cur, compared: true, diffs: row2}, actContinue, 0},
		{"resume, changed, rotate unfinished", cfg(func(c *Config) { c.Resume, c.Rotate = true, true }), situation{exists: true, meta: cur, compared: true, diffs: row2}, 0, InputChanged},
		{"resume, changed, rotate finished", cfg(func(c *Config) { c.Resume, c.Rotate = true, true }), situation{exists: true, meta: finished, compared: true, diffs: row2}, actRotate, 0},
		{"rotated", cfg(resume), situation{rotated: true}, actStart, 0},
		{"rotated, reuse", cfg(func(c *Config) { c.Resume, c.Reuse = true, "v.csv" }), situation{rotated: true}, actReuse, 0},
		{"retry", cfg(func(c *Config) { c.RetryFailed = "old.csv" }), situation{retried: &cur}, actRetry, 0},
		{"retry, other switch", cfg(func(c *Config) { c.RetryFailed = "old.csv" }), situation{retried: &otherSwitch}, 0, OtherSwitch},
		{"retry, unreadable sidecar", cfg(func(c *Config) { c.RetryFailed = "old.csv" }), situation{retriedErr: fs.ErrNotExist}, 0, SidecarUnreadable},
		{"retry, unreadable sidecar, force", cfg(func(c *Config) { c.RetryFailed, c.Force = "old.csv", true }), situation{retriedErr: fs.ErrNotExist}, actRetry, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decide(tt.cfg, tt.s)
			if tt.refusal == 0 {
				if err != nil || got != tt.want {
					t.Errorf("decide = %v, %v; want %v, nil", got, err, tt.want)
				}
				return
			}
			var re *Refusal
			if !errors.As(err, &re) || re.Reason != tt.refusal {
				t.Errorf("decide = %v, %v; want a refusal: %v", got, err, tt.refusal)
			} else if op := opOf(tt.cfg); re.Op != op {
				t.Errorf("decide: refused %v, want %v", re.Op, op)
			}
		})
	}
}

// opOf is what a refusal of cfg's run was asked to do.
func opOf(cfg Config) Op {
	switch {
	case cfg.RetryFailed != "":
		return OpRetry
	case cfg.Resume:
		return OpResume
	}
	return OpStart
}
