package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// stageWorld is a fake switch behind both ports: updates change its mailboxes
// (unless ignore says to answer 204 and keep the old values, or fail says
// to answer 404), reads show them. It records every apply in order.
type stageWorld struct {
	mu      sync.Mutex
	boxes   map[string]Values // by mailbox
	ignore  func(mailbox string) bool
	fail    func(mailbox string) bool
	applies []string
	reads   int
}

func newStageWorld(rows []Row) *stageWorld {
	w := &stageWorld{boxes: map[string]Values{}}
	for _, r := range rows {
		w.boxes[r.Mailbox] = Values{"mailbox": {Text: r.Mailbox}, "description": {Text: "old " + r.Mailbox}}
	}
	return w
}

func (w *stageWorld) Update(_ context.Context, params []Param, validate bool) (Response, error) {
	if validate {
		return Response{Code: CodeValidated}, nil
	}
	mb := value(params, "mailbox")
	w.mu.Lock()
	defer w.mu.Unlock()
	w.applies = append(w.applies, mb)
	if w.fail != nil && w.fail(mb) {
		return Response{}, &Error{Kind: KindNotFound, Code: "404", Message: "Mailbox not found"}
	}
	if w.ignore == nil || !w.ignore(mb) {
		for _, p := range params {
			if p.Name != "customer" {
				w.boxes[mb][p.Name] = Value{Text: p.Value}
			}
		}
	}
	return Response{Code: CodeApplied, Message: "OK"}, nil
}

func (w *stageWorld) Read(_ context.Context, mailbox, _ string) (Values, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reads++
	out := Values{}
	for k, v := range w.boxes[mailbox] {
		out[k] = v
	}
	return out, nil
}

func (w *stageWorld) applied() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.applies)
}

// custRows makes a row per customer letter of spec ("AAAB..."), mailbox
// 1000+i, each setting a new description.
func custRows(spec string) []Row {
	rows := make([]Row, len(spec))
	for i, c := range spec {
		mb := fmt.Sprint(1000 + i + 1)
		rows[i] = Row{Num: i + 1, Line: i + 2, Mailbox: mb, Customer: string(c), Params: []Param{
			{Name: "mailbox", Value: mb}, {Name: "customer", Value: string(c)}, {Name: "description", Value: fmt.Sprint("new ", i+1)}}}
	}
	return rows
}

func TestCanaryPicksRoundRobinByCustomerAndStops(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		n       int
		workers int
		want    []string // mailboxes applied, sorted
	}{
		{"two customers", "AAAAABBBBB", 4, 4, []string{"1001", "1002", "1006", "1007"}},
		{"one customer", "AAAAAA", 3, 2, []string{"1001", "1002", "1003"}},
		{"more customers than the canary", "ABCDEF", 3, 1, []string{"1001", "1002", "1003"}},
		// rounds A1 B1 C1, then A2 C2
		{"uneven", "AAAAABCC", 5, 3, []string{"1001", "1002", "1006", "1007", "1008"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := custRows(tt.spec)
			w := newStageWorld(rows)
			sink := &memSink{}
			sum, err := Run(context.Background(), opener(rows), w, sink, fast(Options{Workers: tt.workers, Getter: w, ReadBack: w, Canary: tt.n}))
			var se *StopError
			var ce *CanaryError
			if !errors.As(err, &se) || se.Kind != StopBudget || !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a budget stop with a *CanaryError", err)
			}
			if !ce.Clean || ce.Rows != tt.n || ce.Left != len(rows)-tt.n {
				t.Errorf("canary = %+v, want clean, %d rows, %d left", *ce, tt.n, len(rows)-tt.n)
			}
			got := w.applied()
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("applied %v, want %v", got, tt.want)
			}
			if sum.ByStatus[StatusOK] != tt.n || sum.ByStatus[StatusSkipped] != len(rows)-tt.n {
				t.Errorf("statuses %v, want %d ok, the rest skipped", sum.ByStatus, tt.n)
			}
			if sum.ReadBack.Verified != tt.n {
				t.Errorf("read back %+v, want %d verified", sum.ReadBack, tt.n)
			}
			for _, r := range sink.results {
				if r.Status == StatusSkipped && !strings.Contains(r.Message, "canary") {
					t.Errorf("row %d skipped with %q, want the canary named", r.Row, r.Message)
				}
			}
		})
	}
}

