// Package demo is ensbulk's demo: it starts a simulated Enswitch server on
// 127.0.0.1, plans, runs and undoes the sample changes against it through
// the commands an operator would type, and checks the simulator's
// mailboxes against the report after each step.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/samples"
	"github.com/ensbulk/ensbulk/simulator"
)

// The demo admin of the simulator's world.
const (
	user     = "admin"
	password = "admin-demo-pass"
)

// Options are the demo's settings.
type Options struct {
	// JSONL runs the JSONL twin of the sample.
	JSONL bool
	// Dir holds the sample and its report; "" is a new temporary
	// directory.
	Dir string
	// Args are given to every command the demo runs (the engine's pace).
	Args []string
}

// Command runs one of ensbulk's commands with args, against the server
// getenv names (ENSWITCH_URL, ENSWITCH_USER, ENSWITCH_PASSWORD).
type Command func(ctx context.Context, getenv func(string) string, args []string) error

// Env is what the demo touches outside itself. The commands are the
// binary's own, passed in by it: the demo is an ordinary run, with the
// same flags and the same report.
type Env struct {
	Stdout io.Writer
	Plan   Command
	Run    Command
}

// files are the paths of one demo.
type files struct {
	name, input, report, undo string
}

// Run is the demo: plan, run, the rows that did not go through, a check
// of the simulator against the report, the undo and a check that it took
// everything back.
func Run(ctx context.Context, env *Env, o *Options) error {
	f, err := prepare(o)
	if err != nil {
		return err
	}
	sim, url, stop, err := serve()
	if err != nil {
		return err
	}
	defer stop()
	out := env.Stdout
	fmt.Fprintf(out, "ensbulk demo: a simulated Enswitch server is listening on %s\n", url)
	fmt.Fprintf(out, "input: %s (the sample shipped with ensbulk; edit it and run it yourself with 'ensbulk run')\n", f.input)
	fmt.Fprintf(out, "6 of its 58 rows are wrong on purpose, so the run below reports them and ends with exit 1.\n\n")

	getenv := func(k string) string {
		switch k {
		case "ENSWITCH_URL":
			return url
		case "ENSWITCH_USER":
			return user
		case "ENSWITCH_PASSWORD":
			return password
		}
		return ""
	}
	args := func(path string) []string {
		return append(append([]string{path}, o.Args...), "--log-level", "error")
	}
	before := sim.State()
	fmt.Fprintf(out, "1. ensbulk plan %s: what the file would change, old -> new; nothing is sent\n", f.name)
	if err := env.Plan(ctx, getenv, args(f.input)); err != nil && !errors.Is(err, job.Rows) {
		return err
	}
	fmt.Fprintf(out, "\n2. ensbulk run %s: read each mailbox, write its old values to the undo file, then update\n", f.name)
	if err := env.Run(ctx, getenv, args(f.input)); err != nil && !errors.Is(err, job.Rows) {
		return err
	}
	if err := checkRun(out, f, sim); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n3. ensbulk run %s: take it all back\n", filepath.Base(f.undo))
	if err := env.Run(ctx, getenv, args(f.undo)); err != nil {
		return err
	}
	return checkUndo(out, f, before, sim.State())
}

// prepare writes the sample into the demo's directory and removes the
// files an earlier demo there left, so that this one starts afresh.
func prepare(o *Options) (*files, error) {
	name := "changes.csv"
	if o.JSONL {
		name = "changes.jsonl"
	}
	data, err := samples.FS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ensbulk-demo-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f := &files{name: name, input: filepath.Join(dir, name)}
	if err := os.WriteFile(f.input, data, 0o644); err != nil {
		return nil, err
	}
	f.report = report.DefaultPath(f.input, report.CSV)
	f.undo = undo.PathFor(f.report)
	planReport := job.PlanPath(f.input, report.CSV)
	undoReport := strings.TrimSuffix(f.undo, undo.Ext) + ".undone.csv"
	for _, p := range []string{f.report, report.MetaPath(f.report), planReport, report.MetaPath(planReport),
		f.undo, undo.JournalPath(f.undo), undoReport, report.MetaPath(undoReport)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return f, nil
}

// serve starts the simulator on a port of 127.0.0.1; stop ends both.
func serve() (sim *simulator.Server, url string, stop func(), err error) {
	sim, err = simulator.New(simulator.Config{Seed: 1})
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sim.Close()
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop = func() {
		srv.Close()
		sim.Close()
	}
	return sim, "http://" + ln.Addr().String(), stop, nil
}

// checkUndo compares the simulator after the undo with before the run.
// The demo server masks PINs in get, as servers commonly do: PIN changes
// cannot be undone, everything else must be as before.
func checkUndo(out io.Writer, f *files, before, after *simulator.State) error {
	differ := 0
	for i, m := range before.Mailboxes {
		for k, v := range m {
			if !schema.IsSecret(k) && after.Mailboxes[i][k] != v {
				differ++
			}
		}
	}
	fmt.Fprintf(out, "\nchecked against the simulator after the undo: %d fields differ from before the run (PINs aside: the server masks them)\n", differ)
	fmt.Fprintf(out, "next: ensbulk summary %s\n", f.report)
	if differ > 0 {
		return fmt.Errorf("demo: the undo left %d fields different from before the run", differ)
	}
	return nil
}
