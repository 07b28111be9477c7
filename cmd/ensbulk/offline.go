package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/ensbulk/ensbulk/reader"
)

// runOffline is validate --offline: local checks only, nothing sent. Row
// errors and the per-column table go to stdout (they are the data asked
// for); exit 1 when a row is invalid.
func runOffline(env *Env, in *input) error {
	in.opts.NoHash = true // no report: the rows' digests would go unread
	src, c, err := in.opener()()
	if err != nil {
		var fe *reader.FileError
		if errors.As(err, &fe) {
			return &exitError{code: exitUsage, err: err}
		}
		return err
	}
	defer c.Close()
	// The reader's own tally also counts what rows cannot carry (pins
	// given empty, so kept; columns only ever kept).
	t := reader.NewTally()
	if rr, ok := src.(*reader.Reader); ok {
		t = rr.Tally()
	}
	invalid, rows := 0, 0
	for {
		r, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		rows++
		if _, ok := src.(*reader.Reader); !ok {
			t.Add(r)
		}
		if r.Err != nil {
			invalid++
			if invalid <= 200 {
				fmt.Fprintln(env.Stdout, r.Err.Error())
			}
		}
	}
	if invalid > 200 {
		fmt.Fprintf(env.Stdout, "... and %d more invalid rows\n", invalid-200)
	}
	if err := t.WriteTable(env.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: local checks only; the server was not asked (ensbulk validate %s asks it)\n", in.name, in.path)
	if invalid > 0 {
		return errRows
	}
	return nil
}
