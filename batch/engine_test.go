package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// These tests drive the engine through its Sender port with a scripted
// sender (no HTTP: the real client against the real simulator is tested
// in cmd/ensbulk). They check the engine's own invariants.

type sliceSource struct {
	rows []Row
	i    int
}

func (s *sliceSource) Next() (Row, error) {
	if s.i == len(s.rows) {
		return Row{}, io.EOF
	}
	s.i++
	return s.rows[s.i-1], nil
}

func opener(rows []Row) Opener {
	return func() (Source, io.Closer, error) { return &sliceSource{rows: rows}, io.NopCloser(nil), nil }
}

// memSink is driven by the engine's one writer goroutine: no lock needed.
type memSink struct {
	results []Result
	flushes int
}

func (m *memSink) Write(r Result) error { m.results = append(m.results, r); return nil }
func (m *memSink) Flush() error         { m.flushes++; return nil }

func (m *memSink) byRow() map[int]Result {
	out := map[int]Result{}
	for _, r := range m.results {
		out[r.Row] = r
	}
	return out
}

// scripted answers by mailbox; it records the order of applies per key and
// fails the test on two concurrent calls for one key.
type scripted struct {
	mu       sync.Mutex
	answer   func(params []Param, validate bool, attempt int) (Response, error)
	attempts map[string]int
	busy     map[string]bool
	overlap  int
	applied  []string // "mailbox:desc" in order
	calls    int
	delay    time.Duration
}

func newScripted(answer func([]Param, bool, int) (Response, error)) *scripted {
	return &scripted{answer: answer, attempts: map[string]int{}, busy: map[string]bool{}}
}

func (s *scripted) Update(ctx context.Context, params []Param, validate bool) (Response, error) {
	mb := value(params, "mailbox")
	key := fmt.Sprintf("%s/%s/%v", mb, value(params, "description"), validate)
	s.mu.Lock()
	if s.busy[mb] {
		s.overlap++
	}
	s.busy[mb] = true
	s.attempts[key]++
	n := s.attempts[key]
	s.calls++
	s.mu.Unlock()
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	resp, err := s.answer(params, validate, n)
	s.mu.Lock()
	s.busy[mb] = false
	if err == nil && !validate {
		s.applied = append(s.applied, mb+":"+value(params, "description"))
	}
	s.mu.Unlock()
	return resp, err
}

func value(ps []Param, name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func ok(_ []Param, validate bool, _ int) (Response, error) {
	if validate {
		return Response{Code: "201"}, nil
	}
	return Response{Code: "204"}, nil
}

func mkRows(n int, mailbox func(i int) string) []Row {
	rows := make([]Row, n)
	for i := range rows {
		mb := mailbox(i)
		rows[i] = Row{Num: i + 1, Line: i + 2, Mailbox: mb, Params: []Param{
			{Name: "mailbox", Value: mb}, {Name: "description", Value: fmt.Sprint("r", i+1)}}}
	}
	return rows
}

func fast(o Options) Options {
	o.BackoffBase = time.Millisecond
	o.BackoffMax = 5 * time.Millisecond
	return o
}

func TestRunAppliesEveryRowOnce(t *testing.T) {
	rows := mkRows(200, func(i int) string { return fmt.Sprint(1000 + i) })
	s := newScripted(ok)
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 16}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sum.ByStatus[StatusOK], 200; got != want {
		t.Errorf("ok = %d, want %d", got, want)
	}
	if got, want := len(sink.results), 200; got != want {
		t.Errorf("results = %d, want %d", got, want)
	}
	if got, want := s.calls, 400; got != want {
		t.Errorf("calls = %d, want %d (validate + apply)", got, want)
	}
}

func TestSameMailboxInFileOrderNeverConcurrent(t *testing.T) {
	for run := range 20 {
		rows := mkRows(300, func(i int) string { return fmt.Sprint(i % 3) }) // 3 mailboxes, 100 rows each
		s := newScripted(ok)
		s.delay = 50 * time.Microsecond
		sink := &memSink{}
		if _, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 64})); err != nil {
			t.Fatal(err)
		}
		if s.overlap != 0 {
			t.Fatalf("run %d: %d concurrent calls for one mailbox", run, s.overlap)
		}
		last := map[string]int{}
		for _, a := range s.applied {
			var mb string
			var n int
			fmt.Sscanf(a, "%1s:r%d", &mb, &n)
			if n <= last[mb] {
				t.Fatalf("run %d: mailbox %s applied row %d after row %d", run, mb, n, last[mb])
			}
			last[mb] = n
		}
	}
}

