package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/simulator"
)

// Tests of the engine's safety rules driven through run() and the real
// binary against the simulator or small hostile servers.

// ownCustomerWorld is the demo world plus mailbox 1000 of customer 1, the
// admin login's own customer: a row that names no customer reaches it.
func ownCustomerWorld(t *testing.T) *simulator.State {
	t.Helper()
	st := simulator.Generate(4, 1)
	if u := st.Users[0]; u.Username != "admin" || u.Customer != simulator.CustomerOperator {
		t.Fatalf("demo admin is %s of customer %d, want admin of %d", u.Username, u.Customer, simulator.CustomerOperator)
	}
	m := simulator.Mailbox{}
	for k, v := range st.Mailboxes[0] {
		m[k] = v
	}
	m["mailbox"], m["customer"] = "1000", fmt.Sprint(simulator.CustomerOperator)
	st.Mailboxes = append(st.Mailboxes, m)
	return st
}

// Rows for one mailbox, with and without the customer column, are one
// queue: 40 alternating rows `1000,,x` / `1000,1,y` at 64 workers reach
// the simulator in file order and leave the last row's value, run after
// run.
func TestMailboxWithAndWithoutCustomerOneQueue(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	var want []string
	for i := range 40 {
		cust := ""
		if i%2 == 1 {
			cust = "1"
		}
		fmt.Fprintf(&b, "1000,%s,row %d\n", cust, i+1)
		want = append(want, fmt.Sprintf("row %d", i+1))
	}
	content := b.String()
	// Runs side by side, each on its own simulator.
	for run := range 6 {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, simulator.Config{State: ownCustomerWorld(t)})
			in := writeFile(t, "own.csv", content)
			res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0", "--workers", "64", "--progress", "none")
			if res.code != exitOK {
				t.Fatalf("run %d: exit %d\n%s", run, res.code, res.stderr)
			}
			var order []string
			for _, a := range sim.Audit() {
				if a.Customer != simulator.CustomerOperator || a.Mailbox != "1000" {
					t.Fatalf("run %d: update of %d/%s, want only 1/1000", run, a.Customer, a.Mailbox)
				}
				order = append(order, a.Params["description"])
			}
			if got := strings.Join(order, ","); got != strings.Join(want, ",") {
				t.Fatalf("run %d: applied in order\n%s\nwant\n%s", run, got, strings.Join(want, ","))
			}
			if m, _ := sim.Mailbox(simulator.CustomerOperator, "1000"); m["description"] != "row 40" {
				t.Fatalf("run %d: description = %q, want %q", run, m["description"], "row 40")
			}
		})
	}
}

// hostile is an httptest server that answers every mailboxes/update with
// the code answer picks, and counts what it was sent.
type hostile struct {
	URL string
	mu  sync.Mutex
	n   map[bool]int // requests by validation=1
}

func startHostile(t *testing.T, answer func(validate bool) string) *hostile {
	t.Helper()
	h := &hostile{n: map[bool]int{}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if strings.Contains(r.URL.Path, "mailboxes/get") {
			// The preflight's read: a mailbox this server does not know.
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"responses":[{"code":"404","key":"mailbox","message":"Mailbox not found"}]}`)
			return
		}
		if !strings.Contains(r.URL.Path, "mailboxes/update") {
			// An older server: no user/login, so --auth auto falls back to
			// the password; only updates are counted.
			http.NotFound(w, r)
			return
		}
		validate := r.PostForm.Get("validation") == "1"
		h.mu.Lock()
		h.n[validate]++
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"responses":[{"code":%q,"key":"","message":"OK"}]}`, answer(validate))
	}))
	t.Cleanup(ts.Close)
	h.URL = ts.URL
	return h
}

func (h *hostile) sent(validate bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[validate]
}

func hostileEnv(h *hostile) map[string]string {
	return map[string]string{"ENSWITCH_URL": h.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
}

// boxRows is a CSV of n rows for distinct mailboxes 1001.. of customer 100.
func boxRows(n int) string {
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,100,row %d\n", 1001+i, i+1)
	}
	return b.String()
}

