package batch

import (
	"context"
	"io"
	"iter"
	"time"
)

// Rows walks src in file order: every row, then at most one error. io.EOF
// ends the walk without an error; any other error is yielded once and ends
// it.
//
//	for row, err := range batch.Rows(src) {
//		if err != nil { ... }
//	}
func Rows(src Source) iter.Seq2[Row, error] {
	return Seq(src.Next)
}

// Seq turns a Next-style reader (a value, then io.EOF) into an iterator:
// every value, then at most one error that is not io.EOF.
func Seq[T any](next func() (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err := next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Sleep waits for d or until ctx is done, whichever comes first; it
// returns ctx's error when ctx ended the wait. The one cancellable sleep of
// the project: backoff, pauses and windows all wait through it.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
