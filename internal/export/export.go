// Package export writes the mailboxes of customers as an input file of
// ensbulk's own format (CSV or JSONL), such that a plan of the unedited
// file against the same server finds every row unchanged. The command
// fills Options and an Env; failures carry package job's kinds, which the
// command maps to exit codes.
package export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/reader"
)

// Options are the settings of one export.
type Options struct {
	// Customers are the customers whose mailboxes are written, in order.
	Customers []string
	// Output is the file to write; "-" or "" is Env.Stdout.
	Output string
	// Format is the file's format, "csv" or "jsonl".
	Format string
	// Columns are the comma-separated fields to write besides mailbox and
	// customer; "" is every field but the secrets.
	Columns string
	// WithPIN also writes the PINs the server shows in plain; the file
	// is then created 0600.
	WithPIN bool
	// Timeout bounds the list of one customer; 0 is batch.DefaultTimeout.
	Timeout time.Duration
}

// Env is what an export touches outside itself, as the command hands it
// over.
type Env struct {
	Stdout, Stderr io.Writer
	// Style is what Stderr can show, for the logger.
	Style console.Style
	// Connect makes the connection once the logger exists; timeout is
	// that of one request (the command knows the flags that say where).
	Connect func(log *zap.Logger, timeout time.Duration) (*job.Conn, error)
}

// Run exports the mailboxes of o.Customers. The file is only written
// (renamed into place) when every list ended without error: a partial
// list is no export.
func Run(ctx context.Context, env *Env, o *Options) error {
	cols, err := check(o)
	if err != nil {
		return err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = batch.DefaultTimeout
	}
	// export has no -q, -v or --log-level: warnings and errors only.
	log := console.NewLogger(env.Stderr, env.Style, zapcore.WarnLevel)
	defer func() { _ = log.Sync() }()
	cn, err := env.Connect(log, timeout)
	if err != nil {
		return err
	}
	var w io.Writer = env.Stdout
	var out *output
	if o.Output != "-" && o.Output != "" {
		if out, err = createOutput(o.Output, o.WithPIN); err != nil {
			return err
		}
		defer out.abandon()
		w = out
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	x := &exporter{enc: newEncoder(bw, reader.Format(o.Format), cols), withPIN: o.WithPIN}
	if err := x.enc.header(); err != nil {
		return job.Mark(job.File, err)
	}
	for _, cust := range o.Customers {
		if err := x.customer(ctx, cn, cust, timeout, log); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return job.Mark(job.File, err)
	}
	if out != nil {
		if err := out.commit(); err != nil {
			return job.Mark(job.File, fmt.Errorf("--output %s: %w", o.Output, err))
		}
	}
	x.tell(env.Stderr, len(o.Customers))
	return nil
}

// check refuses options that cannot make an export, before anything is
// sent, and returns the header.
func check(o *Options) ([]string, error) {
	if len(o.Customers) == 0 {
		return nil, usageErr("export needs at least one --customer N")
	}
	for _, c := range o.Customers {
		if !schema.PlainInteger(c) {
			return nil, usageErr("--customer %q: want a customer number", c)
		}
	}
	return columns(o)
}

// usageErr is a usage or input error: nothing was sent.
func usageErr(format string, args ...any) error {
	return job.Mark(job.Usage, fmt.Errorf(format, args...))
}

// columns is the header: mailbox, customer, then the chosen fields in
// schema order.
func columns(o *Options) ([]string, error) {
	want := map[string]bool{}
	if o.Columns != "" {
		for _, c := range strings.Split(o.Columns, ",") {
			c = strings.TrimSpace(c)
			if _, ok := schema.Lookup(c); !ok || schema.IsReserved(c) {
				hint := ""
				if s := schema.Closest(c); s != "" {
					hint = fmt.Sprintf(" (did you mean %s?)", s)
				}
				return nil, usageErr("--columns: unknown field %q%s", c, hint)
			}
			if schema.IsSecret(c) && !o.WithPIN {
				return nil, usageErr("--columns: %s is exported only with --with-pin (the file is then mode 0600)", c)
			}
			want[c] = true
		}
	}
	cols := []string{"mailbox", "customer"}
	for _, f := range schema.Fields() {
		switch {
		case f.Name == "mailbox" || f.Name == "customer":
		case f.Secret:
			if o.WithPIN {
				cols = append(cols, f.Name)
			}
		case o.Columns == "" || want[f.Name]:
			cols = append(cols, f.Name)
		}
	}
	return cols, nil
}

// exporter writes the mailboxes and counts the values it had to leave
// out, which the end of the export tells.
type exporter struct {
	enc     *encoder
	withPIN bool
	// rows are the mailboxes written; masked the PINs the server did
	// not show in plain; cut the values the client had to alter;
	// inexact those that would not read back as themselves.
	rows, masked, cut, inexact int
}

// customer writes the mailboxes of cust. The list is streamed: each
// mailbox is written as it is decoded, so a customer of any size costs
// the memory of one. A failed list fails the export.
func (x *exporter) customer(ctx context.Context, cn *job.Conn, cust string, timeout time.Duration, log *zap.Logger) error {
	boxes := 0
	var encErr error
	rctx, cancel := context.WithTimeout(ctx, timeout)
	err := cn.Client.EachMailbox(rctx, cust, func(m enswitch.Mailbox) error {
		x.count(m)
		if err := x.enc.encode(m, cust); err != nil {
			encErr = err
			return err
		}
		x.rows++
		boxes++
		return nil
	})
	cancel()
	switch {
	case encErr != nil:
		return job.Mark(job.File, encErr)
	case errors.Is(err, enswitch.ErrTwoFactor):
		return job.TwoFactorError(cn.User, err, "no mailbox was exported")
	case err != nil:
		return job.Mark(job.Aborted, err) // it names the customer
	}
	log.Info("exported", zap.String("customer", cust), zap.Int("mailboxes", boxes))
	return nil
}

// count adds the values of m that the file leaves out (keeps) to the
// counts.
func (x *exporter) count(m enswitch.Mailbox) {
	if x.withPIN {
		for _, name := range schema.Secrets() {
			if v, present, _ := m.Value(name); !present || v != "" && !schema.Plain(name, v) {
				x.masked++
			}
		}
	}
	for _, c := range x.enc.cols {
		switch {
		case c != "customer" && altered(m, c):
			x.cut++
		case !x.enc.exact(m, c):
			x.inexact++
		}
	}
}

// tell says on w what was written and what was left out.
func (x *exporter) tell(w io.Writer, customers int) {
	fmt.Fprintf(w, "export: %d mailboxes of %d customer(s)\n", x.rows, customers)
	if x.cut > 0 {
		fmt.Fprintf(w, "export: %d value(s) the server sent were too long, held control characters or a secret; those cells are left empty (keep)\n", x.cut)
	}
	if x.inexact > 0 {
		fmt.Fprintf(w, "export: %d value(s) cannot be written so that they read back exactly (spaces around them, line breaks, the empty token %s as text); those cells are left empty (keep), so a plan of the file still finds them unchanged\n", x.inexact, reader.DefaultEmptyToken)
	}
	if x.masked > 0 {
		fmt.Fprintf(w, "export: the server does not show %d PIN(s) in plain; those cells are left empty (keep)\n", x.masked)
	}
}
