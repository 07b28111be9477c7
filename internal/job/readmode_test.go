package job

import (
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

func TestEstimateLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    batch.Workload
		rate float64
		want string
	}{
		{"edited export, run", batch.Workload{Sent: 2, Lists: 2, Unchanged: 9500, Validate: 500, Reads: 500, Updates: 501}, 5,
			"1,503 requests, about 5 min at --rate 5: 2 lists sent (9,500 rows found unchanged), 500 to validate, 500 reads, 501 updates"},
		{"edited export, plan", batch.Workload{Sent: 2, Lists: 2, Unchanged: 9500, Validate: 500}, 10,
			"502 requests, about 50 s at --rate 10: 2 lists sent (9,500 rows found unchanged), 500 to validate"},
		{"nothing to send", batch.Workload{Sent: 1, Lists: 1, Unchanged: 1}, 5,
			"1 request, under a second at --rate 5: 1 list sent (1 row found unchanged)"},
		{"get, no limit", batch.Workload{Validate: 3, Reads: 3, Updates: 3}, 0,
			"9 requests, as fast as the server answers at --rate 0: 3 to validate, 3 reads, 3 updates"},
		{"hours", batch.Workload{Validate: 10000, Reads: 10000, Updates: 10000}, 2.5,
			"30,000 requests, about 3 h 20 min at --rate 2.5: 10,000 to validate, 10,000 reads, 10,000 updates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := estimateLine(tc.w, tc.rate); got != tc.want {
				t.Errorf("estimateLine =\n%q, want\n%q", got, tc.want)
			}
		})
	}
}

func TestAbout(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "under a second"},
		{999 * time.Millisecond, "under a second"},
		{1400 * time.Millisecond, "about 1 s"},
		{59 * time.Second, "about 59 s"},
		{100 * time.Second, "about 1 min 40 s"},
		{300 * time.Second, "about 5 min"},
		{301 * time.Second, "about 5 min"},
		{45*time.Minute + 20*time.Second, "about 45 min"},
		{time.Hour + 2*time.Minute, "about 1 h"},
		{2*time.Hour + 4*time.Minute, "about 2 h 5 min"},
	} {
		if got := about(tc.d); got != tc.want {
			t.Errorf("about(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestCostLine(t *testing.T) {
	est := &batch.Workload{Sent: 2, Lists: 2, Validate: 500, Reads: 500, Updates: 500}
	sum := &batch.Summary{Requests: 1502, Duration: 301 * time.Second}
	for _, tc := range []struct {
		name string
		sum  *batch.Summary
		est  *batch.Workload
		rate float64
		want string
	}{
		{"rate", sum, est, 5, "cost: 1,502 requests in 5m1s at --rate 5 (estimated before the start: 1,502 requests, about 5 min)"},
		{"no limit", sum, est, 0, "cost: 1,502 requests in 5m1s (estimated before the start: 1,502 requests)"},
		{"no estimate", sum, nil, 5, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := costLine(tc.sum, tc.est, tc.rate); got != tc.want {
				t.Errorf("costLine =\n%q, want\n%q", got, tc.want)
			}
		})
	}
}

func TestReadMode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       Options
		want    string
		refused bool
	}{
		{"default", Options{}, readAuto, false},
		{"list", Options{Read: "list"}, readList, false},
		{"get", Options{Read: "get"}, readGet, false},
		{"--no-read", Options{Read: readAuto, NoRead: true}, readNone, false},
		{"--no-read --read none", Options{Read: "none", NoRead: true}, readNone, false},
		{"--no-read --read list", Options{Read: "list", NoRead: true}, "", true},
		{"unknown", Options{Read: "all"}, "", true},
		{"plan without reads", Options{Read: "none", Plan: true}, "", true},
		{"plan by list", Options{Read: "list", Plan: true}, readList, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.r.readMode()
			if (err != nil) != tc.refused || got != tc.want {
				t.Errorf("readMode() = %q, %v; want %q, refused %v", got, err, tc.want, tc.refused)
			}
		})
	}
	for mode, reads := range map[string]bool{readAuto: true, readList: true, readGet: true, readNone: false, "": false} {
		if got := readsBefore(mode); got != reads {
			t.Errorf("readsBefore(%q) = %v, want %v", mode, got, reads)
		}
	}
}
