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
	"sync"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	hooks := &exitHooks{}
	sigs := make(chan os.Signal, 2)
	// SIGHUP too: a closed terminal or ssh session ends the run like
	// Ctrl-C, with the report written, instead of killing it mid-write.
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\nensbulk: %s: finishing requests in flight and writing the report (again to quit at once)\n", s)
		cancel(fmt.Errorf("signal %s", s))
		s = <-sigs
		fmt.Fprintf(os.Stderr, "ensbulk: %s again: exiting now; the report holds every row acknowledged so far (--resume continues)\n", s)
		hooks.run()
		os.Exit(exitCodeOf(errInterrupted))
	}()
	env := &Env{
		AtExit: hooks.add,
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
	// AtExit registers what must be done before the process exits without
	// returning from run (a second signal); the returned func unregisters
	// it. nil: nothing exits that way (tests calling run).
	AtExit func(func()) func()
}

// atExit registers fn with env.AtExit, if any.
func (env *Env) atExit(fn func()) func() {
	if env.AtExit == nil {
		return func() {}
	}
	return env.AtExit(fn)
}

// exitHooks are the AtExit functions of a process.
type exitHooks struct {
	mu   sync.Mutex
	next int
	fns  map[int]func()
}

func (h *exitHooks) add(fn func()) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fns == nil {
		h.fns = map[int]func(){}
	}
	id := h.next
	h.next++
	h.fns[id] = fn
	return func() {
		h.mu.Lock()
		delete(h.fns, id)
		h.mu.Unlock()
	}
}

// run runs the registered functions, each at most once.
func (h *exitHooks) run() {
	h.mu.Lock()
	fns := h.fns
	h.fns = nil
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// sequence is one func that calls fns in order.
func sequence(fns ...func()) func() {
	return func() {
		for _, fn := range fns {
			fn()
		}
	}
}
