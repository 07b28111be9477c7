package simulator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/simulator"
)

// outcome names what a call came back with.
func outcome(resp batch.Response, err error) string {
	if err == nil {
		return resp.Code
	}
	var be *batch.Error
	if errors.As(err, &be) && be.Code != "" {
		return be.Kind.String() + " " + be.Code
	}
	return batch.KindOf(err).String()
}

// TestFaultsDeterministic: the same seed and request order give the same
// faults; another seed does not.
func TestFaultsDeterministic(t *testing.T) {
	faults := simulator.Faults{ErrorRate: 0.2, ResetRate: 0.2, TruncateRate: 0.2, LostRate: 0.1}
	run := func(seed int64) ([]string, map[string]int64) {
		sim, ts := start(t, simulator.Config{Mailboxes: 10, Seed: seed, Faults: faults})
		c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)
		var got []string
		for i := range 40 {
			got = append(got, outcome(c.Update(context.Background(), ps("mailbox", "1001", "customer", "100", "description", fmt.Sprint(i)), false)))
		}
		return got, sim.Stats().Faults
	}
	a, fa := run(11)
	b, fb := run(11)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(fa, fb) {
		t.Errorf("seed 11 twice:\n%v %v\n%v %v", a, fa, b, fb)
	}
	c, _ := run(12)
	if reflect.DeepEqual(a, c) {
		t.Errorf("seeds 11 and 12 gave the same faults: %v", a)
	}
	for _, kind := range []string{simulator.FaultError, simulator.FaultReset, simulator.FaultTruncate} {
		if fa[kind] == 0 {
			t.Errorf("no %s fault in 40 requests at rate 0.2: %v", kind, fa)
		}
	}
}

// TestFaultsSpareOperatorEndpoints: faults are for /api/ only.
func TestFaultsSpareOperatorEndpoints(t *testing.T) {
	for _, f := range []simulator.Faults{
		{ErrorRate: 1},
		{ResetRate: 1},
		{HangRate: 1},
		{RedirectTo: "https://elsewhere.example"},
		{RateLimit: 0.001, MaxConcurrent: 1, Latency: time.Hour},
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			sim, ts := start(t, simulator.Config{Mailboxes: 2, Faults: f})
			for _, path := range []string{"/__stats", "/__state", "/__audit", "/__stats"} {
				var v any
				getJSON(t, ts.URL+path, &v)
			}
			if got := sim.Stats().Requests; got != 0 {
				t.Errorf("operator endpoints counted as %d API requests", got)
			}
		})
	}
}

func TestSetFaultsRejects(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Mailboxes: 1})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    simulator.Faults
	}{
		{"rate above 1", simulator.Faults{ErrorRate: 1.5}},
		{"negative rate", simulator.Faults{ResetRate: -0.1}},
		{"rates add above 1", simulator.Faults{ErrorRate: 0.6, HangRate: 0.6}},
		{"negative latency", simulator.Faults{Latency: -time.Second}},
		{"negative limit", simulator.Faults{RateLimit: -1}},
		{"4xx error code", simulator.Faults{ErrorCodes: []int{404}}},
		{"relative redirect", simulator.Faults{RedirectTo: "/elsewhere"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := sim.SetFaults(tc.f); err == nil {
				t.Errorf("SetFaults(%+v) = nil, want an error", tc.f)
			}
		})
	}
	if _, err := simulator.New(simulator.Config{Faults: simulator.Faults{ErrorRate: 2}}); err == nil {
		t.Error("New accepted ErrorRate 2")
	}
	ok := simulator.Faults{ErrorRate: 0.5, ResetRate: 0.5, ErrorCodes: []int{502}}
	if err := sim.SetFaults(ok); err != nil {
		t.Fatalf("SetFaults(%+v): %v", ok, err)
	}
	if got := sim.Faults(); !reflect.DeepEqual(got, ok) {
		t.Errorf("Faults() = %+v, want %+v", got, ok)
	}
}

