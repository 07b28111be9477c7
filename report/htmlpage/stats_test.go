package htmlpage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

func TestParseChanges(t *testing.T) {
	tests := []struct {
		name string
		in   []batch.Change
	}{
		{"plain", []batch.Change{{Field: "timezone", Old: "Europe/Berlin", New: "Europe/Oslo", Known: true}}},
		{"empty values", []batch.Change{{Field: "pager", Old: "", New: "a@b.example", Known: true}, {Field: "notify_email", Old: "owner", New: "", Known: true}}},
		{"unknown old", []batch.Change{{Field: "callerid", New: "0123", Known: false}}},
		{"question mark value", []batch.Change{{Field: "description", Old: "?", New: "??", Known: true}}},
		{"secret", []batch.Change{{Field: "pin", Secret: true}, {Field: "description", Old: "a", New: "b", Known: true}}},
		{"separators in values", []batch.Change{{Field: "description", Old: "a; b -> c", New: `say "hi"`, Known: true}, {Field: "pager", Old: " x ", New: "line\nbreak", Known: true}}},
		{"markup", []batch.Change{{Field: "description", Old: `" onerror="x`, New: "<script>alert(1)</script>", Known: true}}},
		{"value changed", []batch.Change{{Field: "description", Old: "x", New: "changed", Known: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cell := report.FormatChanges(tt.in)
			got, ok := parseChanges(cell)
			if !ok {
				t.Fatalf("parseChanges(%q) not ok", cell)
			}
			var want []batch.Change
			for _, c := range tt.in {
				want = append(want, batch.Change{Field: c.Field, Old: c.Old, New: c.New, Known: c.Known && !c.Secret, Secret: c.Secret})
			}
			if !slices.Equal(got, want) {
				t.Errorf("parseChanges(%q) = %+v, want %+v", cell, got, want)
			}
		})
	}
	t.Run("a pin's values are never kept", func(t *testing.T) {
		got, ok := parseChanges("pin: 1234 -> 5678")
		if want := []batch.Change{{Field: "pin", Secret: true}}; !ok || !slices.Equal(got, want) {
			t.Errorf("got %+v, %v, want %+v", got, ok, want)
		}
	})
	for _, bad := range []string{"description", "description: a", `description: "a -> b`, "a b: x -> y", "description: a -> b; ", "description: a -> b;x: c -> d"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if got, ok := parseChanges(bad); ok {
				t.Errorf("parseChanges(%q) = %+v, ok; want not ok", bad, got)
			}
		})
	}
}

func TestBins(t *testing.T) {
	for i := range nBins {
		lo, hi := binRange(i)
		if got := binOf(lo); got != i {
			t.Fatalf("binOf(%d) = %d, want %d (bin's low)", lo, got, i)
		}
		if got := binOf(hi); got != i {
			t.Fatalf("binOf(%d) = %d, want %d (bin's high)", hi, got, i)
		}
		if i < nBins-1 {
			if got := binOf(hi + 1); got != i+1 {
				t.Fatalf("binOf(%d) = %d, want %d (next bin)", hi+1, got, i+1)
			}
			// Half a bin of the lower edge: the bound the quantiles
			// state (1/32).
			if float64(hi-lo)/2 > float64(lo)/32 {
				t.Fatalf("bin %d [%d, %d] is wider than 1/16 of its low", i, lo, hi)
			}
		}
	}
}

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name     string
		values   []int64
		q        float64
		want     int64
		relative bool // want is exact; compare within 1/32
	}{
		{"one value", []int64{7}, 0.5, 7, false},
		{"median of odd", []int64{1, 2, 3, 4, 30}, 0.5, 3, false},
		{"median of even is the lower", []int64{1, 2, 3, 4}, 0.5, 2, false},
		{"p95 of 1..20", seq(1, 20), 0.95, 19, false},
		{"p100", seq(1, 20), 1, 20, false},
		{"negative durations count as 0", []int64{-5, -1, 3}, 0.5, 0, false},
		{"large", []int64{100_000, 200_000, 300_000}, 0.5, 200_000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hist
			for _, v := range tt.values {
				h.add(v)
			}
			got := h.quantile(tt.q)
			if !tt.relative && got != tt.want || tt.relative && abs(got-tt.want)*32 > tt.want {
				t.Errorf("quantile(%v) of %v = %d, want %d", tt.q, tt.values, got, tt.want)
			}
		})
	}
	t.Run("random within 1/32", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		var h hist
		var all []int64
		for range 20000 {
			v := int64(r.ExpFloat64() * 400)
			all = append(all, v)
			h.add(v)
		}
		slices.Sort(all)
		for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
			want := all[int(q*float64(len(all)))-1]
			got := h.quantile(q)
			if abs(got-want)*32 > want {
				t.Errorf("quantile(%v) = %d, exact %d: more than 1/32 off", q, got, want)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		var h hist
		if got := h.quantile(0.5); got != 0 {
			t.Errorf("quantile of nothing = %d, want 0", got)
		}
	})
}

