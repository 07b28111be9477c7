package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/enswitch/schema"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/reader"
)

// exportOptions are the settings of export; the connection and the
// request timeout are run's.
type exportOptions struct {
	connFlags
	timeout   time.Duration
	customers []string
	output    string
	columns   string
	withPIN   bool
	outFormat string
}

func newExportCmd(env *Env) *cobra.Command {
	o := &exportOptions{}
	c := &cobra.Command{
		Use:   "export --customer N",
		Short: "Write the mailboxes of customers as an input file of this project's format",
		Long: `export lists the mailboxes of each --customer (mailboxes/list) and writes
them as an input file for run and plan: CSV (an empty cell keeps the current
value; a value that is empty on the server is written as the empty token,
<empty>) or JSONL (a NULL is left out; "" is written as ""). A value that
would not read back as itself (spaces around it, a line break, the text
<empty> in CSV) is left out too, and counted. Planning an unedited export
against the same server reports every row unchanged; edit cells and plan to
see exactly those changes. PINs are left out unless --with-pin (and a PIN
the server does not show in plain is left out even then); the file then
has mode 0600. --output is written beside itself and renamed into place:
never through a link, and only over an earlier export.`,
		Example: `  ensbulk export --customer 100 --output box.csv
  ensbulk export --customer 100 --customer 101 --format jsonl > boxes.jsonl
  ensbulk export --customer 100 --columns description,timezone,pager`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.useProfile(cmd.Flags(), env); err != nil {
				return err
			}
			return runExport(cmd.Context(), env, o)
		},
	}
	f := c.Flags()
	f.SortFlags = false
	o.connFlags.addFlags(f)
	f.DurationVar(&o.timeout, "timeout", 0, "timeout of one request (default 30s)")
	f.StringArrayVar(&o.customers, "customer", nil, "customer whose mailboxes to export (repeatable)")
	f.StringVar(&o.output, "output", "-", `file to write ("-" = standard output)`)
	f.Var(newChoice(&o.outFormat, nil, "csv", "csv", "jsonl"), "format", "output format")
	f.StringVar(&o.columns, "columns", "", "comma-separated fields to write besides mailbox and customer (default: every field but the PIN)")
	f.BoolVar(&o.withPIN, "with-pin", false, "also write PINs the server shows in plain (the file then holds secrets: mode 0600)")
	return c
}

// exportColumns is the header: mailbox, customer, then the chosen fields
// in schema order.
func exportColumns(o *exportOptions) ([]string, error) {
	want := map[string]bool{}
	if o.columns != "" {
		for _, c := range strings.Split(o.columns, ",") {
			c = strings.TrimSpace(c)
			if _, ok := schema.Lookup(c); !ok || schema.IsReserved(c) {
				hint := ""
				if s := schema.Closest(c); s != "" {
					hint = fmt.Sprintf(" (did you mean %s?)", s)
				}
				return nil, usageErr("--columns: unknown field %q%s", c, hint)
			}
			want[c] = true
		}
	}
	cols := []string{"mailbox", "customer"}
	for _, f := range schema.Fields() {
		switch {
		case f.Name == "mailbox" || f.Name == "customer":
		case f.Secret:
			if o.withPIN {
				cols = append(cols, f.Name)
			}
		case o.columns == "" || want[f.Name]:
			cols = append(cols, f.Name)
		}
	}
	return cols, nil
}