func TestStatusesFromKinds(t *testing.T) {
	rows := mkRows(6, func(i int) string { return fmt.Sprint(i) })
	rows[5].Err = &RowError{Row: 6, Column: "envelope", Message: "want 0 or 1"}
	s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
		switch value(ps, "mailbox") {
		case "0":
			return Response{}, &Error{Kind: KindInvalid, Code: "400", Key: "pin", Message: "bad pin"}
		case "1":
			return Response{}, &Error{Kind: KindNotFound, Code: "404", Message: "no such mailbox"}
		case "2":
			return Response{}, &Error{Kind: KindTransient, Message: "reset"}
		case "3":
			if attempt < 3 {
				return Response{}, &Error{Kind: KindTransient, Code: "502", Message: "bad gateway"}
			}
		}
		return ok(ps, validate, attempt)
	})
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 4, MaxAttempts: 4}))
	if err != nil {
		t.Fatal(err)
	}
	got := sink.byRow()
	want := []struct {
		st       Status
		ph       Phase
		code     string
		attempts int
	}{
		{StatusInvalid, PhaseValidate, "400", 1},
		{StatusFailed, PhaseValidate, "404", 1},
		{StatusError, PhaseValidate, "", 4},
		{StatusOK, PhaseApply, "204", 3},
		{StatusOK, PhaseApply, "204", 1},
		{StatusInvalid, PhaseLocal, "", 0},
	}
	for i, w := range want {
		r := got[i+1]
		if r.Status != w.st || r.Phase != w.ph || r.Code != w.code || r.Attempts != w.attempts {
			t.Errorf("row %d = %s/%s/%q/%d attempts, want %s/%s/%q/%d", i+1, r.Status, r.Phase, r.Code, r.Attempts, w.st, w.ph, w.code, w.attempts)
		}
	}
	if got[1].Key != "pin" {
		t.Errorf("row 1 key = %q, want pin", got[1].Key)
	}
	if sum.Failures() != 4 {
		t.Errorf("failures = %d, want 4", sum.Failures())
	}
}

func TestAllOrNothing(t *testing.T) {
	rows := mkRows(10, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
		if value(ps, "mailbox") == "7" {
			return Response{}, &Error{Kind: KindInvalid, Code: "400", Key: "timezone"}
		}
		return ok(ps, validate, attempt)
	})
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 4, AllOrNothing: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.applied) != 0 {
		t.Errorf("applied %v with --all-or-nothing and an invalid row", s.applied)
	}
	if sum.ByStatus[StatusSkipped] != 9 || sum.ByStatus[StatusInvalid] != 1 {
		t.Errorf("statuses = %v, want 9 skipped, 1 invalid", sum.ByStatus)
	}
}

func TestUnauthorizedAbortsAtOnce(t *testing.T) {
	rows := mkRows(500, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(func([]Param, bool, int) (Response, error) {
		return Response{}, &Error{Kind: KindUnauthorized, Code: "401", Message: "Authentication invalid"}
	})
	sink := &memSink{}
	const workers = 8
	sum, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: workers}))
	var se *StopError
	if !errors.As(err, &se) || se.Kind != StopAborted {
		t.Fatalf("err = %v, want an abort", err)
	}
	if s.calls > workers {
		t.Errorf("%d requests after a 401, want at most %d (one per worker)", s.calls, workers)
	}
	if got := len(sink.byRow()); got != 500 {
		t.Errorf("report rows = %d, want 500 (one per input row)", got)
	}
	if sum.ByStatus[StatusSkipped] < 500-workers {
		t.Errorf("skipped = %d, want >= %d", sum.ByStatus[StatusSkipped], 500-workers)
	}
}