// TestIgnoredUpdate: answered 204 OK, nothing kept; a validation and a
// read are answered normally.
func TestIgnoredUpdate(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 4, Faults: simulator.Faults{IgnoreRate: 1}})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)
	before := field(t, sim, 100, "1001", "description")
	row := ps("mailbox", "1001", "customer", "100", "description", "never kept")
	if resp, err := c.Update(context.Background(), row, true); err != nil || resp.Code != "201" {
		t.Fatalf("validation under IgnoreRate 1 = %+v, %v; want 201", resp, err)
	}
	if resp, err := c.Update(context.Background(), row, false); err != nil || resp.Code != "204" {
		t.Fatalf("update under IgnoreRate 1 = %+v, %v; want 204", resp, err)
	}
	if got := field(t, sim, 100, "1001", "description"); got != before {
		t.Errorf("description = %q, want %q kept", got, before)
	}
	v, err := c.Read(context.Background(), "1001", "100")
	if err != nil || v["description"].Text != before {
		t.Errorf("read = %v, %v; want the old description", v["description"], err)
	}
	if st := sim.Stats(); st.Applied != 0 || st.Faults[simulator.FaultIgnore] != 1 {
		t.Errorf("stats applied=%d ignored=%d, want 0, 1", st.Applied, st.Faults[simulator.FaultIgnore])
	}
}

// TestLostResponseApplies: the change is made, the client hears nothing,
// and resending is harmless.
func TestLostResponseApplies(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 4, Faults: simulator.Faults{LostRate: 1}})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)
	row := ps("mailbox", "1001", "customer", "100", "description", "lost once")

	// A validation cannot be lost: nothing is applied.
	if resp, err := c.Update(context.Background(), row, true); err != nil || resp.Code != "201" {
		t.Fatalf("validation under LostRate 1 = %+v, %v; want 201", resp, err)
	}
	_, err := c.Update(context.Background(), row, false)
	if batch.KindOf(err) != batch.KindTransient {
		t.Fatalf("lost answer: err = %v, want a transient error", err)
	}
	if got := field(t, sim, 100, "1001", "description"); got != "lost once" {
		t.Errorf("description = %q, want the change applied", got)
	}
	audit := sim.Audit()
	if len(audit) != 1 || !audit[0].Lost {
		t.Errorf("audit = %+v, want one entry marked lost", audit)
	}
	if err := sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	if resp, err := c.Update(context.Background(), row, false); err != nil || resp.Code != "204" {
		t.Errorf("resend = %+v, %v; want 204", resp, err)
	}
	st := sim.Stats()
	if st.Applied != 2 || st.Validated != 1 || st.Faults[simulator.FaultLost] != 1 {
		t.Errorf("stats applied=%d validated=%d lost=%d, want 2, 1, 1", st.Applied, st.Validated, st.Faults[simulator.FaultLost])
	}
}

// TestCloseReleasesHangs: a hang without HangFor ends with Close.
func TestCloseReleasesHangs(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 2, Faults: simulator.Faults{HangRate: 1}})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 5*time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := c.Update(context.Background(), ps("mailbox", "1001", "customer", "100"), true)
		done <- err
	}()
	waitFor(t, "the request to hang", func() bool { return sim.Stats().InFlight == 1 })
	_ = sim.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("released request: %v, want 201", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not release the hanging request")
	}
}

func TestRateLimitCounted(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 2, Faults: simulator.Faults{RateLimit: 0.1, RetryAfter: 2 * time.Second}})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)
	var got []string
	for range 5 {
		got = append(got, outcome(c.Update(context.Background(), ps("mailbox", "1001", "customer", "100"), true)))
	}
	want := []string{"201", "transient 429", "transient 429", "transient 429", "transient 429"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	st := sim.Stats()
	if st.RateLimitViolations != 4 || st.ByHTTPStatus["429"] != 4 || st.ByCode["201"] != 1 || st.Requests != 5 {
		t.Errorf("stats = %+v, want 4 violations, 4 HTTP 429, one 201 of 5 requests", st)
	}
	var viaHTTP simulator.Stats
	getJSON(t, ts.URL+"/__stats", &viaHTTP)
	if !reflect.DeepEqual(viaHTTP, st) {
		t.Errorf("/__stats = %+v, want %+v", viaHTTP, st)
	}
	sim.ResetStats()
	if st := sim.Stats(); st.Requests != 0 || st.RateLimitViolations != 0 || len(st.ByCode) != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

// TestPeakConcurrencyAndOverload holds three requests with the hang fault;
// the other two find three in flight and get 503. No timing involved.
func TestPeakConcurrencyAndOverload(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 2, Faults: simulator.Faults{HangRate: 1, MaxConcurrent: 3}})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)
	var wg sync.WaitGroup
	results := make([]string, 5)
	for i := range results {
		wg.Go(func() {
			results[i] = outcome(c.Update(context.Background(), ps("mailbox", "1001", "customer", "100"), true))
		})
	}
	waitFor(t, "three held and two refused", func() bool {
		st := sim.Stats()
		return st.InFlight == 3 && st.Faults[simulator.FaultOverload] == 2
	})
	_ = sim.Close() // answer the held ones
	wg.Wait()
	counts := map[string]int{}
	for _, r := range results {
		counts[r]++
	}
	if counts["201"] != 3 || counts["transient 503"] != 2 {
		t.Errorf("outcomes %v, want three 201 and two 503", results)
	}
	// The three held requests and at least one refused one overlap; a
	// refusal may be over before the last request arrives.
	if st := sim.Stats(); st.PeakConcurrency < 4 || st.PeakConcurrency > 5 || st.InFlight != 0 {
		t.Errorf("peak %d, in flight %d; want 4 or 5, 0", st.PeakConcurrency, st.InFlight)
	}
}