func seq(a, b int64) []int64 {
	var s []int64
	for v := a; v <= b; v++ {
		s = append(s, v)
	}
	return s
}

func abs(v int64) int64 { return max(v, -v) }

func TestTimeline(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Unix()
	tests := []struct {
		name      string
		secs      []int64 // offsets from base of each row
		buckets   int
		wantWidth int64
	}{
		{"one per second fits", seq(0, 99), 120, 1},
		{"300 seconds merge twice", seq(0, 299), 120, 4},
		{"resumed a day later", append(seq(0, 9), seq(86400, 86409)...), 120, 1024},
		{"out of order", []int64{500, 0, 250, 499, 1}, 100, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := timeline{width: 1, max: tt.buckets, b: map[int64]*bucket{}}
			for i, s := range tt.secs {
				tl.add(base+s, int64(i), true)
			}
			if tl.width != tt.wantWidth {
				t.Errorf("width = %d, want %d", tl.width, tt.wantWidth)
			}
			if span := tl.hi - tl.lo + 1; span > int64(tt.buckets) {
				t.Errorf("buckets from first to last = %d, want at most %d", span, tt.buckets)
			}
			// Every row is in the bucket of its second, once.
			want := map[int64]int{}
			for _, s := range tt.secs {
				want[floorDiv(base+s, tl.width)]++
			}
			got := map[int64]int{}
			for k, b := range tl.b {
				got[k] = b.rows
				if b.lat == nil || b.lat.n != int64(b.rows) {
					t.Errorf("bucket %d: %d rows, latency of %v", k, b.rows, b.lat)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("rows by bucket = %v, want %v", got, want)
			}
		})
	}
}

func TestTopK(t *testing.T) {
	t.Run("exact under capacity", func(t *testing.T) {
		tk := newTopK(4)
		for _, k := range strings.Fields("a b a c a b d") {
			tk.add(k)
		}
		var top []string
		for _, c := range tk.top(3) {
			top = append(top, fmt.Sprintf("{%s %d %d}", c.key, c.count, c.err))
		}
		got := "[" + strings.Join(top, " ") + "]"
		want := "[{a 3 0} {b 2 0} {c 1 0}]"
		if got != want || tk.evicted {
			t.Errorf("top(3) = %s (evicted %v), want %s, none evicted", got, tk.evicted, want)
		}
	})
	t.Run("a heavy key survives a stream of unique ones", func(t *testing.T) {
		tk := newTopK(8)
		for i := range 10000 {
			if i%3 == 0 {
				tk.add("heavy")
			} else {
				tk.add(fmt.Sprint("unique", i))
			}
		}
		top := tk.top(1)
		// Space-Saving overcounts by at most err, and never under.
		if len(top) != 1 || top[0].key != "heavy" || top[0].count-top[0].err > 3334 || top[0].count < 3334 {
			t.Errorf("top(1) = %+v, want heavy with 3334 rows within its error", top)
		}
		if !tk.evicted || tk.total != 10000 {
			t.Errorf("evicted %v, total %d; want true, 10000", tk.evicted, tk.total)
		}
		if len(tk.m) != 8 {
			t.Errorf("%d keys kept, want the capacity, 8", len(tk.m))
		}
	})
}

