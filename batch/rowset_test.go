package batch

import "testing"

func TestRowSet(t *testing.T) {
	var a RowSet
	for _, r := range []int{1, 63, 64, 200} {
		a.Set(r)
	}
	for _, tt := range []struct {
		row  int
		want bool
	}{{0, false}, {1, true}, {63, true}, {64, true}, {65, false}, {200, true}, {1 << 20, false}} {
		if got := a.Has(tt.row); got != tt.want {
			t.Errorf("Has(%d) = %v, want %v", tt.row, got, tt.want)
		}
	}
	var b RowSet
	b.Set(63)
	b.Set(200)
	b.Set(500)
	if n := a.And(b); n != 2 || !a.Has(63) || !a.Has(200) || a.Has(1) || a.Has(64) {
		t.Errorf("And kept %d rows (63: %v, 200: %v, 1: %v, 64: %v), want 63 and 200", n, a.Has(63), a.Has(200), a.Has(1), a.Has(64))
	}
}
