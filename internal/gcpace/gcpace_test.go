package gcpace

import (
	"runtime/debug"
	"testing"
)

func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		live uint64
		want int
	}{
		{"nothing live yet", 0, maxPercent},
		{"a tiny heap is capped", 1 << 20, maxPercent},
		{"4 MiB reaches the floor", 4 << 20, 700},
		{"8 MiB reaches the floor", 8 << 20, 300},
		{"half the floor", heapFloor / 2, 100},
		{"a large heap is paced as by default", 1 << 30, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentFor(tc.live); got != tc.want {
				t.Errorf("percentFor(%d) = %d, want %d", tc.live, got, tc.want)
			}
			if got := percentFor(tc.live); tc.live > 0 && tc.live+tc.live*uint64(got)/100 < min(heapFloor, tc.live*2) {
				t.Errorf("goal %d for live %d is under the floor", tc.live+tc.live*uint64(got)/100, tc.live)
			}
		})
	}
}

func TestStartLeavesTheOperatorsSetting(t *testing.T) {
	prev := debug.SetGCPercent(123)
	defer debug.SetGCPercent(prev)
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		Start(func(k string) string {
			if k == name {
				return "200"
			}
			return ""
		})
		if got := debug.SetGCPercent(123); got != 123 {
			t.Errorf("with %s set, GOGC became %d, want it left at 123", name, got)
		}
	}
}

// The runtime's minimum heap goal (4 MiB) grows with GOGC too: the largest
// percent the tuner sets must not lift an empty heap's goal past the
// floor, or a run of a million rows that holds almost nothing live grows
// its resident size to the goal of GOGC×4 MiB.
func TestGCMaxPercentKeepsMinimumHeapAtFloor(t *testing.T) {
	const runtimeMinHeap = 4 << 20
	if got := runtimeMinHeap * maxPercent / 100; got > heapFloor {
		t.Errorf("an empty heap's goal at GOGC=%d is %d MiB, past the %d MiB floor", maxPercent, got>>20, heapFloor>>20)
	}
}
