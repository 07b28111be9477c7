package summaryfile

import (
	"encoding/json"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// Summary is the machine-readable result of a run, for monitoring. Its
// fields are a contract: add, never rename.
type Summary struct {
	Version      int            `json:"version"`
	Command      string         `json:"command"`
	Input        string         `json:"input"`
	Report       string         `json:"report"`
	ExitCode     int            `json:"exit_code"`
	Outcome      Outcome        `json:"outcome"`
	Reason       string         `json:"reason,omitempty"`
	Rows         int            `json:"rows"`
	RowsThisRun  int            `json:"rows_this_run"`
	Counts       map[string]int `json:"counts"`
	Requests     int64          `json:"requests"`
	Retries      int64          `json:"retries"`
	Throttles    int64          `json:"throttles"`
	TargetRate   float64        `json:"target_rate"`
	AchievedRate float64        `json:"achieved_rate"`
	Started      time.Time      `json:"started"`
	Finished     time.Time      `json:"finished"`
	DurationSec  float64        `json:"duration_seconds"`
	// Estimate is what the run said before its first row it would send
	// (absent when it stopped before it could say).
	Estimate *Estimate `json:"estimate,omitempty"`
}

// Estimate is a run's cost as counted before it started: requests in all
// (the lists already sent included) and how long those left take at the
// run's --rate (0: no limit, the server's speed decides).
type Estimate struct {
	Requests    int64   `json:"requests"`
	DurationSec float64 `json:"duration_seconds"`
}

// Outcome is how a run ended, in one word for monitoring.
type Outcome string

// The outcomes; the values are the contract.
const (
	Running       Outcome = "running" // the placeholder while a run goes
	Waiting       Outcome = "waiting" // the run waits for its --window to open
	OK            Outcome = "ok"
	RowsNotOK     Outcome = "rows_not_ok"
	UsageError    Outcome = "usage_error"
	Locked        Outcome = "locked"
	Stopped       Outcome = "stopped" // by a budget or window: resumable
	InternalError Outcome = "internal_error"
	Aborted       Outcome = "aborted"
	Interrupted   Outcome = "interrupted"
)

// Of is the summary of a run of command (run, validate, plan) on input,
// reporting to reportPath, from started to finished. sum and c are nil
// when the run ended before the engine ran (a refusal, the lock): the
// counts are then zero. The caller sets ExitCode, Outcome and Reason.
func Of(command, input, reportPath string, sum *batch.Summary, c *report.Counts, started, finished time.Time) Summary {
	s := Summary{
		Version: 1, Command: command, Input: input, Report: reportPath,
		Counts: map[string]int{}, Started: started.UTC(), Finished: finished.UTC(),
		DurationSec: finished.Sub(started).Seconds(),
	}
	if sum != nil {
		s.RowsThisRun, s.Requests, s.Retries, s.Throttles = sum.Todo, sum.Requests, sum.Retries, sum.Throttles
		s.TargetRate, s.AchievedRate, s.DurationSec = sum.TargetRate, round1(sum.AchievedRate), sum.Duration.Seconds()
	}
	for _, st := range batch.Statuses {
		s.Counts[string(st)] = 0
		if c != nil {
			s.Counts[string(st)] = c.ByStatus[st]
		}
	}
	if c != nil {
		s.Rows = c.Rows
	}
	return s
}

// encode is the bytes of a summary: indented JSON and a newline.
func encode(s Summary) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	return append(b, '\n'), err
}

// round1 rounds f to one decimal, for a rate.
func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
