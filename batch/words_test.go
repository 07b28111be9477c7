package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The phrases that name an option of the run come from Options.Words;
// without them the engine names no flag.
func TestWordsOfAllOrNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		words Words
		want  string
	}{
		{"default", Words{}, "not applied: all or nothing and 1 row(s) did not pass validation"},
		{"the command's", Words{AllOrNothing: func(n int) string { return fmt.Sprintf("-a with %d", n) }}, "-a with 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := mkRows(3, func(i int) string { return fmt.Sprint(i) })
			s := newScripted(func(ps []Param, validate bool, attempt int) (Response, error) {
				if value(ps, "mailbox") == "2" {
					return Response{}, &Error{Kind: KindInvalid, Code: "400", Key: "timezone"}
				}
				return ok(ps, validate, attempt)
			})
			sink := &memSink{}
			if _, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Workers: 1, AllOrNothing: true, Words: tc.words})); err != nil {
				t.Fatal(err)
			}
			if got := sink.byRow()[1].Message; got != tc.want {
				t.Errorf("skipped row's message = %q, want %q", got, tc.want)
			}
		})
	}
}

// A run stopped by MaxRows says so in the command's words, in its stop
// and in the rows it did not send, and carries the limit typed.
func TestWordsOfRowLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		words  Words
		reason string
	}{
		{"default", Words{}, "row limit of 2 reached"},
		{"the command's", Words{RowLimit: func(n int) string { return fmt.Sprintf("-n %d", n) }}, "-n 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := mkRows(5, func(i int) string { return fmt.Sprint(i) })
			sink := &memSink{}
			_, err := Run(context.Background(), opener(rows), newScripted(ok), sink, fast(Options{Workers: 1, MaxRows: 2, Words: tc.words}))
			var se *StopError
			var rl *RowLimitError
			if !errors.As(err, &se) || se.Kind != StopBudget || !errors.As(err, &rl) || rl.Rows != 2 {
				t.Fatalf("err = %#v, want a budget stop with a *RowLimitError of 2 rows", err)
			}
			if se.Reason != tc.reason {
				t.Errorf("reason = %q, want %q", se.Reason, tc.reason)
			}
			if got, want := sink.byRow()[5].Message, "not sent: "+tc.reason; got != want {
				t.Errorf("skipped row's message = %q, want %q", got, want)
			}
		})
	}
}

// A conditional row forced over a change says so in the command's words;
// so does a plan of it.
func TestWordsOfForce(t *testing.T) {
	cmd := Words{Forced: "-f'd", ForceHint: "-f would"}
	for _, tc := range []struct {
		name  string
		words Words
		plan  bool
		want  string
	}{
		{"run, default", Words{}, false, `overwritten, changed since: description expected "old", now "edited" (`},
		{"run, the command's", cmd, false, `-f'd, changed since: description expected "old", now "edited" (`},
		{"plan, default", Words{}, true, `left alone, changed since: description expected "old", now "edited" (a forced run would overwrite them)`},
		{"plan, the command's", cmd, true, `left alone, changed since: description expected "old", now "edited" (-f would)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(map[string]Values{"/1": {"mailbox": {Text: "1"}, "description": {Text: "edited"}}})
			rows := []Row{{Num: 1, Line: 2, Mailbox: "1",
				Params: []Param{{Name: "mailbox", Value: "1"}, {Name: "description", Value: "new"}},
				Expect: []Param{{Name: "description", Value: "old"}}}}
			sink := &memSink{}
			opts := Options{Workers: 1, Getter: w, Force: true, PlanOnly: tc.plan, Words: tc.words}
			if _, err := Run(context.Background(), opener(rows), w, sink, fast(opts)); err != nil {
				t.Fatal(err)
			}
			r := sink.byRow()[1]
			if !strings.HasPrefix(r.Message, tc.want) {
				t.Errorf("message = %q, want it to start %q", r.Message, tc.want)
			}
			if want := map[bool]Status{false: StatusOK, true: StatusConflict}[tc.plan]; r.Status != want {
				t.Errorf("status = %s, want %s", r.Status, want)
			}
		})
	}
}
