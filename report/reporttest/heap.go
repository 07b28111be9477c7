// Package reporttest holds what the tests of package report and of the
// packages built on it share: a watch on the live heap, for the
// benchmarks that show a step's memory stays flat in rows.
package reporttest

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// WatchHeap samples the live heap every millisecond until stop is called
// and raises *peak to the most it grew above what it was at the start (a
// GC first): what a step holds at once, not what it allocates in all.
func WatchHeap(peak *uint64) (stop func()) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > base && v-base > *peak {
				*peak = v - base
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
