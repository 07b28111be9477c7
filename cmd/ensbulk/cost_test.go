package main

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// exportEdited exports customers 100 and 101 of sim into one file and
// gives every step-th row a new description; it returns the file and the
// mailboxes edited.
func exportEdited(t *testing.T, sim *testSim, step int) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	var header []string
	var rows [][]string
	for _, c := range []string{"100", "101"} {
		out := filepath.Join(dir, "export"+c+".csv")
		if res := runBinaryIn(t, simEnv(sim), "", "export", "--customer", c, "--output", out); res.code != exitOK {
			t.Fatalf("export %s: exit %d\n%s", c, res.code, res.stderr)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if header != nil && !slices.Equal(header, recs[0]) {
			t.Fatalf("exports of 100 and 101 have different columns: %v, %v", header, recs[0])
		}
		header = recs[0]
		rows = append(rows, recs[1:]...)
	}
	mb, desc := slices.Index(header, "mailbox"), slices.Index(header, "description")
	if mb < 0 || desc < 0 {
		t.Fatalf("export header %v has no mailbox or description", header)
	}
	edited := map[string]string{}
	for i, r := range rows {
		if i%step == 0 {
			r[desc] = fmt.Sprintf("edited %d", i)
			edited[r[mb]] = r[desc]
		}
	}
	path := filepath.Join(dir, "edited.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, edited
}

// TestCostFollowsTheChange is issue 22's goal, counted at the simulator
// through the binary: an export of 10,000 mailboxes in 2 customers with
// 500 rows edited plans in at most 510 requests and runs in at most
// 1,510 (it was 20,000 and 30,000 with a get of every row); run again,
// when none of its rows changes anything, it costs at most 5. plan and
// run say what they will send before they start, and the summary what
// they sent.
func TestCostFollowsTheChange(t *testing.T) {
	t.Parallel() // its own simulator and files

	const boxes, step = 10000, 20 // 500 edited rows
	sim := startSim(t, simulator.Config{Seed: 22, Mailboxes: boxes})
	in, edited := exportEdited(t, sim, step)
	if len(edited) != boxes/step {
		t.Fatalf("%d rows edited, want %d", len(edited), boxes/step)
	}
	steps := []struct {
		name, cmd string
		extra     []string
		max       int64
		counts    map[string]int
		byFn      map[string]int64
	}{
		{"plan", "plan", nil, boxes/step + 10, map[string]int{"change": boxes / step, "unchanged": boxes - boxes/step},
			map[string]int64{"mailboxes/list": 2, "mailboxes/update": boxes / step}},
		{"run", "run", nil, 3*boxes/step + 10, map[string]int{"ok": boxes / step, "unchanged": boxes - boxes/step},
			map[string]int64{"mailboxes/list": 2, "mailboxes/update": 2 * boxes / step, "mailboxes/get": boxes / step}},
		{"run again, nothing changes", "run", []string{"--report", filepath.Join(t.TempDir(), "again.report.csv")}, 5, map[string]int{"unchanged": boxes},
			map[string]int64{"mailboxes/list": 2, "mailboxes/get": 0, "mailboxes/update": 0}},
	}
	for _, s := range steps {
		before := sim.Stats()
		res := tb(t, sim, append([]string{s.cmd, in}, s.extra...)...)
		if res.code != exitOK {
			t.Fatalf("%s: exit %d\n%s", s.name, res.code, res.stderr)
		}
		after := sim.Stats()
		sent := after.Requests - before.Requests
		if sent > s.max {
			t.Errorf("%s sent %d requests, want at most %d", s.name, sent, s.max)
		}
		for fn, want := range s.byFn {
			if got := after.ByFunction[fn] - before.ByFunction[fn]; got != want {
				t.Errorf("%s: %d %s, want %d", s.name, got, fn, want)
			}
		}
		rep := job.PlanPath(in, report.CSV)
		t.Logf("%s: %d requests", s.name, sent)
		if s.cmd == "run" {
			rep = report.DefaultPathFor(in, "run", report.CSV)
		}
		if len(s.extra) > 0 {
			rep = s.extra[1]
		}
		if got := statusCounts(t, rep); !mapsEqual(got, s.counts) {
			t.Errorf("%s: report %v, want %v", s.name, got, s.counts)
		}
		// The estimate before the start and the cost after it. The
		// preflight's request (a login) is the client's, before the
		// engine counts.
		est := fmt.Sprintf("ensbulk %s: %s", s.cmd, counted(sent-1, "request", "requests"))
		if !strings.Contains(res.stderr, est) {
			t.Errorf("%s: stderr does not say %q before it starts\n%s", s.name, est, res.stderr)
		}
		if cost := "cost: " + counted(sent-1, "request", "requests"); !strings.Contains(res.stderr, cost) {
			t.Errorf("%s: summary does not say %q\n%s", s.name, cost, res.stderr)
		}
	}
	for mb, want := range edited {
		c := 100
		if n := mustAtoi(t, mb); (n-1001)%2 == 1 {
			c = 101
		}
		if got := box(t, sim, c, mb, "description"); got != want {
			t.Errorf("%d/%s description = %q, want %q", c, mb, got, want)
			break
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A list cut short decides nothing: the run warns, naming the customer,
// and reads that customer's rows one by one, as --read get would; the
// outcome is the same as a run that never listed.
func TestCutListFallsBackToGet(t *testing.T) {
	const rows, edits = 60, 3
	sim := startSim(t, simulator.Config{Seed: 23, Mailboxes: 2 * rows})
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "mailboxes/list") {
			sim.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.WriteHeader(rec.Code)
		w.Write(body[:len(body)/2])
	}))
	t.Cleanup(cut.Close)
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	for i := range rows {
		mb := fmt.Sprint(1001 + 2*i) // customer 100's
		d, _ := sim.Mailbox(100, mb)
		desc := d["description"]
		if i < edits {
			desc = "cut list " + mb
		}
		fmt.Fprintf(&b, "%s,100,%q\n", mb, desc)
	}
	in := writeFile(t, "cut.csv", b.String())
	before := sim.Stats()
	res := tb(t, &testSim{Server: sim.Server, URL: cut.URL}, "run", in)
	if res.code != exitOK {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	if want := "mailboxes/list of customer 100: truncated after "; !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "60 rows of customer 100 are read one by one") {
		t.Errorf("stderr lacks the warning %q naming the customer and its rows:\n%s", want, res.stderr)
	}
	after := sim.Stats()
	for fn, want := range map[string]int64{"mailboxes/list": 1, "mailboxes/get": rows, "mailboxes/update": rows + edits} {
		if got := after.ByFunction[fn] - before.ByFunction[fn]; got != want {
			t.Errorf("%d %s, want %d", got, fn, want)
		}
	}
	if got, want := statusCounts(t, report.DefaultPathFor(in, "run", report.CSV)), map[string]int{"ok": edits, "unchanged": rows - edits}; !mapsEqual(got, want) {
		t.Errorf("report %v, want %v", got, want)
	}
}

// Rows without a customer column are the user's own customer's: one
// list without a customer parameter decides them.
func TestOwnCustomerListed(t *testing.T) {
	const rows, edits = 30, 2
	sim := startSim(t, simulator.Config{Seed: 24, Mailboxes: 2 * rows})
	var b strings.Builder
	b.WriteString("mailbox,description\n")
	for i := range rows {
		mb := fmt.Sprint(1001 + 2*i) // customer 100's: northwind's own
		d, _ := sim.Mailbox(100, mb)
		desc := d["description"]
		if i < edits {
			desc = "own " + mb
		}
		fmt.Fprintf(&b, "%s,%q\n", mb, desc)
	}
	in := writeFile(t, "own.csv", b.String())
	env := simEnv(sim)
	env["ENSWITCH_USER"], env["ENSWITCH_PASSWORD"] = "northwind", "northwind-demo-pass"
	before := sim.Stats()
	res := runBinaryIn(t, env, "", "run", in, "--rate", "0", "--progress", "none", "--log-level", "error")
	if res.code != exitOK {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	after := sim.Stats()
	for fn, want := range map[string]int64{"mailboxes/list": 1, "mailboxes/get": edits, "mailboxes/update": 2 * edits} {
		if got := after.ByFunction[fn] - before.ByFunction[fn]; got != want {
			t.Errorf("%d %s, want %d", got, fn, want)
		}
	}
	if got, want := statusCounts(t, report.DefaultPathFor(in, "run", report.CSV)), map[string]int{"ok": edits, "unchanged": rows - edits}; !mapsEqual(got, want) {
		t.Errorf("report %v, want %v", got, want)
	}
}

// counted is job's way of counting in the estimate: "1,503 requests".
func counted(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " " + many
}