// A canary row the server answers 204 to but does not keep is a
// mismatch, and the canary is not clean.
func TestCanaryMismatch(t *testing.T) {
	rows := custRows("AABB")
	w := newStageWorld(rows)
	w.ignore = func(mb string) bool { return mb == "1003" }
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), w, sink, fast(Options{Workers: 2, Getter: w, ReadBack: w, Canary: 2}))
	var ce *CanaryError
	if !errors.As(err, &ce) || ce.Clean {
		t.Fatalf("err = %v, want a canary that is not clean", err)
	}
	res := sink.byRow()
	if res[3].Status != StatusMismatch || !strings.Contains(res[3].Message, `description sent "new 3", reads "old 1003"`) {
		t.Errorf("row 3 = %s %q, want mismatch naming the field", res[3].Status, res[3].Message)
	}
	if res[1].Status != StatusOK || sum.ReadBack != (ReadBackCounts{Verified: 1, Mismatched: 1}) {
		t.Errorf("row 1 %s, read back %+v; want ok, 1 verified 1 mismatched", res[1].Status, sum.ReadBack)
	}
	if !StatusMismatch.Done() || StatusMismatch.Success() {
		t.Error("mismatch must be done (not resent by a resume) and not a success")
	}
}

// A clean canary goes on when AfterCanary says so; a canary that covers
// every row does not stop.
func TestCanaryGoesOn(t *testing.T) {
	rows := custRows("AAABBB")
	t.Run("asked", func(t *testing.T) {
		w := newStageWorld(rows)
		var asked []CanaryReport
		sum, err := Run(context.Background(), opener(rows), w, &memSink{}, fast(Options{Workers: 2, Getter: w, ReadBack: w, Canary: 2,
			AfterCanary: func(_ context.Context, r CanaryReport) bool { asked = append(asked, r); return true }}))
		if err != nil || sum.ByStatus[StatusOK] != 6 {
			t.Fatalf("err %v, statuses %v; want all 6 ok", err, sum.ByStatus)
		}
		if want := []CanaryReport{{Rows: 2, Clean: true, Left: 4}}; !slices.Equal(asked, want) {
			t.Errorf("asked %+v, want %+v", asked, want)
		}
		if got := w.applied(); len(got) != 6 || !slices.Contains(got[:2], "1001") || !slices.Contains(got[:2], "1004") {
			t.Errorf("applied %v, want the canary (1001, 1004) first, then the other 4", got)
		}
	})
	t.Run("all rows", func(t *testing.T) {
		w := newStageWorld(rows)
		sum, err := Run(context.Background(), opener(rows), w, &memSink{}, fast(Options{Getter: w, ReadBack: w, Canary: 10}))
		if err != nil || sum.ByStatus[StatusOK] != 6 {
			t.Fatalf("err %v, statuses %v; want all 6 ok, no stop", err, sum.ByStatus)
		}
	})
	t.Run("needs a read-back", func(t *testing.T) {
		w := newStageWorld(rows)
		if _, err := Run(context.Background(), opener(rows), w, &memSink{}, Options{Canary: 1}); err == nil {
			t.Error("a canary without ReadBack ran")
		}
	})
}

