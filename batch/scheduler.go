package batch

import (
	"context"
	"sync"
)

// scheduler hands rows to workers so that rows of one mailbox go in file
// order and never at the same time: a row whose mailbox is busy waits in
// that mailbox's queue until the writer has made the earlier row's result
// durable (release), so a crash never leaves a later row applied and an
// earlier one unrecorded.
//
// Ready rows travel on a channel and the pending bound is a semaphore, not
// a sync.Cond: a Cond's Broadcast would wake every idle worker (and the
// dispatcher) for each row added or released, and with 64 workers that
// herd cost more CPU than the engine's real work. Both channels hold
// at most limit items, and a row is ready only while it is pending, so
// neither add nor release ever blocks on ready.
type scheduler struct {
	ready chan *Row     // rows to send, in the order they became ready
	slots chan struct{} // one token per pending row: memory stays flat

	mu      sync.Mutex
	waiting map[string][]*Row // busy mailbox -> rows queued behind it
	pending int               // rows added and not yet released
	closed  bool              // no more rows will be added
	done    bool              // ready is closed
}

func newScheduler(limit int) *scheduler {
	return &scheduler{
		ready:   make(chan *Row, limit),
		slots:   make(chan struct{}, limit),
		waiting: map[string][]*Row{},
	}
}

// add queues a row; it blocks while too many rows are pending (memory
// stays flat). False when ctx stopped the run.
func (s *scheduler) add(ctx context.Context, r *Row) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending++
	k := r.Key()
	if q, busy := s.waiting[k]; busy {
		s.waiting[k] = append(q, r)
		return true
	}
	s.waiting[k] = nil
	s.ready <- r
	return true
}

// take returns the next row to send, nil when there are none left or the
// run stopped.
func (s *scheduler) take(ctx context.Context) *Row {
	if ctx.Err() != nil {
		return nil
	}
	select {
	case r, ok := <-s.ready:
		if !ok || ctx.Err() != nil {
			return nil // stopped: a row taken now is left for the sweep
		}
		return r
	case <-ctx.Done():
		return nil
	}
}

// release ends a row: the next row of its mailbox, if any, becomes ready.
func (s *scheduler) release(r *Row) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	<-s.slots
	k := r.Key()
	if q := s.waiting[k]; len(q) > 0 {
		s.ready <- q[0]
		if len(q) == 1 {
			s.waiting[k] = nil
		} else {
			s.waiting[k] = q[1:]
		}
	} else {
		delete(s.waiting, k)
	}
	s.finish()
}

// close says no more rows will be added.
func (s *scheduler) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.finish()
}

// finish lets the workers go once the last row is released (mu held).
func (s *scheduler) finish() {
	if s.closed && s.pending == 0 && !s.done {
		s.done = true
		close(s.ready)
	}
}
