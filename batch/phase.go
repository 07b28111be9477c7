package batch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// item is what a worker hands the writer.
type item struct {
	row    *Row
	res    Result
	final  bool // res is the row's final result
	passed bool // validated ok (phase validate, run mode)
	record bool // res records the passed validation (see validated.go)
	local  bool // refused by local checks: never went through the scheduler
	// verified: the row was read back as sent after its update (stage.go)
	verified bool
}

// phases runs validation, then the apply phase unless the run is
// validate-only, stopped, or all-or-nothing with rows that failed.
func (e *engine) phases(ctx context.Context, open Opener) error {
	if err := e.phase(ctx, open, PhaseValidate); err != nil {
		return err
	}
	if e.opts.ValidateOnly || stopCause(ctx) != nil {
		return nil
	}
	if n := e.tally.notValid; e.opts.AllOrNothing && n > 0 {
		e.skipReason = e.opts.Words.AllOrNothing(n)
		return nil
	}
	return e.apply(ctx, open)
}

// phase runs one phase over the rows that need it: a dispatcher feeds the
// scheduler in file order, workers send, and the calling goroutine is the
// writer, the one owner of the sink and the progress. The writer makes
// each group of results durable (Flush) before it releases their rows;
// the workers do not wait for it.
func (e *engine) phase(ctx context.Context, open Opener, ph Phase) error {
	src, c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()

	total := e.applyTotal()
	if ph == PhaseValidate {
		total = e.todoCount - e.validCount - e.pre.decidedRows() // less those validated before or found unchanged by a list
	}
	// The results queue holds every row the scheduler can have out at
	// once, and the rows refused locally besides: a worker never waits
	// for the writer, so an fsync stalls only the mailboxes whose rows
	// wait for it (their next row is released after it), not the pool.
	// Results that arrive during an fsync make the next group.
	//
	// A row is out from when the dispatcher adds it until its group is
	// durable, so the rows out must cover the workers' rows and a whole
	// group commit besides, or the pool waits for the writer after all:
	// with 4 rows out a worker (a group of 5 ms is ~120 results at full
	// speed) the run measured 0.84 of the raw client, with 16, 0.91
	// (go run ./cmd/ensbulk-bench -only throughput). A group is at most
	// half of them, so the other half keeps the workers busy meanwhile.
	limit := e.opts.Workers * 16
	s := newScheduler(limit)
	results := make(chan item, limit+e.opts.Workers)
	var g errgroup.Group
	var wg sync.WaitGroup // every sender on results: dispatcher and workers
	var busy atomic.Int64 // rows the workers hold (see gather)

	wg.Add(1)
	g.Go(func() error {
		defer wg.Done()
		defer s.close()
		return e.dispatch(ctx, src, ph, s, results)
	})
	for range e.opts.Workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			for {
				row := s.take(ctx)
				if row == nil {
					return nil
				}
				busy.Add(1)
				it := e.process(ctx, row, ph)
				e.staged(it)
				busy.Add(-1) // before the send: the writer waits for no one
				results <- it
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	var writeErr error
	done := 0
	batch := make([]item, 0, limit/2)
	var flushed time.Time // when the last group was made durable
	for it := range results {
		batch = gather(results, append(batch[:0], it), flushed.Add(groupCommitDelay), &busy)
		if writeErr == nil {
			if err := e.write(batch); err != nil {
				// A result that cannot be recorded must not be followed
				// by more requests: stop dispatch before anything else
				// (the rows of this batch are released below, but
				// nothing is taken once the run is stopped).
				writeErr = &SinkError{Err: err}
				e.stop(&StopError{Kind: StopAborted, Reason: "report not written: " + err.Error(), Err: writeErr})
			}
		}
		flushed = time.Now()
		for _, it := range batch {
			if !it.local {
				s.release(it.row)
			}
			// A row a stop left unsent is not done: the sweep reports it
			// skipped, and the progress must agree with the summary.
			if it.final || it.passed {
				done++
			}
		}
		if e.opts.OnProgress != nil {
			e.opts.OnProgress(Progress{Phase: ph, Done: done, Total: total, Failures: e.tally.failures(),
				Requests: e.requests.Load(), Elapsed: e.opts.Now().Sub(e.start)})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return writeErr
}

// groupCommitDelay is the least time between two groups the writer makes
// durable. An fsync costs the process ~0.15 ms of CPU (and the disk ~1
// ms): at a steady, moderate rate, results arrive one at a time and would
// each pay one. A result that comes within this delay of the last group
// waits for it with those that follow, so a run fsyncs at most ~50 times
// a second whatever its rate (at --rate 1000, 5 ms gave 320 µs of CPU a
// request, 20 ms 308). It waits only while a worker holds a row whose
// result may join it: with none (the rows left wait for this group's
// release, as in a file of few mailboxes), the group goes at once. The
// workers never wait for it (see phase); a later row of the same mailbox
// does, at most this long.
const groupCommitDelay = 20 * time.Millisecond

// gather adds to batch the results that are waiting, and those that
// arrive before until while busy (rows held by workers) is not zero and
// batch has room.
func gather(results <-chan item, batch []item, until time.Time, busy *atomic.Int64) []item {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for len(batch) < cap(batch) {
		select {
		case more, ok := <-results:
			if !ok {
				return batch
			}
			batch = append(batch, more)
			continue
		default:
		}
		d := time.Until(until)
		if d <= 0 || busy.Load() == 0 {
			return batch
		}
		if t == nil {
			t = time.NewTimer(d)
		}
		select {
		case more, ok := <-results:
			if !ok {
				return batch
			}
			batch = append(batch, more)
		case <-t.C:
			return batch
		}
	}
	return batch
}

// dispatch reads the input again and hands the phase's rows to the
// scheduler in file order; rows refused by local checks go straight to
// the writer. The input must read as it did in pass 0.
func (e *engine) dispatch(ctx context.Context, src Source, ph Phase, s *scheduler, results chan<- item) error {
	// Only the rows of this phase are read, and read in full: after pass
	// 0 read them all, the input's private copy reads the same (a resume
	// redoing a thousand rows of a million parses a thousand here). The
	// validate phase wants this run's rows not validated by an earlier
	// run; the apply phase the rows that passed.
	want := func(n int) bool { return e.todo.Has(n) && !e.prevalid.Has(n) && !e.pre.has(n) }
	if ph == PhaseApply {
		want = func(n int) bool { return e.applyWanted(n) && !e.pre.has(n) }
	}
	rows, passed := Wanted(src, want)
	seen := 0
	for row, err := range rows {
		if err != nil {
			err = fmt.Errorf("input changed during the run: %w", err)
			e.abort(StopAborted, err.Error())
			return err
		}
		seen++
		if row.Err != nil { // validate phase only: the apply phase wants valid rows
			r := row
			o := outcome{status: StatusInvalid, phase: PhaseLocal, key: row.Err.Column, message: row.Err.Message}
			results <- item{row: &r, final: true, local: true, res: o.result(&r)}
			continue
		}
		if row.Settled != nil { // validate phase only: never valid
			r := row
			results <- row.Settled.item(&r)
			continue
		}
		if ctx.Err() != nil {
			return nil // the sweep reports what is left as skipped
		}
		r := row
		if !s.add(ctx, &r) {
			return nil
		}
	}
	if seen += passed(); seen != e.rows {
		err := fmt.Errorf("input changed during the run: %d rows now, %d before", seen, e.rows)
		e.abort(StopAborted, err.Error())
		return err
	}
	return nil
}

// write records a batch of items: final results to the sink, then one
// Flush for the batch (group commit), then bookkeeping. The Flush is made
// even for a batch of passed validations alone, which writes nothing: it
// is how a sink that can no longer write (its file removed) stops the
// run before the apply phase rather than at its first result.
func (e *engine) write(batch []item) error {
	for i, it := range batch {
		if it.passed {
			e.valid.Set(it.row.Num)
			e.validCount++
		}
		if it.record {
			batch[i].res.Time = e.opts.Now()
			if err := e.sink.Write(batch[i].res); err != nil {
				return err
			}
		}
		if !it.final {
			continue
		}
		batch[i].res.Time = e.opts.Now()
		if err := e.sink.Write(batch[i].res); err != nil {
			return err
		}
	}
	if err := e.sink.Flush(); err != nil {
		return err
	}
	for _, it := range batch {
		if !it.final {
			continue
		}
		e.final.Set(it.row.Num)
		e.finalCount++
		e.tally.count(it.res)
		if e.opts.OnResult != nil {
			e.opts.OnResult(it.res)
		}
	}
	return nil
}

// sweep writes a skipped result for every row of this run that has none.
func (e *engine) sweep(ctx context.Context, open Opener) error {
	if e.finalCount == e.todoCount {
		return nil
	}
	reason := e.skipReason
	if se := stopCause(ctx); se != nil {
		reason = "not sent: " + se.Reason
	}
	if reason == "" {
		reason = "not sent"
	}
	src, c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()
	out := e.direct()
	rows, _ := Wanted(src, func(n int) bool { return e.todo.Has(n) && !e.final.Has(n) })
	for row, err := range rows {
		if err != nil {
			return fmt.Errorf("input changed during the run: %w", err)
		}
		r := row
		o := outcome{status: StatusSkipped, phase: e.skippedPhase(&row), message: reason}
		if err := out.add(item{row: &r, final: true, res: o.result(&r)}); err != nil {
			return err
		}
	}
	return out.flush()
}

// directWriter writes, 256 at a time, the results of rows no worker
// handled (the sweep's skipped rows, the rows a list found unchanged),
// from the writer's goroutine.
type directWriter struct {
	e     *engine
	items []item
}

func (e *engine) direct() *directWriter { return &directWriter{e: e} }

func (w *directWriter) add(it item) error {
	w.items = append(w.items, it)
	if len(w.items) == 256 {
		return w.flush()
	}
	return nil
}

// flush writes what is held; a write that fails is a *SinkError.
func (w *directWriter) flush() error {
	if len(w.items) == 0 {
		return nil
	}
	if err := w.e.write(w.items); err != nil {
		return &SinkError{Err: err}
	}
	w.items = w.items[:0]
	return nil
}