func TestRepeatedForbiddenAborts(t *testing.T) {
	rows := mkRows(100, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(func([]Param, bool, int) (Response, error) {
		return Response{}, &Error{Kind: KindForbidden, Code: "402", Message: "role does not allow this"}
	})
	_, err := Run(context.Background(), opener(rows), s, &memSink{}, fast(Options{Workers: 1}))
	var se *StopError
	if !errors.As(err, &se) || se.Kind != StopAborted {
		t.Fatalf("err = %v, want an abort", err)
	}
	if s.calls != 3 {
		t.Errorf("calls = %d, want 3 (ForbiddenAbortAfter)", s.calls)
	}
}

func TestCircuitOpens(t *testing.T) {
	rows := mkRows(1000, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(func([]Param, bool, int) (Response, error) {
		return Response{}, &Error{Kind: KindTransient, Code: "500", Message: "HTTP 500"}
	})
	_, err := Run(context.Background(), opener(rows), s, &memSink{}, fast(Options{Workers: 4, CircuitThreshold: 10}))
	var se *StopError
	if !errors.As(err, &se) || se.Kind != StopAborted {
		t.Fatalf("err = %v, want an abort", err)
	}
	if s.calls > 10+4 {
		t.Errorf("calls = %d, want about the circuit threshold (10) plus in-flight", s.calls)
	}
}

func TestThrottleDoesNotBurnAttempts(t *testing.T) {
	rows := mkRows(5, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
		if attempt <= 3 {
			return Response{}, &Error{Kind: KindTransient, Code: "429", Throttle: true, RetryAfter: time.Millisecond}
		}
		return ok(ps, validate, attempt)
	})
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 2, MaxAttempts: 1, Rate: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	if sum.ByStatus[StatusOK] != 5 {
		t.Errorf("ok = %d, want 5: 429s must not use up --max-attempts 1 (%v)", sum.ByStatus[StatusOK], sink.results)
	}
	if sum.Throttles != 30 {
		t.Errorf("throttles = %d, want 30", sum.Throttles)
	}
}

func TestInterruptSkipsTheRest(t *testing.T) {
	rows := mkRows(300, func(i int) string { return fmt.Sprint(i) })
	ctx, cancel := context.WithCancel(context.Background())
	s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
		if !validate && value(ps, "mailbox") == "10" {
			cancel()
		}
		return ok(ps, validate, attempt)
	})
	sink := &memSink{}
	sum, err := Run(ctx, opener(rows), s, sink, fast(Options{Workers: 1}))
	var se *StopError
	if !errors.As(err, &se) || se.Kind != StopInterrupted {
		t.Fatalf("err = %v, want interrupted", err)
	}
	if got := len(sink.byRow()); got != 300 {
		t.Errorf("report rows = %d, want 300", got)
	}
	// The request in flight when the signal came finished and counts.
	if r := sink.byRow()[11]; r.Status != StatusOK {
		t.Errorf("row 11 (in flight at the signal) = %s, want ok", r.Status)
	}
	if sum.ByStatus[StatusOK] != 11 || sum.ByStatus[StatusSkipped] != 289 {
		t.Errorf("statuses = %v, want 11 ok and 289 skipped", sum.ByStatus)
	}
}

func TestMaxRowsStopsResumably(t *testing.T) {
	rows := mkRows(50, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(ok)
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 1, MaxRows: 20}))
	var se *StopError
	if !errors.As(err, &se) || se.Kind != StopBudget {
		t.Fatalf("err = %v, want a budget stop", err)
	}
	if sum.ByStatus[StatusOK] != 20 || sum.ByStatus[StatusSkipped] != 30 {
		t.Errorf("statuses = %v, want 20 ok, 30 skipped", sum.ByStatus)
	}
}

func TestTodoLeavesRowsOut(t *testing.T) {
	rows := mkRows(10, func(i int) string { return fmt.Sprint(i) })
	s := newScripted(ok)
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 2, Todo: func(n int) bool { return n > 6 }}))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Todo != 4 || len(sink.results) != 4 || s.calls != 8 {
		t.Errorf("todo %d, results %d, calls %d; want 4, 4, 8", sum.Todo, len(sink.results), s.calls)
	}
}

