// Command ensbulk applies bulk changes to Enswitch voicemail mailboxes:
// every row is validated by the server, the valid rows are applied through
// a rate-limited worker pool, and a per-row report is written.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
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
		os.Exit(exitCodeOf(errInterrupted))
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
