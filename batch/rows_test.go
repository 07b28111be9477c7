package batch

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

type rowList struct {
	rows []Row
	err  error // returned after the rows instead of io.EOF
	i    int
}

func (s *rowList) Next() (Row, error) {
	if s.i < len(s.rows) {
		s.i++
		return s.rows[s.i-1], nil
	}
	if s.err != nil {
		return Row{}, s.err
	}
	return Row{}, io.EOF
}

func TestRows(t *testing.T) {
	broken := errors.New("broken")
	tests := []struct {
		name     string
		src      *rowList
		wantRows int
		wantErr  error
	}{
		{"empty", &rowList{}, 0, nil},
		{"rows then EOF", &rowList{rows: []Row{{Num: 1}, {Num: 2}}}, 2, nil},
		{"rows then error", &rowList{rows: []Row{{Num: 1}}, err: broken}, 1, broken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, errs := 0, 0
			var got error
			for row, err := range Rows(tt.src) {
				if err != nil {
					got = err
					errs++
					continue
				}
				n++
				if row.Num != n {
					t.Errorf("row %d has Num %d", n, row.Num)
				}
			}
			if n != tt.wantRows || got != tt.wantErr || errs > 1 {
				t.Errorf("got %d rows, err %v (%d errors); want %d rows, err %v", n, got, errs, tt.wantRows, tt.wantErr)
			}
		})
	}
	t.Run("break stops reading", func(t *testing.T) {
		src := &rowList{rows: []Row{{Num: 1}, {Num: 2}, {Num: 3}}}
		for range Rows(src) {
			break
		}
		if src.i != 1 {
			t.Errorf("read %d rows after break, want 1", src.i)
		}
	})
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep to the end: %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep of a cancelled context: %v, want context.Canceled", err)
	}
	if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(0) of a cancelled context: %v, want context.Canceled", err)
	}
}