// A canary never applies a row before an earlier row of its mailbox that
// it leaves out. A row without a customer may be any customer's (the
// login's own): it is taken for the same mailbox as a row of that number
// in any customer.
func TestCanaryKeepsMailboxOrder(t *testing.T) {
	row := func(num int, customer, mailbox string) Row {
		return Row{Num: num, Line: num + 1, Mailbox: mailbox, Customer: customer,
			Params: []Param{{Name: "mailbox", Value: mailbox}, {Name: "description", Value: fmt.Sprint("r", num)}}}
	}
	tests := []struct {
		name string
		rows []Row
		want []string
	}{
		// Buckets A [1, 2], "" [3]; round 1 picks 1 and 3, but row 2
		// (3000, left out) may be the same mailbox as row 3.
		{"customer-less after a row left out", []Row{row(1, "A", "2000"), row(2, "A", "3000"), row(3, "", "3000")}, []string{"2000"}},
		// Buckets A [1, 2], B [3]: 3000 of A and 3000 of B are two
		// mailboxes.
		{"same number, other customer", []Row{row(1, "A", "2000"), row(2, "A", "3000"), row(3, "B", "3000")}, []string{"2000", "3000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newStageWorld(tt.rows)
			_, err := Run(context.Background(), opener(tt.rows), w, &memSink{}, fast(Options{Workers: 1, Getter: w, ReadBack: w, Canary: 2}))
			var ce *CanaryError
			if !errors.As(err, &ce) || ce.Rows != len(tt.want) {
				t.Fatalf("err = %v, want a canary stop after %d rows", err, len(tt.want))
			}
			got := w.applied()
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("applied %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMaxFailures(t *testing.T) {
	t.Run("rows", func(t *testing.T) {
		rows := mkRows(20, func(i int) string { return fmt.Sprint(1000 + i) })
		w := newStageWorld(rows)
		w.fail = func(mb string) bool { return mb != "1000" } // row 1 ok, every other fails
		sink := &memSink{}
		sum, err := Run(context.Background(), opener(rows), w, sink, fast(Options{Workers: 1, Getter: w, MaxFailures: &FailureLimit{Rows: 3}}))
		var se *StopError
		var fe *FailureLimitError
		if !errors.As(err, &se) || se.Kind != StopBudget || !errors.As(err, &fe) {
			t.Fatalf("err = %v, want a budget stop with a *FailureLimitError", err)
		}
		if fe.Failed != 4 || fe.Sent != 5 {
			t.Errorf("stopped at %d failed of %d sent, want 4 of 5", fe.Failed, fe.Sent)
		}
		if got := len(w.applied()); got != 5 {
			t.Errorf("%d applies sent, want 5 (1 ok, then 4 failures)", got)
		}
		if sum.ByStatus[StatusFailed] != 4 || sum.ByStatus[StatusSkipped] != 15 {
			t.Errorf("statuses %v, want 4 failed, 15 skipped", sum.ByStatus)
		}
	})
	t.Run("percent after the sample", func(t *testing.T) {
		rows := mkRows(40, func(i int) string { return fmt.Sprint(1000 + i) })
		w := newStageWorld(rows)
		// Rows 1 and 2 fail (100% of the first rows, under the sample),
		// then 18 ok: 2 of 20 is 10%, not beyond it; row 21 fails: 3 of
		// 21 is 14%.
		w.fail = func(mb string) bool { return mb == "1000" || mb == "1001" || mb == "1020" }
		sum, err := Run(context.Background(), opener(rows), w, &memSink{}, fast(Options{Workers: 1, Getter: w, MaxFailures: &FailureLimit{Percent: 10}}))
		var fe *FailureLimitError
		if !errors.As(err, &fe) || fe.Failed != 3 || fe.Sent != 21 {
			t.Fatalf("err = %v (%+v), want a stop at 3 failed of 21 sent", err, fe)
		}
		if got := len(w.applied()); got != 21 {
			t.Errorf("%d applies sent, want 21", got)
		}
		if sum.ByStatus[StatusOK] != 18 {
			t.Errorf("statuses %v, want 18 ok", sum.ByStatus)
		}
	})
	t.Run("unchanged rows are not sent", func(t *testing.T) {
		rows := mkRows(10, func(i int) string { return fmt.Sprint(1000 + i) })
		w := newStageWorld(rows)
		for _, r := range rows[:8] {
			w.boxes[r.Mailbox]["description"] = Value{Text: value(r.Params, "description")}
		}
		w.fail = func(string) bool { return true }
		// 2 rows sent, both fail: 100% but under the sample of 3.
		_, err := Run(context.Background(), opener(rows), w, &memSink{}, fast(Options{Workers: 1, Getter: w, MaxFailures: &FailureLimit{Percent: 50, MinSample: 3}}))
		if err != nil {
			t.Errorf("err = %v, want none: 8 unchanged rows are not sent, 2 sent are under the sample", err)
		}
	})
}

func TestFailureLimitExceeded(t *testing.T) {
	tests := []struct {
		lim          FailureLimit
		failed, sent int64
		want         bool
	}{
		{FailureLimit{Rows: 3}, 3, 3, false},
		{FailureLimit{Rows: 3}, 4, 100, true},
		{FailureLimit{Percent: 10}, 19, 19, false}, // under the default sample
		{FailureLimit{Percent: 10}, 2, 20, false},  // exactly 10%
		{FailureLimit{Percent: 10}, 3, 20, true},
		{FailureLimit{Percent: 10, MinSample: 5}, 1, 5, true},
		{FailureLimit{Rows: 100, Percent: 50}, 11, 20, true}, // Rows not used with Percent
		{FailureLimit{Rows: 0}, 0, 50, false},
		{FailureLimit{Rows: 0}, 1, 1, true}, // --max-failures 0: the first failure
	}
	for _, tt := range tests {
		if got := tt.lim.exceeded(tt.failed, tt.sent); got != tt.want {
			t.Errorf("%+v.exceeded(%d, %d) = %v, want %v", tt.lim, tt.failed, tt.sent, got, tt.want)
		}
	}
}

// --verify: every applied row is read back; a value the server did not
// keep is a mismatch; an unchanged row is not read back.
func TestReadBack(t *testing.T) {
	rows := mkRows(6, func(i int) string { return fmt.Sprint(1000 + i) })
	w := newStageWorld(rows)
	w.boxes["1005"]["description"] = Value{Text: "r6"} // unchanged
	w.ignore = func(mb string) bool { return mb == "1002" }
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), w, sink, fast(Options{Workers: 3, Getter: w, ReadBack: w}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[Status]int{StatusOK: 4, StatusMismatch: 1, StatusUnchanged: 1}
	for st, n := range want {
		if sum.ByStatus[st] != n {
			t.Errorf("%s = %d, want %d (all: %v)", st, sum.ByStatus[st], n, sum.ByStatus)
		}
	}
	if sum.ReadBack != (ReadBackCounts{Verified: 4, Mismatched: 1}) {
		t.Errorf("read back %+v", sum.ReadBack)
	}
	if w.reads != 6+5 {
		t.Errorf("%d reads, want 11 (6 before, 5 after)", w.reads)
	}
	if got := sink.byRow()[3]; got.Attempts != 1 || got.Code != "204" {
		t.Errorf("mismatched row: attempts %d code %q, want the update's (1, 204)", got.Attempts, got.Code)
	}
}

// A settled row is reported as given and never sent, not even validated.
func TestSettledRowsAreNotSent(t *testing.T) {
	rows := mkRows(4, func(i int) string { return fmt.Sprint(1000 + i) })
	rows[1].Settled = &Settled{Status: StatusUnchanged, Phase: PhaseApply, Message: "the plan found it unchanged"}
	rows[2].Settled = &Settled{Status: StatusInvalid, Phase: PhaseValidate, Code: "400", Key: "timezone", Message: "in the plan: bad"}
	s := newScripted(ok)
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 2}))
	if err != nil {
		t.Fatal(err)
	}
	if s.calls != 4 {
		t.Errorf("%d calls, want 4 (rows 1 and 4, validated and applied)", s.calls)
	}
	res := sink.byRow()
	if r := res[2]; r.Status != StatusUnchanged || r.Phase != PhaseApply || r.Attempts != 0 {
		t.Errorf("row 2 = %+v", r)
	}
	if r := res[3]; r.Status != StatusInvalid || r.Code != "400" || r.Key != "timezone" || r.Message != "in the plan: bad" {
		t.Errorf("row 3 = %+v", r)
	}
	if sum.ByStatus[StatusOK] != 2 {
		t.Errorf("statuses %v", sum.ByStatus)
	}
}
