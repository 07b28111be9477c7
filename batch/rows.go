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

// Wanted walks the rows of src that want accepts (by row number), as Rows
// does; passed, called after the walk, counts the rows left out. A Filter
// leaves them unread; any other Source has them read and dropped.
func Wanted(src Source, want func(num int) bool) (rows iter.Seq2[Row, error], passed func() int) {
	if f, ok := src.(Filter); ok {
		f.Only(want)
		return Rows(f), f.Passed
	}
	n := 0
	return func(yield func(Row, error) bool) {
		for row, err := range Rows(src) {
			if err == nil && !want(row.Num) {
				n++
				continue
			}
			if !yield(row, err) {
				return
			}
		}
	}, func() int { return n }
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
