package batch

import (
	"strings"
	"testing"
)

func TestCircuit(t *testing.T) {
	type step struct {
		do   string // "ok", "forbid", "fail", or "throttle"
		seq  int64  // throttle: the request's number
		sent int64  // throttle: requests sent when the answer came back
		open bool   // the step stops the run
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"402/403 three in a row", []step{{do: "forbid"}, {do: "forbid"}, {do: "forbid", open: true}}},
		{"an answer between 402/403 resets", []step{{do: "forbid"}, {do: "forbid"}, {do: "ok"}, {do: "forbid"}, {do: "forbid"}}},
		{"a transport failure does not reset 402/403", []step{{do: "forbid"}, {do: "fail"}, {do: "forbid"}, {do: "forbid", open: true}}},
		{"failures open at the threshold", []step{{do: "fail"}, {do: "fail"}, {do: "fail"}, {do: "fail", open: true}}},
		{"an answer closes the circuit", []step{{do: "fail"}, {do: "fail"}, {do: "fail"}, {do: "forbid"}, {do: "fail"}, {do: "fail"}, {do: "fail"}}},
		{"one wave of throttles counts once", []step{
			{do: "throttle", seq: 10, sent: 20}, {do: "throttle", seq: 11, sent: 20}, {do: "throttle", seq: 20, sent: 21},
			{do: "fail"}, {do: "fail"}, {do: "fail", open: true}}}, // 1 + 3 failures
		{"throttles after each wave count", []step{
			{do: "throttle", seq: 1, sent: 1}, {do: "throttle", seq: 2, sent: 2}, {do: "throttle", seq: 3, sent: 3},
			{do: "throttle", seq: 4, sent: 4, open: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := circuit{forbidLimit: 3, failLimit: 4}
			for i, s := range tt.steps {
				var se *StopError
				switch s.do {
				case "ok":
					se = c.answered(false)
				case "forbid":
					se = c.answered(true)
				case "fail":
					se = c.transportFailed()
				case "throttle":
					se = c.throttled(s.seq, s.sent)
				}
				if got := se != nil; got != s.open {
					t.Fatalf("step %d (%s): stopped = %v, want %v", i, s.do, got, s.open)
				}
				if se != nil && se.Kind != StopAborted {
					t.Errorf("step %d: kind %v, want StopAborted", i, se.Kind)
				}
			}
		})
	}
}

func TestAbortFor(t *testing.T) {
	tests := []struct {
		kind Kind
		stop bool
	}{
		{KindUnauthorized, true}, {KindFatal, true},
		{KindInvalid, false}, {KindNotFound, false}, {KindForbidden, false}, {KindTransient, false}, {KindOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			if got := abortFor(&Error{Kind: tt.kind, Code: "x"}) != nil; got != tt.stop {
				t.Errorf("abortFor(%v) stops = %v, want %v", tt.kind, got, tt.stop)
			}
		})
	}
}

func TestCircuitPlanRefusals(t *testing.T) {
	tests := []struct {
		name      string
		customers int      // distinct customers of the run, 0 unknown
		accepted  bool     // an answer other than 402/403 came first
		refuse    []string // customers refused with 403, in order
		openAt    int      // index of the refusal that aborts, -1 none
	}{
		{"one customer of several", 5, true, []string{"102", "102", "102", "102"}, -1},
		{"three customers, none accepted", 0, false, []string{"100", "101", "100", "102"}, 3},
		{"three customers after an accept", 0, true, []string{"100", "101", "102"}, -1},
		{"every customer of the run", 2, true, []string{"100", "100", "101"}, 2},
		{"the login's own customer", 5, true, []string{""}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := circuit{forbidLimit: 3, failLimit: 25, customers: tt.customers}
			if tt.accepted {
				c.answered(false)
			}
			for i, cust := range tt.refuse {
				se := c.planRefused(cust, i+1)
				if got, want := se != nil, i == tt.openAt; got != want {
					t.Fatalf("refusal %d (customer %q): stop = %v, want %v", i, cust, se, want)
				}
				if se != nil {
					return
				}
				if msg := c.refusal(cust); !strings.Contains(msg, "customer "+cust) {
					t.Errorf("refusal(%q) = %q, want it to name the customer", cust, msg)
				}
			}
			if msg := c.refusal("999"); msg != "" {
				t.Errorf("refusal of a customer never refused = %q", msg)
			}
		})
	}
}
