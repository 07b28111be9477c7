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
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/internal/gcpace"
)

func main() {
	gcpace.Start(os.Getenv)
	ctx, cancel := context.WithCancelCause(context.Background())
	stdin := int(os.Stdin.Fd())
	restoreTerminal := saveTerminal(stdin)
	hooks := &exitHooks{}
	sigs := make(chan os.Signal, 2)
	// SIGHUP too: a closed terminal or ssh session ends the run like
	// Ctrl-C, with the report written, instead of killing it mid-write.
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	// Off a terminal (cron mail, a log file, the journal) every line on
	// stderr starts with the time: see console.Stamper.
	errTerminal := term.IsTerminal(int(os.Stderr.Fd()))
	var stderr io.Writer = os.Stderr
	if !errTerminal {
		stderr = console.NewStamper(os.Stderr, time.Now)
	}
	go func() {
		s := <-sigs
		fmt.Fprintf(stderr, "\nensbulk: %s: finishing requests in flight and writing the report (again to quit at once)\n", s)
		cancel(fmt.Errorf("signal %s", s))
		s = <-sigs
		fmt.Fprintf(stderr, "ensbulk: %s again: exiting now; the report holds every row acknowledged so far (--resume continues)\n", s)
		restoreTerminal()
		hooks.run()
		os.Exit(exitCodeOf(errInterrupted))
	}()
	env := &Env{
		AtExit: hooks.add,
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: stderr,
		Getenv: os.Getenv,
		StdinTerminal: func() bool {
			return term.IsTerminal(stdin)
		},
		StderrTerminal: errTerminal,
		StderrStamped:  !errTerminal,
		ReadPassword: func() ([]byte, error) {
			return readPassword(ctx, func() ([]byte, error) { return term.ReadPassword(stdin) })
		},
		UserConfigDir: os.UserConfigDir,
	}
	err := run(ctx, os.Args[1:], env)
	code := exitCode(err, env.Stderr)
	restoreTerminal()
	os.Exit(code)
}

// Env is everything run touches outside itself, so tests can drive it.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	StdinTerminal  func() bool
	StderrTerminal bool
	// StderrStamped: Stderr starts every line with the time itself
	// (console.Stamper, main off a terminal), so the logger does not.
	StderrStamped bool
	// ReadPassword reads a line from the terminal without echo; it
	// returns at once, with an interrupted error, when the run is
	// interrupted.
	ReadPassword func() ([]byte, error)
	// UserConfigDir is os.UserConfigDir, where the profiles' config file
	// lives by default; nil means there is none (tests never read the
	// real home).
	UserConfigDir func() (string, error)
	// AtExit registers what must be done before the process exits without
	// returning from run (a second signal); the returned func unregisters
	// it. nil: nothing exits that way (tests calling run).
	AtExit func(func()) func()
}

// userConfigDir is env.UserConfigDir, or an error when there is none.
func (e *Env) userConfigDir() (string, error) {
	if e.UserConfigDir == nil {
		return "", errors.New("no user config directory")
	}
	return e.UserConfigDir()
}

// saveTerminal records the terminal's state on fd and returns what puts it
// back. A prompt abandoned by Ctrl-C leaves echo off (term.ReadPassword
// restores it only when its read returns, and that read never returns), so
// main restores the state before every exit.
func saveTerminal(fd int) func() {
	if !term.IsTerminal(fd) {
		return func() {}
	}
	st, err := term.GetState(fd)
	if err != nil {
		return func() {}
	}
	return func() { _ = term.Restore(fd, st) }
}

// readPassword runs read (which blocks until a line is typed) and returns
// its answer, or an interrupted error as soon as ctx is done: Ctrl-C at
// the prompt ends the run before anything is sent. The read is left
// blocked; the process exits soon after.
func readPassword(ctx context.Context, read func() ([]byte, error)) ([]byte, error) {
	type answer struct {
		b   []byte
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		b, err := read()
		ch <- answer{b, err}
	}()
	select {
	case a := <-ch:
		return a.b, a.err
	case <-ctx.Done():
		return nil, withKind(errInterrupted, fmt.Errorf("interrupted at the password prompt: nothing was sent"))
	}
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