// Success is phase-exact: 201 to validation=1, 204 to an apply.
func TestPhaseExactSuccessCodes(t *testing.T) {
	t.Parallel()
	const rows, workers = 30, 4
	t.Run("204 to validation stops the run at once", func(t *testing.T) {
		h := startHostile(t, func(bool) string { return "204" })
		in := writeFile(t, "in.csv", boxRows(rows))
		res := runCLI(t, context.Background(), hostileEnv(h), "run", in, "--rate", "0", "--workers", fmt.Sprint(workers), "--progress", "none", "--no-read")
		if res.code != exitAborted {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitAborted, res.stderr)
		}
		if n := h.sent(false); n != 0 {
			t.Errorf("%d applies sent, want 0", n)
		}
		if n := h.sent(true); n > workers {
			t.Errorf("%d validations sent, want at most %d (one per worker)", n, workers)
		}
		recs := latest(t, in[:len(in)-len(".csv")]+".report.csv")
		if len(recs) != rows {
			t.Fatalf("report has %d rows, want %d", len(recs), rows)
		}
		applied := 0
		for n, r := range recs {
			switch batch.Status(r.Status) {
			case batch.StatusAppliedUnvalidated:
				applied++
				if r.Phase != string(batch.PhaseValidate) || r.Code != "204" || !strings.Contains(r.Message, "applied during validation") {
					t.Errorf("row %d: %s/%s %q, want phase validate, code 204, a message that says it was applied", n, r.Phase, r.Code, r.Message)
				}
			case batch.StatusSkipped:
			default:
				t.Errorf("row %d: status %s, want applied-unvalidated or skipped", n, r.Status)
			}
		}
		if applied != h.sent(true) {
			t.Errorf("%d rows applied-unvalidated, want %d (every validation the server answered 204)", applied, h.sent(true))
		}
		if !strings.Contains(res.stderr, "does not honour validation") {
			t.Errorf("stderr does not say validation was not honoured:\n%s", res.stderr)
		}
		sum := runCLI(t, context.Background(), nil, "summary", in[:len(in)-len(".csv")]+".report.csv")
		if !strings.Contains(sum.stdout+sum.stderr, "applied-unvalidated") {
			t.Errorf("summary does not list applied-unvalidated:\n%s%s", sum.stdout, sum.stderr)
		}
	})
	t.Run("201 to an apply is not ok", func(t *testing.T) {
		h := startHostile(t, func(bool) string { return "201" })
		in := writeFile(t, "in.csv", boxRows(rows))
		res := runCLI(t, context.Background(), hostileEnv(h), "run", in, "--rate", "0", "--workers", fmt.Sprint(workers), "--progress", "none", "--no-read")
		if res.code != exitRows {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitRows, res.stderr)
		}
		if n := h.sent(false); n != rows {
			t.Errorf("%d applies sent, want %d (each once: a 201 is a definite answer)", n, rows)
		}
		for n, r := range latest(t, in[:len(in)-len(".csv")]+".report.csv") {
			if r.Status != string(batch.StatusFailed) || r.Phase != string(batch.PhaseApply) || !strings.Contains(r.Message, "not applied") {
				t.Errorf("row %d: %s/%s %q, want failed in apply, not applied", n, r.Status, r.Phase, r.Message)
			}
		}
	})
	for _, code := range []string{"200", "202"} {
		t.Run(code+" is not success", func(t *testing.T) {
			for _, phase := range []string{"validate", "apply"} {
				h := startHostile(t, func(validate bool) string {
					if validate == (phase == "validate") {
						return code
					}
					if validate {
						return "201"
					}
					return "204"
				})
				in := writeFile(t, "in.csv", boxRows(3))
				res := runCLI(t, context.Background(), hostileEnv(h), "run", in, "--rate", "0", "--max-attempts", "2", "--progress", "none", "--no-read")
				if res.code != exitRows {
					t.Fatalf("%s: exit %d, want %d\n%s", phase, res.code, exitRows, res.stderr)
				}
				for n, r := range latest(t, in[:len(in)-len(".csv")]+".report.csv") {
					if r.Status != string(batch.StatusError) || r.Phase != phase || r.Code != code || !strings.Contains(r.Message, "unexpected code "+code) {
						t.Errorf("%s: row %d: %s/%s/%s %q, want error in %s with code %s", phase, n, r.Status, r.Phase, r.Code, r.Message, phase, code)
					}
				}
				if phase == "validate" && h.sent(false) != 0 {
					t.Errorf("%d applies sent after validation answered %s", h.sent(false), code)
				}
			}
		})
	}
}

