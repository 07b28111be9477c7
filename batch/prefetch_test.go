package batch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

// world is a switch in memory for the prefetch tests: the Sender, Getter
// and Lister ports over one map, counting the requests of each kind.
type world struct {
	mu    sync.Mutex
	boxes map[string]Values // customer + "/" + mailbox
	calls map[string]int    // validate, update, get, list
	// failAfter makes a list fail after giving this many mailboxes (-1:
	// never).
	failAfter int
}

func newWorld(boxes map[string]Values) *world {
	return &world{boxes: boxes, calls: map[string]int{}, failAfter: -1}
}

func (w *world) count(kind string) {
	w.mu.Lock()
	w.calls[kind]++
	w.mu.Unlock()
}

func (w *world) Update(_ context.Context, ps []Param, validate bool) (Response, error) {
	if validate {
		w.count("validate")
		return Response{Code: CodeValidated}, nil
	}
	w.count("update")
	w.mu.Lock()
	defer w.mu.Unlock()
	k := value(ps, "customer") + "/" + value(ps, "mailbox")
	v, ok := w.boxes[k]
	if !ok {
		return Response{}, &Error{Kind: KindNotFound, Code: "404"}
	}
	for _, p := range ps {
		v[p.Name] = Value{Text: p.Value}
	}
	return Response{Code: CodeApplied}, nil
}

func (w *world) Read(_ context.Context, mailbox, customer string) (Values, error) {
	w.count("get")
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.boxes[customer+"/"+mailbox]
	if !ok {
		return nil, &Error{Kind: KindNotFound, Code: "404"}
	}
	return maps.Clone(v), nil
}