func runExport(ctx context.Context, env *Env, o *exportOptions) error {
	if len(o.customers) == 0 {
		return usageErr("export needs at least one --customer N")
	}
	for _, c := range o.customers {
		if !schema.PlainInteger(c) {
			return usageErr("--customer %q: want a customer number", c)
		}
	}
	cols, err := exportColumns(o)
	if err != nil {
		return err
	}
	if o.timeout <= 0 {
		o.timeout = batch.DefaultTimeout
	}
	// export has no -q, -v or --log-level: warnings and errors only.
	log := console.NewLogger(env.Stderr, styleOf(env), zapcore.WarnLevel)
	defer func() { _ = log.Sync() }()
	cn, err := connect(env, &o.connFlags, 1, o.timeout, log)
	if err != nil {
		return err
	}

	var w io.Writer = env.Stdout
	var out *exportFile
	if o.output != "-" && o.output != "" {
		if out, err = createExport(o.output, o.withPIN); err != nil {
			return err
		}
		defer out.abandon()
		w = out
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := newExportEncoder(bw, reader.Format(o.outFormat), cols)
	inexact := 0
	if err := enc.header(); err != nil {
		return fileErr(err)
	}
	rows, masked, cut := 0, 0, 0
	for _, cust := range o.customers {
		// The list is streamed: each mailbox is written as it is
		// decoded, so a customer of any size costs the memory of one.
		// The file is only whole when the list ends without error; a
		// failed list fails the export (the partial file is no export).
		boxes := 0
		var encErr error
		rctx, cancel := context.WithTimeout(ctx, o.timeout)
		err := cn.Client.EachMailbox(rctx, cust, func(m enswitch.Mailbox) error {
			if o.withPIN {
				for _, name := range schema.Secrets() {
					if v, present, _ := m.Value(name); !present || v != "" && !schema.Plain(name, v) {
						masked++
					}
				}
			}
			for _, c := range cols {
				switch {
				case c != "customer" && altered(m, c):
					cut++
				case !enc.exact(m, c):
					inexact++
				}
			}
			if err := enc.encode(m, cust); err != nil {
				encErr = err
				return err
			}
			rows++
			boxes++
			return nil
		})
		cancel()
		switch {
		case encErr != nil:
			return fileErr(encErr)
		case errors.Is(err, enswitch.ErrTwoFactor):
			return job.TwoFactorError(cn.User, err, "no mailbox was exported")
		case err != nil:
			return withKind(errAborted, err) // it names the customer
		}
		log.Info("exported", zap.String("customer", cust), zap.Int("mailboxes", boxes))
	}
	if err := bw.Flush(); err != nil {
		return fileErr(err)
	}
	if out != nil {
		if err := out.commit(); err != nil {
			return fileErr(fmt.Errorf("--output %s: %w", o.output, err))
		}
	}
	fmt.Fprintf(env.Stderr, "export: %d mailboxes of %d customer(s)\n", rows, len(o.customers))
	if cut > 0 {
		fmt.Fprintf(env.Stderr, "export: %d value(s) the server sent were too long, held control characters or a secret; those cells are left empty (keep)\n", cut)
	}
	if inexact > 0 {
		fmt.Fprintf(env.Stderr, "export: %d value(s) cannot be written so that they read back exactly (spaces around them, line breaks, the empty token %s as text); those cells are left empty (keep), so a plan of the file still finds them unchanged\n", inexact, reader.DefaultEmptyToken)
	}
	if masked > 0 {
		fmt.Fprintf(env.Stderr, "export: the server does not show %d PIN(s) in plain; those cells are left empty (keep)\n", masked)
	}
	return nil
}

// exportEncoder writes mailboxes as rows of an input file: a value the
// server keeps as NULL is "keep" (an empty CSV cell, an absent JSONL key),
// "" is the empty token (CSV) or "" (JSONL), so that a plan of the file
// finds every row unchanged.
type exportEncoder struct {
	w      io.Writer
	cw     *csv.Writer
	format reader.Format
	cols   []string
	cells  []string
}

func newExportEncoder(w io.Writer, f reader.Format, cols []string) *exportEncoder {
	e := &exportEncoder{w: w, cols: cols, format: f}
	if f == reader.CSV {
		e.cw = csv.NewWriter(w)
	}
	return e
}

func (e *exportEncoder) header() error {
	if e.cw == nil {
		return nil
	}
	return e.cw.Write(e.cols)
}

// exact says whether a column's value, written as it is, reads back as
// that value (reader.Exact); one that does not is kept (not written).
func (e *exportEncoder) exact(m enswitch.Mailbox, name string) bool {
	text, present, null := m.Value(name)
	if !present || null || name == "customer" {
		return true
	}
	return reader.Exact(e.format, name, text, reader.DefaultEmptyToken)
}

// cell is a column's value and whether to write it at all.
func (e *exportEncoder) cell(m enswitch.Mailbox, name, customer string) (string, bool) {
	text, present, null := m.Value(name)
	switch {
	case name == "customer" && (!present || null || altered(m, name)):
		return customer, true
	case !present || null:
		return "", false
	case !schema.Plain(name, text):
		return "", false // a secret masked, or no PIN: keep
	case altered(m, name):
		return "", false // not the value itself: keep
	case !e.exact(m, name):
		return "", false // would not read back as itself: keep
	}
	return text, true
}

// altered reports whether the client had to cut, escape or redact a
// column's text (enswitch.Value.Altered): such a text is not the value,
// and a file that applied it would write the wrong one.
func altered(m enswitch.Mailbox, name string) bool {
	v, _ := m.Column(name)
	return v.Altered
}

func (e *exportEncoder) encode(m enswitch.Mailbox, customer string) error {
	if e.cw == nil {
		var b strings.Builder
		b.WriteByte('{')
		n := 0
		for _, c := range e.cols {
			v, ok := e.cell(m, c, customer)
			if !ok {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			k, _ := json.Marshal(c)
			val, _ := json.Marshal(v)
			b.Write(k)
			b.WriteByte(':')
			b.Write(val)
		}
		b.WriteString("}\n")
		_, err := io.WriteString(e.w, b.String())
		return err
	}
	e.cells = e.cells[:0]
	for _, c := range e.cols {
		v, ok := e.cell(m, c, customer)
		switch {
		case !ok:
			v = ""
		case v == "" && c != "mailbox" && c != "customer":
			v = reader.DefaultEmptyToken
		}
		e.cells = append(e.cells, v)
	}
	return e.cw.Write(e.cells)
}

// exportFile is --output: written to a temporary file beside it and
// renamed into place once complete, so a link planted at its name is
// replaced, never written through, and a file holding PINs is created
// 0600 whatever the file it replaces allowed.
type exportFile struct {
	*os.File
	path string
	done bool
}

// createExport refuses a path that holds anything but an export (a
// directory, a device, another kind of file): export writes only its own.
func createExport(path string, secret bool) (*exportFile, error) {
	if st, err := os.Lstat(path); err == nil {
		if st.Mode().IsRegular() && !looksExported(path) {
			return nil, usageErr("--output %s exists and is not an export of ensbulk (its first line is not mailbox,customer,...): name a new file or remove it", path)
		}
		if !st.Mode().IsRegular() && st.Mode()&os.ModeSymlink == 0 {
			return nil, usageErr("--output %s is not a regular file", path)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fileErr(fmt.Errorf("--output: %w", err))
	}
	perm := os.FileMode(0o644)
	if secret {
		perm = 0o600
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fileErr(fmt.Errorf("--output: %w", err))
	}
	return &exportFile{File: tmp, path: path}, nil
}

// looksExported says whether the file at path starts as an export does.
func looksExported(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 32)
	n, _ := io.ReadFull(f, b)
	start := string(b[:n])
	return n == 0 || strings.HasPrefix(start, "mailbox,customer") || strings.HasPrefix(start, `{"mailbox":`)
}

func (e *exportFile) commit() error {
	if err := e.Sync(); err != nil {
		return err
	}
	if err := e.Close(); err != nil {
		return err
	}
	if err := os.Rename(e.Name(), e.path); err != nil {
		return err
	}
	e.done = true
	return nil
}

// abandon removes the temporary file of an export that did not finish:
// the file at path is left as it was.
func (e *exportFile) abandon() {
	if !e.done {
		e.Close()
		os.Remove(e.Name())
	}
}