// 40 requests at 200/s go one interval (5ms) apart: the first at once,
// the last 39 intervals later. On the bubble's fake clock (testing/synctest)
// the engine's timers fire on time whatever the machine's load, so the
// run's length is bounded from both sides: a limiter that allowed bursts
// finishes sooner, one that lost time between requests later.
func TestRateLimitSmooth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rows := mkRows(20, func(i int) string { return fmt.Sprint(i) })
		s := newScripted(ok)
		var sent []time.Time
		answer := s.answer
		s.answer = func(ps []Param, v bool, a int) (Response, error) {
			s.mu.Lock()
			sent = append(sent, time.Now())
			s.mu.Unlock()
			return answer(ps, v, a)
		}
		start := time.Now()
		if _, err := Run(context.Background(), opener(rows), s, &memSink{}, fast(Options{Workers: 16, Rate: 200})); err != nil {
			t.Fatal(err)
		}
		if len(sent) != 40 {
			t.Fatalf("%d requests, want 40 (20 rows validated and applied)", len(sent))
		}
		slices.SortFunc(sent, func(a, b time.Time) int { return a.Compare(b) })
		for i := 1; i < len(sent); i++ {
			if gap := sent[i].Sub(sent[i-1]); gap != 5*time.Millisecond {
				t.Errorf("request %d went %s after the one before, want the interval 5ms", i+1, gap)
			}
		}
		if first, last := sent[0].Sub(start), sent[len(sent)-1].Sub(start); first != 0 || last != 39*5*time.Millisecond {
			t.Errorf("first request at %s, last at %s; want 0 and 195ms (39 intervals)", first, last)
		}
	})
}

func TestFileErrorSendsNothing(t *testing.T) {
	boom := errors.New("line 7: bare CR")
	calls := 0
	open := func() (Source, io.Closer, error) {
		return &errSource{n: 5, err: boom}, io.NopCloser(nil), nil
	}
	s := newScripted(func(ps []Param, v bool, a int) (Response, error) { calls++; return ok(ps, v, a) })
	_, err := Run(context.Background(), open, s, &memSink{}, Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if s.calls != 0 {
		t.Errorf("%d requests sent despite a file-level error", s.calls)
	}
}

type errSource struct {
	i, n int
	err  error
}

func (e *errSource) Next() (Row, error) {
	if e.i == e.n {
		return Row{}, e.err
	}
	e.i++
	return Row{Num: e.i, Mailbox: "1", Params: []Param{{Name: "mailbox", Value: "1"}}}, nil
}

func TestGovernorSlowsAndRecovers(t *testing.T) {
	now := time.Unix(0, 0)
	g := newGovernor(100, func() time.Time { return now }, time.Time{})
	g.throttle(2 * time.Second)
	if g.current != 50 {
		t.Fatalf("after a 429: rate %g, want 50", g.current)
	}
	g.throttle(0) // same wave of 429s: within the cooldown, counted once
	if g.current != 50 {
		t.Fatalf("second 429 in the cooldown: rate %g, want 50", g.current)
	}
	if got := g.pauseUntil.Sub(now); got != 2*time.Second {
		t.Errorf("pause %s, want the Retry-After 2s", got)
	}
	for i := 1; i <= 5; i++ {
		now = now.Add(time.Second)
		g.success()
		if want := 50 + float64(i)*10; g.current != want && i < 5 {
			t.Fatalf("after %ds of success: rate %g, want %g", i, g.current, want)
		}
	}
	if g.current != 100 {
		t.Errorf("recovered rate %g, want the target 100", g.current)
	}
	if got := g.throttledFor(); got != 5*time.Second {
		t.Errorf("throttled for %s, want 5s", got)
	}
}

func TestGovernorUnlimitedThrottleEarly(t *testing.T) {
	now := time.Unix(100, 0)
	g := newGovernor(0, func() time.Time { return now }, time.Time{})
	for range 8 { // 8 requests in the first 2ms of the run
		g.mu.Lock()
		g.count(now)
		g.mu.Unlock()
	}
	now = now.Add(2 * time.Millisecond)
	g.throttle(0)
	// 8 requests over (at least) 10ms is 800/s; halved: 400/s, not the
	// floor of 1/s a 2/s guess would give.
	if g.current != 400 {
		t.Errorf("pace after an early throttle = %g/s, want 400", g.current)
	}
}

// flushCounter checks that OnResult only sees results the sink has
// flushed.
type flushCounter struct {
	memSink
	durable int // results written before the last Flush
}

func (f *flushCounter) Flush() error { f.durable = len(f.results); return f.memSink.Flush() }

func TestOnResultSeesEveryFinalResultOnceDurable(t *testing.T) {
	rows := mkRows(40, func(i int) string { return fmt.Sprint(i % 7) })
	rows[3].Err = &RowError{Row: 4, Column: "envelope", Message: "want 0 or 1"}
	s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
		if value(ps, "mailbox") == "2" {
			return Response{}, &Error{Kind: KindNotFound, Code: "404", Message: "no such mailbox"}
		}
		return ok(ps, validate, attempt)
	})
	sink := &flushCounter{}
	var seen []Result
	opts := fast(Options{Workers: 4, OnResult: func(r Result) {
		if len(seen) >= sink.durable {
			t.Errorf("row %d handed to OnResult before the sink flushed it", r.Row)
		}
		seen = append(seen, r)
	}})
	if _, err := Run(context.Background(), opener(rows), s, sink, opts); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(rows) {
		t.Fatalf("OnResult saw %d results, want one per row (%d)", len(seen), len(rows))
	}
	for i, r := range seen {
		if w := sink.results[i]; r.Row != w.Row || r.Status != w.Status {
			t.Errorf("OnResult #%d = row %d %s, want the sink's row %d %s", i, r.Row, r.Status, w.Row, w.Status)
		}
	}
}

