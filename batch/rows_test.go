package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
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

// filterSource is a Filter that records what it was asked to pass over.
type filterSource struct {
	sliceSource
	want   func(int) bool
	passed int
}

func (f *filterSource) Only(want func(int) bool) { f.want = want }
func (f *filterSource) Passed() int              { return f.passed }
func (f *filterSource) Next() (Row, error) {
	for {
		r, err := f.sliceSource.Next()
		if err != nil || f.want == nil || f.want(r.Num) {
			return r, err
		}
		f.passed++
	}
}

// Wanted yields the same rows and count from a Filter (which passes rows
// over itself) and from a plain Source (whose rows it drops).
func TestWanted(t *testing.T) {
	rows := mkRows(10, func(i int) string { return fmt.Sprint(i) })
	even := func(n int) bool { return n%2 == 0 }
	for _, src := range []Source{&sliceSource{rows: rows}, &filterSource{sliceSource: sliceSource{rows: rows}}} {
		t.Run(fmt.Sprintf("%T", src), func(t *testing.T) {
			seq, passed := Wanted(src, even)
			var got []int
			for r, err := range seq {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r.Num)
			}
			if want := []int{2, 4, 6, 8, 10}; !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
			if passed() != 5 {
				t.Errorf("passed %d, want 5", passed())
			}
		})
	}
}
