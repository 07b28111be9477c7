// Command ensbulk applies bulk changes to Enswitch voicemail mailboxes:
// every row is validated by the server, the valid rows are applied through
// a rate-limited worker pool, and a per-row report is written.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report/resume"
	"golang.org/x/term"
)

// Exit codes (README and SPEC §5).
const (
	exitOK       = 0 // every row ok (or valid)
	exitRows     = 1 // some rows invalid, failed, error or skipped
	exitUsage    = 2 // usage or input error: nothing sent
	exitAborted  = 3 // 401, repeated 402/403, circuit open, interrupted
	exitLocked   = 4 // another run holds the report's lock
	exitStopped  = 5 // stopped by a budget or window: resumable with --resume
	exitInternal = 6 // the report could not be written, or another fault of ours
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\nensbulk: %s: finishing requests in flight and writing the report (again to quit at once)\n", s)
		cancel(fmt.Errorf("signal %s", s))
		s = <-sigs
		fmt.Fprintf(os.Stderr, "ensbulk: %s again: exiting now; the report holds every row acknowledged so far (--resume continues)\n", s)
		os.Exit(exitAborted)
	}()
	env := &Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
		StdinTerminal: func() bool {
			return term.IsTerminal(int(os.Stdin.Fd()))
		},
		StderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		ReadPassword: func() ([]byte, error) {
			return term.ReadPassword(int(os.Stdin.Fd()))
		},
	}
	err := run(ctx, os.Args[1:], env)
	os.Exit(exitCode(err, env.Stderr))
}

// Env is everything run touches outside itself, so tests can drive it.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	StdinTerminal  func() bool
	StderrTerminal bool
	ReadPassword   func() ([]byte, error)
}

// exitError carries an exit code chosen where the error is made.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// errRows says the run finished with rows that are not ok; the summary
// has already told the operator which.
var errRows = errors.New("some rows were not applied")

// exitCode maps run's error to the process exit code, in one place.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var (
		ee *exitError
		se *batch.StopError
		fe *reader.FileError
		re *resume.RefusedError
	)
	code := exitInternal
	switch {
	case errors.Is(err, errRows):
		return exitRows // already summarised
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &se):
		code = exitAborted
		if se.Kind == batch.StopBudget {
			code = exitStopped
		}
	case errors.As(err, &fe), errors.As(err, &re):
		code = exitUsage
	}
	fmt.Fprintf(stderr, "ensbulk: %v\n", err)
	return code
}