func TestDefaultWorkers(t *testing.T) {
	rows := mkRows(64, func(i int) string { return fmt.Sprint(i) })
	var mu sync.Mutex
	inFlight, peak := 0, 0
	released, release := false, make(chan struct{})
	s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == DefaultWorkers && !released {
			released = true
			close(release)
		}
		mu.Unlock()
		select {
		case <-release:
		case <-time.After(500 * time.Millisecond): // fewer workers than the default: fail, slowly
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return ok(ps, validate, attempt)
	})
	if _, err := Run(context.Background(), opener(rows), s, &memSink{}, Options{}); err != nil {
		t.Fatal(err)
	}
	if peak != DefaultWorkers {
		t.Errorf("peak concurrency with Workers unset = %d, want DefaultWorkers (%d)", peak, DefaultWorkers)
	}
}

// blockingSink blocks its first Flush that has something to make durable
// until unblock is closed; durable lists the rows whose results a Flush
// has returned for.
type blockingSink struct {
	mu       sync.Mutex
	written  []int // rows written since the last Flush
	durable  map[int]bool
	blocked  chan struct{} // closed when the first Flush starts blocking
	unblock  chan struct{}
	didBlock bool
}

func (b *blockingSink) Write(r Result) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.written = append(b.written, r.Row)
	return nil
}

func (b *blockingSink) Flush() error {
	b.mu.Lock()
	pending := b.written
	b.written = nil
	first := !b.didBlock && len(pending) > 0
	b.didBlock = b.didBlock || first
	b.mu.Unlock()
	if first {
		close(b.blocked)
		<-b.unblock
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range pending {
		b.durable[n] = true
	}
	return nil
}

func (b *blockingSink) isDurable(row int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.durable[row]
}

// TestSlowFlushStallsOnlyItsMailbox: while the sink makes a result
// durable (an fsync), the workers go on with other mailboxes, and the
// next row of the mailbox whose result is not yet durable is not sent.
func TestSlowFlushStallsOnlyItsMailbox(t *testing.T) {
	const workers = 4
	// Row 1 and row 6 share mailbox "A"; every other row has its own.
	rows := mkRows(60, func(i int) string { return fmt.Sprint("m", i) })
	for _, i := range []int{0, 5} {
		rows[i].Mailbox = "A"
		rows[i].Params[0].Value = "A"
	}
	sink := &blockingSink{durable: map[int]bool{}, blocked: make(chan struct{}), unblock: make(chan struct{})}
	var mu sync.Mutex
	answered := 0          // answers after the Flush started blocking
	var sentEarly []string // second row of A sent before the first was durable
	enough := make(chan struct{})
	s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
		desc := value(ps, "description")
		if value(ps, "mailbox") == "A" && desc == "r6" && !sink.isDurable(1) {
			mu.Lock()
			sentEarly = append(sentEarly, desc)
			mu.Unlock()
		}
		if desc != "r1" {
			// Row 1 alone is answered before the Flush blocks, so the
			// group being made durable is row 1's alone.
			select {
			case <-sink.blocked:
			case <-time.After(10 * time.Second):
				t.Error("the sink never flushed row 1")
			}
			mu.Lock()
			answered++
			if answered == 3*workers {
				close(enough)
			}
			mu.Unlock()
		}
		return ok(ps, validate, attempt)
	})
	go func() {
		// The scheduler lets 4 rows per worker out at a time: 15 can be
		// answered while row 1's result waits. Ask for 12, more than
		// the workers plus a results queue of one item per worker hold.
		select {
		case <-enough:
		case <-time.After(10 * time.Second):
			mu.Lock()
			t.Errorf("%d answers while a Flush blocked, want at least %d: the workers stalled on the sink", answered, 3*workers)
			mu.Unlock()
		}
		close(sink.unblock)
	}()
	opts := fast(Options{Workers: workers, ValidateOnly: true})
	sum, err := Run(context.Background(), opener(rows), s, sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.ByStatus[StatusValid]; got != len(rows) {
		t.Errorf("valid = %d, want %d", got, len(rows))
	}
	if len(sentEarly) > 0 {
		t.Errorf("row 6 (mailbox A) sent before row 1's result was durable")
	}
	if s.overlap != 0 {
		t.Errorf("%d concurrent calls for one mailbox", s.overlap)
	}
}

