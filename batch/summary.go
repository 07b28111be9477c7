package batch

import (
	"sort"
	"time"
)

// Summary describes a finished run.
type Summary struct {
	Rows         int // rows in the input
	Todo         int // rows this run handled (all but those resumed past)
	ByStatus     map[Status]int
	Requests     int64
	Retries      int64
	Throttles    int64
	Throttled    time.Duration
	Duration     time.Duration
	TargetRate   float64
	AchievedRate float64
	Errors       []ErrorCount // most frequent first
	Stopped      *StopError
	// ReadBack counts the rows read back after their update (--verify,
	// a canary): see Options.ReadBack.
	ReadBack ReadBackCounts
}

// ErrorCount counts rows that ended with the same status, code and message.
type ErrorCount struct {
	Status  Status
	Code    string
	Message string
	Count   int
}

// Failures counts rows that did not end ok, valid, unchanged or change.
func (s *Summary) Failures() int {
	return s.ByStatus[StatusInvalid] + s.ByStatus[StatusFailed] + s.ByStatus[StatusError] + s.ByStatus[StatusSkipped] +
		s.ByStatus[StatusAppliedUnvalidated] + s.ByStatus[StatusMismatch]
}

// maxErrorKinds bounds the distinct (status, code, message) triples kept:
// messages can carry row data, and memory must not grow with the rows.
const maxErrorKinds = 1000

type errKey struct {
	status  Status
	code    string
	message string
}

// tally counts final results; only the writer goroutine touches it.
type tally struct {
	byStatus map[Status]int
	errs     map[errKey]int
	notValid int // rows of this run that will not be applied
}

func newTally() *tally {
	return &tally{byStatus: map[Status]int{}, errs: map[errKey]int{}}
}

func (t *tally) count(r Result) {
	t.byStatus[r.Status]++
	if r.Status.Success() {
		return
	}
	if r.Phase == PhaseLocal || r.Phase == PhaseValidate {
		t.notValid++
	}
	k := errKey{r.Status, r.Code, r.Message}
	if _, ok := t.errs[k]; ok || len(t.errs) < maxErrorKinds {
		t.errs[k]++
	}
}

// failures counts rows not ok/valid so far.
func (t *tally) failures() int {
	n := 0
	for st, c := range t.byStatus {
		if !st.Success() {
			n += c
		}
	}
	return n
}

// summary returns the counts; the caller fills in the rest.
func (t *tally) summary() *Summary {
	out := make([]ErrorCount, 0, len(t.errs))
	for k, n := range t.errs {
		out = append(out, ErrorCount{Status: k.status, Code: k.code, Message: k.message, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Message < out[j].Message
	})
	return &Summary{ByStatus: t.byStatus, Errors: out}
}