// A report that can no longer be written stops the sending: with the
// report's directory removed mid-run, the journal's next flush fails, the
// real binary sends nothing more (the requests in flight finish), says so
// once, naming the report once, with the next step, and exits 6.
func TestReportDirRemovedStopsSending(t *testing.T) {
	t.Parallel()
	const rows, workers = 300, 4
	sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: rows})
	in := writeFile(t, "in.csv", uniqueRows(rows))
	dir := filepath.Join(t.TempDir(), "reports")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(dir, "in.report.csv")
	p := startEnsbulk(t, simEnv(sim), "run", in, "--report", rep, "--rate", "20", "--workers", fmt.Sprint(workers), "--progress", "none")
	waitFor(t, 20*time.Second, "40 requests", func() bool { return sim.Stats().Requests >= 40 })
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	removed := sim.Stats().Requests
	code, _ := p.wait(t, 30*time.Second)
	drain(t, sim)
	if code != exitInternal {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitInternal, p.stderr.String())
	}
	// The failure is known at the first flush after the removal, one
	// result later; what may still go out is the requests in flight then
	// and those already past the pace.
	if after := sim.Stats().Requests - removed; after > workers+4 {
		t.Errorf("%d requests sent after the report's directory was removed, want at most %d", after, workers+4)
	}
	stderr := p.stderr.String()
	var last string
	for _, l := range strings.Split(strings.TrimSpace(unstamp(stderr)), "\n") {
		if strings.HasPrefix(l, "ensbulk: ") {
			last = l
		}
	}
	for _, part := range []string{"removed or replaced", "stopped sending", "--resume"} {
		if !strings.Contains(last, part) {
			t.Errorf("error line does not say %q:\n%s", part, last)
		}
	}
	if n := strings.Count(last, rep); n != 1 {
		t.Errorf("the error names the report %d times, want once:\n%s", n, last)
	}
}

// A 403 is a customer's rate plan: that customer's remaining rows are not
// sent, the others go on; the run stops when every customer refuses, or
// when a row without customer (the login's own, whose plan covers every
// customer) is refused.
func TestRatePlanRefusalIsScoped(t *testing.T) {
	t.Parallel()
	const workers = 4
	// rows interleaves rows for customers 100/101 (mailboxes 1001.. of the
	// generated world) with rows for 102 (9001-9003, refused by the demo).
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString("mailbox,customer,description\n")
		for i := range n {
			if i%3 == 2 {
				fmt.Fprintf(&b, "%d,102,row %d\n", 9001+i%3, i+1)
				continue
			}
			fmt.Fprintf(&b, "%d,%d,row %d\n", 1001+i, 100+i%2, i+1)
		}
		return b.String()
	}
	t.Run("one customer refused, the others applied", func(t *testing.T) {
		sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: 90})
		in := writeFile(t, "in.csv", rows(90))
		res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0", "--workers", fmt.Sprint(workers), "--progress", "none", "--no-read")
		if res.code != exitRows {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitRows, res.stderr)
		}
		if n := sim.Stats().ByCode["403"]; n > workers+1 {
			t.Errorf("%d requests refused with 403, want at most %d (those in flight)", n, workers+1)
		}
		for n, r := range latest(t, in[:len(in)-len(".csv")]+".report.csv") {
			switch {
			case r.Customer != "102" && r.Status != string(batch.StatusOK):
				t.Errorf("row %d (customer %s): %s %q, want ok", n, r.Customer, r.Status, r.Message)
			case r.Customer == "102" && r.Status == string(batch.StatusSkipped) && !strings.Contains(r.Message, "customer 102"):
				t.Errorf("row %d: skipped %q, want a message naming customer 102", n, r.Message)
			case r.Customer == "102" && r.Status != string(batch.StatusSkipped) && (r.Status != string(batch.StatusFailed) || r.Code != "403"):
				t.Errorf("row %d: %s %s, want failed 403 or skipped", n, r.Status, r.Code)
			}
		}
	})
	t.Run("every customer refused aborts", func(t *testing.T) {
		sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: 90, ForbidCustomers: []int{100, 101}})
		in := writeFile(t, "in.csv", rows(90))
		res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0", "--workers", fmt.Sprint(workers), "--progress", "none", "--no-read")
		if res.code != exitAborted {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitAborted, res.stderr)
		}
		if n := sim.Stats().Requests; n > 3*workers {
			t.Errorf("%d requests sent, want at most %d", n, 3*workers)
		}
		if !strings.Contains(res.stderr, "every customer this run touches") {
			t.Errorf("stderr does not say why:\n%s", res.stderr)
		}
	})
	t.Run("a row without customer refused aborts", func(t *testing.T) {
		sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: 20, ForbidCustomers: []int{simulator.CustomerAcme}})
		in := writeFile(t, "in.csv", "mailbox,customer,description\n"+strings.Repeat("2001,,x\n3001,100,y\n", 20))
		env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "acme", "ENSWITCH_PASSWORD": "acme-demo-pass"}
		res := runCLI(t, context.Background(), env, "run", in, "--rate", "0", "--workers", fmt.Sprint(workers), "--progress", "none", "--no-read")
		if res.code != exitAborted {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitAborted, res.stderr)
		}
		if n := sim.Stats().Requests; n > 2*workers {
			t.Errorf("%d requests sent, want at most %d", n, 2*workers)
		}
		if !strings.Contains(res.stderr, "own customer") {
			t.Errorf("stderr does not say the login's own customer refused:\n%s", res.stderr)
		}
	})
}
