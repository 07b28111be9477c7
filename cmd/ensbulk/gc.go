package main

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
// tuneGC keeps the goal at least gcHeapFloor: after each collection it
// sets GOGC so that live + live×GOGC/100 reaches the floor, between 100
// (a heap past the floor is paced as by default, so a large one never
// grows more than twice its live size) and gcMaxPercent. A fixed GOGC=400
// would let a large heap grow five times; a memory limit would make the
// collector run back to back once the live heap passed it. An operator's
// GOGC or GOMEMLIMIT is left alone.
const (
	gcHeapFloor = 32 << 20
	// gcMaxPercent is the floor over the runtime's 4 MiB minimum heap:
	// the runtime scales that minimum by GOGC/100 too, so a larger
	// percent would put the goal of an empty heap past the floor
	// (GOGC=1600: 64 MiB, and `validate --offline` of a million rows
	// peaked at 74 MiB resident).
	gcMaxPercent = 100 * gcHeapFloor / (4 << 20)
)

// tuneGC starts the pacing above for the life of the process, unless the
// environment sets the collector's own knobs.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	t := &gcTuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.adjust()
	t.arm()
}

// gcTuner sets GOGC after each collection. Only the finalizer goroutine
// uses it once armed.
type gcTuner struct {
	sample []metrics.Sample
	last   int
}

// gcSentinel is garbage whose finalizer runs after the collection that
// found it: the tuner's hook into each cycle. It holds a pointer, so it is
// never a tiny allocation (whose finalizers may never run).
type gcSentinel struct{ t *gcTuner }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t: t}, func(s *gcSentinel) {
		s.t.adjust()
		s.t.arm()
	})
}

func (t *gcTuner) adjust() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if p := gcPercentFor(t.sample[0].Value.Uint64()); p != t.last {
		debug.SetGCPercent(p)
		t.last = p
	}
}

// gcPercentFor is the GOGC that puts the heap goal of a live heap at
// gcHeapFloor, within [100, gcMaxPercent].
func gcPercentFor(live uint64) int {
	switch {
	case live >= gcHeapFloor/2:
		return 100
	case live == 0:
		return gcMaxPercent
	}
	return min(gcMaxPercent, int(100*(gcHeapFloor-live)/live))
}