// aggregate reads n rows of g through the report's encoder and decoder.
func aggregate(t *testing.T, g gen, n int, lim Limits) *Stats {
	t.Helper()
	s, err := FromReader(g.reader(t, n, report.CSV), "gen", lim)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStats(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, mode := range []string{"run", "plan"} {
		t.Run(mode, func(t *testing.T) {
			g := gen{mode: mode, start: start, perSecond: 100, customers: 30}
			const n = 5000
			lim := Limits{Top: 5, PlanMailboxes: 7, RowsPerGroup: 3, Customers: 20, Groups: 40}
			s := aggregate(t, g, n, lim)
			want := g.counts(n)
			for _, st := range batch.Statuses {
				if got := s.Count(st); got != want[st] {
					t.Errorf("%s: got %d, want %d", st, got, want[st])
				}
			}
			if s.Rows != n || s.Timed != n {
				t.Errorf("rows %d, timed %d; want %d, %d", s.Rows, s.Timed, n, n)
			}
			if !s.First.Equal(g.result(1).Time.Truncate(time.Millisecond)) || !s.Last.Equal(g.result(n).Time.Truncate(time.Millisecond)) {
				t.Errorf("first %v last %v, want %v %v", s.First, s.Last, g.result(1).Time, g.result(n).Time)
			}
			v := s.build(Info{Report: "r.csv"})

			// Customers: 30 seen, 20 told apart, the top 5 shown, then
			// a line for the 15 others and one for those beyond 20.
			if len(v.Customers) != 5+2 {
				t.Fatalf("customer rows = %d, want 7: %+v", len(v.Customers), v.Customers)
			}
			if got := v.Customers[5].Customer; got != "15 more customers not shown" {
				t.Errorf("customer more row = %q", got)
			}
			total := 0
			for _, c := range v.Customers {
				var k int
				fmt.Sscan(strings.ReplaceAll(c.Total, ",", ""), &k)
				total += k
			}
			if total != n {
				t.Errorf("customer table sums to %d rows, want %d", total, n)
			}

			// Failures: invalid rows share one message; a run's 404s
			// each have their own (the mailbox), up to the bound.
			if len(v.Failures) == 0 || v.Failures[0].Count != fmtInt(want[batch.StatusInvalid]) {
				t.Fatalf("first failure group = %+v, want %d invalid", v.Failures, want[batch.StatusInvalid])
			}
			if got, wantRows := v.Failures[0].Rows, fmt.Sprintf("50, 100, 150 and %s more", fmtInt(want[batch.StatusInvalid]-3)); got != wantRows {
				t.Errorf("rows of the invalid group = %q, want %q", got, wantRows)
			}
			if mode == "run" && !strings.Contains(v.FailMore, "groups beyond the first 40") {
				t.Errorf("failures more = %q, want the groups beyond the bound", v.FailMore)
			}

			// Columns: the timezone's pairs are exact (3 distinct); the
			// descriptions are unique, so top-N says what it leaves out.
			cols := map[string]columnView{}
			for _, c := range v.Columns {
				cols[c.Name] = c
			}
			changed := 0
			for st, k := range want {
				if st == batch.StatusOK || st == batch.StatusChange || st == batch.StatusFailed {
					changed += k
				}
			}
			tz := cols["timezone"]
			if tz.Total != fmtInt(changed) || len(tz.Pairs) != 3 || tz.More != "" || tz.Approx {
				t.Errorf("timezone column = %+v, want %d changes in 3 exact pairs", tz, changed)
			}
			desc := cols["description"]
			if len(desc.Pairs) != 5 || !strings.HasSuffix(desc.More, "more changes not shown") || !desc.Approx {
				t.Errorf("description column = %+v, want 5 pairs and more not shown", desc)
			}
			if pin := cols["pin"]; len(pin.Pairs) != 1 || !pin.Pairs[0].Secret || pin.Pairs[0].Old != "" || pin.Pairs[0].New != "" {
				t.Errorf("pin column = %+v, want one secret pair without values", pin)
			}

			if mode == "plan" {
				if v.Plan == nil || v.Plan.Change != fmtInt(want[batch.StatusChange]) || v.Plan.Unchanged != fmtInt(want[batch.StatusUnchanged]) || v.Plan.Invalid != fmtInt(want[batch.StatusInvalid]) {
					t.Errorf("plan counts = %+v, want %v", v.Plan, want)
				}
				if len(v.PlanRows) != 7 || v.PlanRows[0].Row != "1" || v.PlanRows[0].Changes[0].Old != "Desk 1" || v.PlanRows[0].Changes[0].New != "Room 1" {
					t.Errorf("plan rows = %+v, want the first 7 mailboxes", v.PlanRows)
				}
				if wantMore := plural(want[batch.StatusChange]-7, "more mailbox", "more mailboxes"); !strings.HasPrefix(v.PlanMore, wantMore) {
					t.Errorf("plan more = %q, want it to start %q", v.PlanMore, wantMore)
				}
			} else if v.Plan != nil || len(v.PlanRows) > 0 {
				t.Errorf("a run's page has a plan: %+v", v.Plan)
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		name             string
		statuses         []batch.Status
		mode             string
		wantExit         string
		wantNext         []string // commands offered
		wantOutcomeStart string
	}{
		{"all ok", []batch.Status{batch.StatusOK, batch.StatusUnchanged}, "run", "0", nil, "finished: every row ok"},
		{"some failed", []batch.Status{batch.StatusOK, batch.StatusFailed}, "run", "1", []string{"RETRY"}, "finished: 1 row not ok"},
		{"interrupted", []batch.Status{batch.StatusOK, batch.StatusSkipped}, "run", "1, 3 or 5 (the report does not record which)", []string{"RESUME"}, "stopped before the end: 1 row"},
		{"interrupted with failures", []batch.Status{batch.StatusSkipped, batch.StatusInvalid}, "run", "1, 3 or 5 (the report does not record which)", []string{"RESUME", "RETRY"}, "stopped"},
		{"plan with invalid", []batch.Status{batch.StatusChange, batch.StatusInvalid}, "plan", "1", []string{""}, "finished: 1 row not ok"},
		{"valid", []batch.Status{batch.StatusValid}, "validate", "0", nil, "finished: every row valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStats(Limits{})
			for i, st := range tt.statuses {
				s.Add(report.Record{Row: i + 1, Status: string(st)})
			}
			v := s.build(Info{Report: "r.csv", HaveMeta: true, Meta: report.Meta{Mode: tt.mode}, Resume: "RESUME", Retry: "RETRY"})
			var got []string
			for _, n := range v.Next {
				got = append(got, n.Command)
			}
			if v.Exit != tt.wantExit || !slices.Equal(got, tt.wantNext) || !strings.HasPrefix(v.Outcome, tt.wantOutcomeStart) {
				t.Errorf("exit %q, next %q, outcome %q; want %q, %q, %q...", v.Exit, got, v.Outcome, tt.wantExit, tt.wantNext, tt.wantOutcomeStart)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	s := NewStats(Limits{})
	s.Add(report.Record{Row: 1, Status: "ok", Time: "2026-03-01T12:00:00.250Z"})
	s.Add(report.Record{Row: 2, Status: "ok", Time: "2026-03-01T12:00:03.500Z"})
	facts := func(v view) map[string]string {
		m := map[string]string{}
		for _, f := range v.Identity {
			m[f.ID] = f.Value
		}
		return m
	}
	old := facts(s.build(Info{Report: "r.csv", HaveMeta: true, Meta: report.Meta{Mode: "run", Input: "in.csv"}}))
	if old["switch"] != notRecorded || old["user"] != notRecorded || old["customer"] != notRecorded || old["input"] != "in.csv" {
		t.Errorf("an older sidecar: %v, want switch, user and customer %q", old, notRecorded)
	}
	if old["start"] != "2026-03-01 12:00:00.250 UTC" || old["end"] != "2026-03-01 12:00:03.500 UTC" || old["elapsed"] != "3.25 s" {
		t.Errorf("times = %q, %q, %q", old["start"], old["end"], old["elapsed"])
	}
	cur := facts(s.build(Info{Report: "r.csv", HaveMeta: true, Meta: report.Meta{Mode: "run", Switch: "https://pbx.example", User: "ops", Customer: "7"}}))
	if cur["switch"] != "https://pbx.example" || cur["user"] != "ops" || cur["customer"] != "7" {
		t.Errorf("identity = %v", cur)
	}
	none := facts(s.build(Info{Report: "r.csv"}))
	if none["mode"] != "run (from the statuses: the sidecar does not say)" {
		t.Errorf("mode without a sidecar = %q", none["mode"])
	}
}

// The page of a canary run says so, and of a run of an approved plan
// names the plan; a run without staging says nothing of it.
func TestStaging(t *testing.T) {
	s := NewStats(Limits{})
	s.Add(report.Record{Row: 1, Status: "ok"})
	s.Add(report.Record{Row: 2, Status: "mismatch"})
	facts := func(m report.Meta) map[string]string {
		out := map[string]string{}
		for _, f := range s.build(Info{Report: "r.csv", HaveMeta: true, Meta: m}).Identity {
			out[f.ID] = f.Value
		}
		return out
	}
	got := facts(report.Meta{Mode: "run", Canary: 4, Plan: "night.plan.csv"})
	if !strings.HasPrefix(got["canary"], "a canary run: it applied 4 rows first") {
		t.Errorf("canary = %q", got["canary"])
	}
	if !strings.HasPrefix(got["plan"], "night.plan.csv ") {
		t.Errorf("plan = %q", got["plan"])
	}
	plain := facts(report.Meta{Mode: "run"})
	for _, id := range []string{"canary", "verify", "plan"} {
		if v, ok := plain[id]; ok {
			t.Errorf("a run without staging shows %s %q", id, v)
		}
	}
	var b bytes.Buffer
	if err := Render(&b, s, Info{Report: "r.csv", HaveMeta: true, Meta: report.Meta{Mode: "run", Canary: 4}}); err != nil {
		t.Fatal(err)
	}
	if page := b.String(); !strings.Contains(page, "a canary run: it applied 4 rows first") || !strings.Contains(page, ">mismatch<") {
		t.Errorf("the page does not say it was a canary run with a mismatch")
	}
}

// TestEscaping renders hostile text from the switch and the file and
// checks the raw HTML: no element or attribute comes from it.
func TestEscaping(t *testing.T) {
	for _, hostile := range []string{`<script>alert(1)</script>`, `" onerror="x`, `<img src=x onerror=alert(1)>`, `</style><script>alert(2)</script>`} {
		t.Run(hostile, func(t *testing.T) {
			g := gen{mode: "plan", start: time.Unix(1_800_000_000, 0), perSecond: 10, customers: 3, hostile: hostile}
			s := aggregate(t, g, 200, Limits{})
			var b bytes.Buffer
			if err := Render(&b, s, Info{Report: hostile, HaveMeta: true, Meta: report.Meta{Mode: "plan", Input: hostile, User: hostile}, Resume: "ensbulk plan '" + hostile + "' --resume"}); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			if strings.Contains(page, hostile) {
				t.Errorf("the page holds %q unescaped", hostile)
			}
			for _, bad := range []string{"<script", "<img", `" onerror=`, "<style><script"} {
				if strings.Contains(strings.ToLower(page), bad) {
					t.Errorf("the page holds %q", bad)
				}
			}
			if n := strings.Count(page, "</style>"); n != 1 {
				t.Errorf("%d </style> in the page, want 1 (the page's own)", n)
			}
			esc := strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(hostile)
			if !strings.Contains(page, esc) {
				t.Errorf("the page does not show %q as text (%q)", hostile, esc)
			}
		})
	}
}

// TestPageBounded: the page of 4 times the rows is no bigger but for
// longer numbers, because every table is a top-N.
func TestPageBounded(t *testing.T) {
	size := func(n int) int {
		g := gen{mode: "plan", start: time.Unix(1_800_000_000, 0), perSecond: 50, customers: 500}
		var b bytes.Buffer
		if err := Render(&b, aggregate(t, g, n, Limits{}), Info{Report: "r.csv"}); err != nil {
			t.Fatal(err)
		}
		return b.Len()
	}
	small, big := size(10000), size(40000)
	if big > small+small/50 {
		t.Errorf("page of 40,000 rows = %d bytes, of 10,000 = %d: grew more than 2%%", big, small)
	}
	if small < 20000 {
		t.Errorf("page of 10,000 rows = %d bytes: the tables are missing", small)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join(dir, "c.report.csv")
	g := gen{mode: "run", start: time.Unix(1_800_000_000, 0), perSecond: 10, customers: 3}
	g.writeReport(t, rep, 120, report.Meta{Input: "c.csv"})

	t.Run("writes", func(t *testing.T) {
		page := filepath.Join(dir, "page.html")
		res, err := Write(Options{Report: rep, Page: page, Retry: "RETRY"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(page)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 120 || int64(res.Bytes) != st.Size() || st.Mode().Perm() != 0o644 {
			t.Errorf("result %+v, file %d bytes mode %v; want 120 rows, the file's size, 0644", res, st.Size(), st.Mode().Perm())
		}
		temps, _ := filepath.Glob(filepath.Join(dir, ".page.html.tmp*"))
		if len(temps) > 0 {
			t.Errorf("temporary files left: %v", temps)
		}
	})
	refused := []struct {
		name string
		page func() string
		want string
	}{
		{"a symlink", func() string {
			target := filepath.Join(dir, "target")
			os.WriteFile(target, []byte("keep"), 0o600)
			link := filepath.Join(dir, "link.html")
			if err := os.Symlink(target, link); err != nil {
				t.Skip("no symlinks here:", err)
			}
			return link
		}, "symbolic link"},
		{"the report", func() string { return rep }, "the page would replace it"},
		{"the report by another name", func() string { return filepath.Join(dir, ".", "c.report.csv") }, "the page would replace it"},
		{"the sidecar", func() string { return report.MetaPath(rep) }, "the page would replace it"},
		{"a directory", func() string { return dir }, "not a regular file"},
		{"in a missing directory", func() string { return filepath.Join(dir, "nope", "p.html") }, "no such file"},
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			page := tt.page()
			before, _ := os.ReadFile(page)
			_, err := Write(Options{Report: rep, Page: page})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write to %s: %v, want an error with %q", page, err, tt.want)
			}
			if after, _ := os.ReadFile(page); !bytes.Equal(before, after) {
				t.Errorf("%s changed", page)
			}
		})
	}
	t.Run("the symlink's target is untouched", func(t *testing.T) {
		if b, err := os.ReadFile(filepath.Join(dir, "target")); err == nil && string(b) != "keep" {
			t.Errorf("target = %q, want keep", b)
		}
	})
}

// TestNoNetworkReferences: the page names no URL it could fetch.
func TestNoNetworkReferences(t *testing.T) {
	g := gen{mode: "run", start: time.Unix(1_800_000_000, 0), perSecond: 10, customers: 3}
	var b bytes.Buffer
	if err := Render(&b, aggregate(t, g, 300, Limits{}), Info{Report: "r.csv"}); err != nil {
		t.Fatal(err)
	}
	// The SVG namespace is a name, not a fetch.
	page := strings.ReplaceAll(b.String(), `xmlns="http://www.w3.org/2000/svg"`, "")
	if m := regexp.MustCompile(`(?i)(https?:|//[a-z]|src=|href=|@import|url\()`).FindString(page); m != "" {
		t.Errorf("the page refers to something to fetch: %q", m)
	}
}