func TestLatencyJitter(t *testing.T) {
	_, ts := start(t, simulator.Config{Mailboxes: 2, Faults: simulator.Faults{Latency: 40 * time.Millisecond, Jitter: 40 * time.Millisecond}})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)
	t0 := time.Now()
	if _, err := c.Update(context.Background(), ps("mailbox", "1001", "customer", "100"), true); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 40*time.Millisecond {
		t.Errorf("answered after %v, want at least the 40ms latency", d)
	}
}

func TestEchoBodyPage(t *testing.T) {
	_, ts := start(t, simulator.Config{Mailboxes: 2, Faults: simulator.Faults{ErrorRate: 1, ErrorCodes: []int{500}, EchoBody: true}})
	resp, err := http.Post(ts.URL+"/api/json/mailboxes/update/", "application/x-www-form-urlencoded",
		strings.NewReader("auth_username=admin&auth_password=echo-me&mailbox=1001"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "auth_password=echo-me") {
		t.Errorf("status %d, type %q, body %s; want an HTML 500 quoting the request", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// TestAuditOrder: applied updates are logged in order with their
// description, PINs as ***; validations are not logged.
func TestAuditOrder(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 4})
	c := newClient(t, ts.URL, "acme", demoPasswords["acme"], 0)
	steps := []struct{ mb, desc, pin string }{
		{"1001", "r1", ""}, {"1003", "other", ""}, {"1001", "r2", "424242"}, {"1001", "r3", ""},
	}
	for _, s := range steps {
		row := ps("mailbox", s.mb, "customer", "100", "description", s.desc)
		if s.pin != "" {
			row = append(row, ps("pin", s.pin)...)
		}
		if _, err := c.Update(context.Background(), row, true); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Update(context.Background(), row, false); err != nil {
			t.Fatal(err)
		}
	}
	audit := sim.Audit()
	if len(audit) != len(steps) {
		t.Fatalf("%d audit entries, want %d", len(audit), len(steps))
	}
	var got1001 []string
	for i, e := range audit {
		if e.Seq != i+1 || e.User != "acme" || e.Customer != 100 {
			t.Errorf("entry %d = %+v", i, e)
		}
		if e.Mailbox == "1001" {
			got1001 = append(got1001, e.Params["description"])
		}
		if p, ok := e.Params["pin"]; ok && p != "***" {
			t.Errorf("audit entry %d holds pin %q, want ***", e.Seq, p)
		}
	}
	if want := []string{"r1", "r2", "r3"}; !reflect.DeepEqual(got1001, want) {
		t.Errorf("1001 applied in order %v, want %v", got1001, want)
	}
	if audit[2].Params["pin"] != "***" {
		t.Errorf("pin change not audited: %+v", audit[2])
	}
	var viaHTTP []simulator.AuditEntry
	getJSON(t, ts.URL+"/__audit", &viaHTTP)
	if len(viaHTTP) != len(audit) || strings.Contains(fmt.Sprint(viaHTTP), "424242") {
		t.Errorf("/__audit = %+v", viaHTTP)
	}
}

// TestUpdatesAtomic: concurrent updates each set description and callerid
// to the same value; no reader may ever see them differ.
func TestUpdatesAtomic(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 4})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)
	ctx := context.Background()
	if _, err := c.Update(ctx, ps("mailbox", "1001", "customer", "100", "description", "w-start", "callerid", "w-start"), false); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				v := fmt.Sprintf("w%d-%d", w, i)
				if _, err := c.Update(ctx, ps("mailbox", "1001", "customer", "100", "description", v, "callerid", v), false); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			m, err := c.Get(ctx, "1001", "100")
			if err != nil {
				t.Error(err)
				return
			}
			if m.Text("description") != m.Text("callerid") {
				t.Errorf("torn read: description %q, callerid %q", m.Text("description"), m.Text("callerid"))
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	if got := sim.Stats().Applied; got != 101 {
		t.Errorf("applied %d, want 101", got)
	}
}
