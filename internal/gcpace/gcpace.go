// Package gcpace paces the garbage collector for a bulk run: a small,
// flat live heap and a steady stream of short-lived allocations.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The collector's pace for a bulk run. A run's live heap is small and
// flat in rows (a few MiB: the rows in flight, the connection buffers),
// while every request allocates (the request, its answer, the report's
// record). With the default GOGC=100 the heap goal is twice that small
// live heap, so the collector runs every few MiB of allocation, hundreds
// of times a second at full speed, for ~15% of the process's CPU.
//
// Start keeps the goal at least heapFloor: after each collection it
// sets GOGC so that live + live×GOGC/100 reaches the floor, between 100
// (a heap past the floor is paced as by default, so a large one never
// grows more than twice its live size) and maxPercent. A fixed GOGC=400
// would let a large heap grow five times; a memory limit would make the
// collector run back to back once the live heap passed it. An operator's
// GOGC or GOMEMLIMIT is left alone.
const (
	heapFloor = 32 << 20
	// maxPercent is the floor over the runtime's 4 MiB minimum heap:
	// the runtime scales that minimum by GOGC/100 too, so a larger
	// percent would put the goal of an empty heap past the floor
	// (GOGC=1600: 64 MiB, and `validate --offline` of a million rows
	// peaked at 74 MiB resident).
	maxPercent = 100 * heapFloor / (4 << 20)
)

// Start starts the pacing above for the life of the process, unless the
// environment (getenv, os.Getenv outside tests) sets the collector's own
// knobs. Call it once, first thing in main.
func Start(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	t := &tuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.adjust()
	t.arm()
}

// tuner sets GOGC after each collection. Only the finalizer goroutine
// uses it once armed.
type tuner struct {
	sample []metrics.Sample
	last   int
}

// sentinel is garbage whose finalizer runs after the collection that
// found it: the tuner's hook into each cycle. It holds a pointer, so it is
// never a tiny allocation (whose finalizers may never run).
type sentinel struct{ t *tuner }

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{t: t}, func(s *sentinel) {
		s.t.adjust()
		s.t.arm()
	})
}

func (t *tuner) adjust() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if p := percentFor(t.sample[0].Value.Uint64()); p != t.last {
		debug.SetGCPercent(p)
		t.last = p
	}
}

// percentFor is the GOGC that puts the heap goal of a live heap at
// heapFloor, within [100, maxPercent].
func percentFor(live uint64) int {
	switch {
	case live >= heapFloor/2:
		return 100
	case live == 0:
		return maxPercent
	}
	return min(maxPercent, int(100*(heapFloor-live)/live))
}
