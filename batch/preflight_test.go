package batch

import (
	"context"
	"errors"
	"io"
	"testing"
)

// The preflight runs once, after the whole input was read and before any
// row is sent, with the first row to send; its error ends the run with
// nothing sent and no summary.
func TestPreflight(t *testing.T) {
	rows := mkRows(5, func(i int) string { return []string{"1001", "1002", "1003", "1004", "1005"}[i] })
	rows[0].Err = &RowError{Message: "bad pin"} // never sent: not the first to send
	rows[1].Customer = "7"
	wrong := errors.New("wrong URL")
	tests := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"passes", nil, 2 * 4},
		{"fails", wrong, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newScripted(ok)
			var got []Row
			var paced int
			opts := fast(Options{Workers: 4, Preflight: func(ctx context.Context, first Row, pace func(context.Context) error) error {
				if err := pace(ctx); err != nil {
					return err
				}
				paced++
				if s.calls != 0 {
					t.Errorf("%d requests sent before the preflight", s.calls)
				}
				got = append(got, first)
				return tc.err
			}})
			sum, err := Run(context.Background(), opener(rows), s, &memSink{}, opts)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.err != nil && sum != nil {
				t.Errorf("summary %+v after a failed preflight, want none", sum)
			}
			if len(got) != 1 || paced != 1 || got[0].Num != 2 || got[0].Mailbox != "1002" || got[0].Customer != "7" {
				t.Errorf("preflight called with %+v (%d paced), want once with row 2, mailbox 1002, customer 7", got, paced)
			}
			if s.calls != tc.wantCalls {
				t.Errorf("%d requests, want %d", s.calls, tc.wantCalls)
			}
		})
	}
}

// No preflight for a file-level error, nor when no row will be sent.
func TestPreflightNotCalled(t *testing.T) {
	called := 0
	pf := func(context.Context, Row, func(context.Context) error) error { called++; return nil }
	boom := errors.New("bare CR")
	open := func() (Source, io.Closer, error) { return &errSource{n: 3, err: boom}, io.NopCloser(nil), nil }
	if _, err := Run(context.Background(), open, newScripted(ok), &memSink{}, Options{Preflight: pf}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	rows := mkRows(3, func(i int) string { return "1001" })
	if _, err := Run(context.Background(), opener(rows), newScripted(ok), &memSink{}, Options{Preflight: pf, Todo: func(int) bool { return false }}); err != nil {
		t.Fatal(err)
	}
	if called != 0 {
		t.Errorf("preflight called %d times, want 0", called)
	}
}