// TestSteadyRateGroupsFlushes: at a steady rate results arrive one at a
// time; the writer still makes them durable in groups (an fsync each),
// not one by one.
func TestSteadyRateGroupsFlushes(t *testing.T) {
	const n = 300
	rows := mkRows(n, func(i int) string { return fmt.Sprint(i) })
	sink := &memSink{}
	sum, err := Run(context.Background(), opener(rows), newScripted(ok), sink, fast(Options{Workers: 8, Rate: 1000, ValidateOnly: true}))
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.ByStatus[StatusValid]; got != n {
		t.Fatalf("valid = %d, want %d", got, n)
	}
	// 300 results over 0.3 s, one group per 20 ms at most: ~15 flushes.
	if sink.flushes > n/2 {
		t.Errorf("%d flushes for %d results at a steady 1000/s, want at most %d: results are not grouped", sink.flushes, n, n/2)
	}
}

// A Retry-After beyond MaxRetryAfter (a misconfigured proxy's year) stops
// the run resumably at once, with the server's words, instead of holding
// it; a shorter one pauses the pool and is told through OnPause.
func TestRetryAfterIsCapped(t *testing.T) {
	t.Run("beyond the cap", func(t *testing.T) {
		rows := mkRows(3, func(i int) string { return fmt.Sprint(i) })
		s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
			if !validate {
				return Response{}, &Error{Kind: KindTransient, Code: "429", Message: "slow down (proxy)", Throttle: true, RetryAfter: 365 * 24 * time.Hour}
			}
			return ok(ps, validate, attempt)
		})
		sink := &memSink{}
		_, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 1, MaxRetryAfter: time.Minute}))
		var se *StopError
		if !errors.As(err, &se) || se.Kind != StopBudget {
			t.Fatalf("err = %v, want a resumable stop", err)
		}
		if !strings.Contains(se.Reason, "8760h0m0s") || !strings.Contains(se.Reason, "slow down (proxy)") || !strings.Contains(se.Reason, "1m0s") {
			t.Errorf("reason %q does not give the wait asked, the cap and the server's words", se.Reason)
		}
		for _, r := range sink.byRow() {
			if r.Status.Done() {
				t.Errorf("row %d is %s: a resume would not send it", r.Row, r.Status)
			}
		}
	})
	t.Run("within the cap", func(t *testing.T) {
		rows := mkRows(2, func(i int) string { return fmt.Sprint(i) })
		s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
			if !validate && attempt == 1 {
				return Response{}, &Error{Kind: KindTransient, Code: "503", Message: "maintenance", Throttle: true, RetryAfter: 20 * time.Millisecond}
			}
			return ok(ps, validate, attempt)
		})
		var pauses atomic.Int32
		var asked atomic.Int64
		opts := fast(Options{Workers: 1, MaxRetryAfter: time.Minute, OnPause: func(p Pause) {
			pauses.Add(1)
			asked.Store(int64(p.Asked))
		}})
		sum, err := Run(context.Background(), opener(rows), s, &memSink{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if sum.ByStatus[StatusOK] != 2 || pauses.Load() == 0 || time.Duration(asked.Load()) != 20*time.Millisecond {
			t.Errorf("ok %d, pauses told %d (asked %v), want 2 ok and the 20ms pause told", sum.ByStatus[StatusOK], pauses.Load(), time.Duration(asked.Load()))
		}
	})
}