func (w *world) List(_ context.Context, customer string, want func(string) bool, fn func(string, Values) error) error {
	w.count("list")
	w.mu.Lock()
	keys := slices.Sorted(maps.Keys(w.boxes))
	var all []Values
	for _, k := range keys {
		if v := w.boxes[k]; v["customer"].Text == customer {
			all = append(all, maps.Clone(v))
		}
	}
	w.mu.Unlock()
	for i, v := range all {
		if i == w.failAfter {
			return &Error{Kind: KindTransient, Message: fmt.Sprintf("list of customer %s cut after %d mailboxes", customer, i)}
		}
		if mb := v["mailbox"].Text; want(mb) {
			if err := fn(mb, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// boxesOf makes n mailboxes of customer c, 1001 up, description "d<n>".
func boxesOf(into map[string]Values, c string, n int) map[string]Values {
	for i := range n {
		mb := fmt.Sprint(1001 + i)
		into[c+"/"+mb] = Values{"mailbox": {Text: mb}, "customer": {Text: c}, "description": {Text: fmt.Sprint("d", 1001+i)}}
	}
	return into
}

// exportRows are rows that set each mailbox's description to what it
// holds, but for the mailboxes in edit, which get "new".
func exportRows(c string, n int, edit ...int) []Row {
	var rows []Row
	for i := range n {
		mb := fmt.Sprint(1001 + i)
		d := fmt.Sprint("d", 1001+i)
		if slices.Contains(edit, 1001+i) {
			d = "new"
		}
		rows = append(rows, Row{Num: len(rows) + 1, Mailbox: mb, Customer: c,
			Params: []Param{{Name: "mailbox", Value: mb}, {Name: "customer", Value: c}, {Name: "description", Value: d}}})
	}
	return rows
}

func TestPrefetchDecidesUnchangedRows(t *testing.T) {
	rows := append(exportRows("100", 20, 1003, 1010), exportRows("101", 3, 1002)...)
	for i := range rows {
		rows[i].Num = i + 1
	}
	for _, tc := range []struct {
		name      string
		plan      bool
		listRows  int
		wantCalls map[string]int
		wantWork  Workload
	}{
		// Customer 100 (20 rows) is listed; 101 (3 rows) is below 5 and read
		// row by row.
		{"run", false, 5, map[string]int{"list": 1, "validate": 2 + 3, "get": 2 + 3, "update": 2 + 1},
			Workload{Sent: 1, Lists: 1, Unchanged: 18, Validate: 5, Reads: 5, Updates: 5}},
		{"run, every customer listed", false, 1, map[string]int{"list": 2, "validate": 3, "get": 3, "update": 3},
			Workload{Sent: 2, Lists: 2, Unchanged: 20, Validate: 3, Reads: 3, Updates: 3}},
		{"run, no list", false, 0, map[string]int{"validate": 23, "get": 23, "update": 3},
			Workload{Validate: 23, Reads: 23, Updates: 23}},
		// A plan compares a changed row with the list: no get.
		{"plan", true, 1, map[string]int{"list": 2, "validate": 3},
			Workload{Sent: 2, Lists: 2, Unchanged: 20, Validate: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(boxesOf(boxesOf(map[string]Values{}, "100", 20), "101", 3))
			sink := &memSink{}
			var work Workload
			var reports []ListReport
			_, err := Run(context.Background(), opener(rows), w, sink, fast(Options{Getter: w, Lister: w, ListRows: tc.listRows,
				PlanOnly: tc.plan, OnWorkload: func(wl Workload) { work = wl }, OnList: func(r ListReport) { reports = append(reports, r) }}))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(w.calls, tc.wantCalls) {
				t.Errorf("calls = %v, want %v", w.calls, tc.wantCalls)
			}
			if work != tc.wantWork {
				t.Errorf("workload = %+v, want %+v", work, tc.wantWork)
			}
			byRow := sink.byRow()
			if len(byRow) != len(rows) {
				t.Fatalf("%d results, want %d", len(byRow), len(rows))
			}
			for _, r := range rows {
				want := StatusUnchanged
				if value(r.Params, "description") == "new" {
					want = StatusOK
					if tc.plan {
						want = StatusChange
					}
				}
				got := byRow[r.Num]
				if got.Status != want {
					t.Errorf("row %d (%s/%s): %s (%s), want %s", r.Num, r.Customer, r.Mailbox, got.Status, got.Message, want)
				}
				if want == StatusChange && (len(got.Changes) != 1 || got.Changes[0].Old != "d"+r.Mailbox || !got.Changes[0].Known) {
					t.Errorf("row %d changes = %+v, want description d%s -> new", r.Num, got.Changes, r.Mailbox)
				}
			}
			for _, rep := range reports {
				if rep.Err != nil {
					t.Errorf("list of %s: %v", rep.Customer, rep.Err)
				}
			}
		})
	}
}

// A list that fails part way decides nothing: every row of the customer
// is validated and read as without a list, and OnList says why.
func TestPrefetchFailedListDecidesNothing(t *testing.T) {
	w := newWorld(boxesOf(map[string]Values{}, "100", 10))
	w.failAfter = 6
	rows := exportRows("100", 10, 1004)
	sink := &memSink{}
	var reports []ListReport
	_, err := Run(context.Background(), opener(rows), w, sink, fast(Options{Getter: w, Lister: w, ListRows: 1,
		OnList: func(r ListReport) { reports = append(reports, r) }}))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"list": 1, "validate": 10, "get": 10, "update": 1}; !maps.Equal(w.calls, want) {
		t.Errorf("calls = %v, want %v", w.calls, want)
	}
	if len(reports) != 1 || reports[0].Err == nil || reports[0].Unchanged != 0 || reports[0].Rows != 10 {
		t.Errorf("reports = %+v, want one failed list of 10 rows", reports)
	}
	for _, r := range sink.results {
		if want := StatusUnchanged; r.Mailbox != "1004" && r.Status != want {
			t.Errorf("row %d: %s, want %s", r.Row, r.Status, want)
		}
	}
}

// Only a mailbox's first row is decided by the list: a later row may
// find what an earlier one wrote. A field the list does not show (a
// masked PIN) is a change, as it is for a read.
func TestPrefetchLaterRowsAndUnshownFields(t *testing.T) {
	w := newWorld(boxesOf(map[string]Values{}, "100", 4))
	row := func(n int, mb string, ps ...Param) Row {
		return Row{Num: n, Mailbox: mb, Customer: "100", Params: append([]Param{{Name: "mailbox", Value: mb}, {Name: "customer", Value: "100"}}, ps...)}
	}
	rows := []Row{
		row(1, "1001", Param{Name: "description", Value: "new"}),   // change
		row(2, "1001", Param{Name: "description", Value: "d1001"}), // changes it back: must be sent
		row(3, "1002", Param{Name: "description", Value: "d1002"}), // unchanged, by the list
		row(4, "1002", Param{Name: "description", Value: "d1002"}), // unchanged, but read
		row(5, "1003", Param{Name: "pin", Value: "1234"}),          // not shown: a change
		row(6, "1004", Param{Name: "pin", Value: ""}),              // keeps the PIN: unchanged, by the list
	}
	sink := &memSink{}
	if _, err := Run(context.Background(), opener(rows), w, sink, fast(Options{Getter: w, Lister: w, ListRows: 1})); err != nil {
		t.Fatal(err)
	}
	want := map[int]Status{1: StatusOK, 2: StatusOK, 3: StatusUnchanged, 4: StatusUnchanged, 5: StatusOK, 6: StatusUnchanged}
	for n, st := range want {
		if got := sink.byRow()[n]; got.Status != st {
			t.Errorf("row %d: %s (%s), want %s", n, got.Status, got.Message, st)
		}
	}
	if got := w.boxes["100/1001"]["description"].Text; got != "d1001" {
		t.Errorf("1001 description = %q, want d1001 (row 2 sent after row 1)", got)
	}
	if want := map[string]int{"list": 1, "validate": 4, "get": 4, "update": 3}; !maps.Equal(w.calls, want) {
		t.Errorf("calls = %v, want %v", w.calls, want)
	}
}

// A list refused with 401 stops the run: nothing else is sent.
func TestPrefetchUnauthorizedListAborts(t *testing.T) {
	w := newWorld(boxesOf(map[string]Values{}, "100", 3))
	l := listerFunc(func(context.Context, string, func(string) bool, func(string, Values) error) error {
		return &Error{Kind: KindUnauthorized, Code: "401"}
	})
	sink := &memSink{}
	_, err := Run(context.Background(), opener(exportRows("100", 3, 1001)), w, sink, fast(Options{Getter: w, Lister: l, ListRows: 1}))
	var se *StopError
	if !errors.As(err, &se) || se.Kind != StopAborted {
		t.Fatalf("err = %v, want an abort", err)
	}
	if len(w.calls) != 0 {
		t.Errorf("calls = %v, want none after the 401", w.calls)
	}
}

type listerFunc func(context.Context, string, func(string) bool, func(string, Values) error) error

func (f listerFunc) List(ctx context.Context, c string, want func(string) bool, fn func(string, Values) error) error {
	return f(ctx, c, want, fn)
}

func TestWorkloadEstimate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		w        Workload
		rate     float64
		requests int64
		dur      time.Duration
	}{
		{"edited export, run", Workload{Sent: 2, Lists: 2, Unchanged: 9500, Validate: 500, Reads: 500, Updates: 500}, 5, 1502, 300 * time.Second},
		{"edited export, plan", Workload{Sent: 2, Lists: 2, Unchanged: 9500, Validate: 500}, 10, 502, 50 * time.Second},
		{"nothing changes", Workload{Sent: 2, Lists: 2, Unchanged: 10000}, 5, 2, 0},
		{"no read", Workload{Validate: 3, Updates: 3}, 2, 6, 3 * time.Second},
		{"no limit", Workload{Validate: 3, Reads: 3, Updates: 3}, 0, 9, 0},
		{"fraction", Workload{Validate: 1}, 3, 1, time.Second / 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.Requests(); got != tc.requests {
				t.Errorf("Requests() = %d, want %d", got, tc.requests)
			}
			if got := tc.w.Duration(tc.rate); got != tc.dur {
				t.Errorf("Duration(%g) = %v, want %v", tc.rate, got, tc.dur)
			}
		})
	}
}
