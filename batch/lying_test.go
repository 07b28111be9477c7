package batch

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// liar answers every get with the values of another mailbox or customer
// than the one asked, as a misrouted or hostile server might.
type liar struct{ mailbox, customer string }

func (l liar) Read(_ context.Context, mailbox, _ string) (Values, error) {
	v := Values{"mailbox": {Text: mailbox}, "description": {Text: "someone else's"}}
	if l.mailbox != "" {
		v["mailbox"] = Value{Text: l.mailbox}
	}
	if l.customer != "" {
		v["customer"] = Value{Text: l.customer}
	}
	return v, nil
}

// undoRecorder keeps the undo entries a run records.
type undoRecorder struct {
	mu      sync.Mutex
	entries []UndoEntry
}

func (u *undoRecorder) Record(e UndoEntry) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.entries = append(u.entries, e)
	return nil
}

func (u *undoRecorder) Withdraw(*Row) error { return nil }

// A read that answers for another mailbox or customer than the row's is
// never taken for the row's values: the row fails, no update is sent and
// no undo entry records the other mailbox's values as previous ones.
func TestReadAnsweringForAnotherMailboxFailsTheRow(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    liar
		want string
	}{
		{"another mailbox", liar{mailbox: "9999"}, `answered for mailbox "9999"`},
		{"another customer", liar{customer: "7"}, `answered for customer "7"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := mkRows(3, func(i int) string { return []string{"1001", "1002", "1003"}[i] })
			for i := range rows {
				rows[i].Customer = "100"
				rows[i].Params = append(rows[i].Params[:1], append([]Param{{Name: "customer", Value: "100"}}, rows[i].Params[1:]...)...)
			}
			s := newScripted(ok)
			u := &undoRecorder{}
			sink := &memSink{}
			if _, err := Run(context.Background(), opener(rows), s, sink, fast(Options{Getter: tc.l, Undo: u})); err != nil {
				t.Fatal(err)
			}
			for _, r := range sink.byRow() {
				if r.Status != StatusFailed || !strings.Contains(r.Message, tc.want) {
					t.Errorf("row %d: %s %q, want failed saying %s", r.Row, r.Status, r.Message, tc.want)
				}
			}
			if len(s.applied) != 0 || len(u.entries) != 0 {
				t.Errorf("sent %v and recorded %d undo entries, want none", s.applied, len(u.entries))
			}
		})
	}
}
