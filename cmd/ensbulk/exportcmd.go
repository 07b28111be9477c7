package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/enswitch/schema"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/reader"
)

// exportOptions are the settings of export; the connection and the
// request timeout are run's.
type exportOptions struct {
	runOptions
	customers []string
	output    string
	columns   string
	withPIN   bool
	outFormat *choice
}

func newExportCmd(env *Env) *cobra.Command {
	o := &exportOptions{runOptions: runOptions{now: time.Now}}
	c := &cobra.Command{
		Use:   "export --customer N",
		Short: "Write the mailboxes of customers as an input file of this project's format",
		Long: `export lists the mailboxes of each --customer (mailboxes/list) and writes
them as an input file for run and plan: CSV (an empty cell keeps the current
value; a value that is empty on the server is written as the empty token,
<empty>) or JSONL (a NULL is left out; "" is written as ""). Planning an
unedited export against the same server reports every row unchanged; edit
cells and plan to see exactly those changes. PINs are left out unless
--with-pin (and a PIN the server does not show in plain is left out even then).`,
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
	o.outFormat = newChoice("csv", "csv", "jsonl")
	f.Var(o.outFormat, "format", "output format")
	f.StringVar(&o.columns, "columns", "", "comma-separated fields to write besides mailbox and customer (default: every field but the PIN)")
	f.BoolVar(&o.withPIN, "with-pin", false, "also write PINs the server shows in plain (the file then holds secrets: mode 0600)")
	o.logLevel = newChoice("warn", "debug", "info", "warn", "error")
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
		case f.Name == "pin":
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
	o.workers = 1
	lvl, err := o.level()
	if err != nil {
		return err
	}
	log := console.NewLogger(env.Stderr, styleOf(env), lvl)
	defer func() { _ = log.Sync() }()
	cn, err := connect(env, &o.runOptions, log)
	if err != nil {
		return err
	}

	var w io.Writer = env.Stdout
	var file *os.File
	if o.output != "-" && o.output != "" {
		perm := os.FileMode(0o644)
		if o.withPIN {
			perm = 0o600
		}
		file, err = os.OpenFile(o.output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
		if err != nil {
			return fileErr(fmt.Errorf("--output: %w", err))
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := newExportEncoder(bw, reader.Format(o.outFormat.String()), cols)
	if err := enc.header(); err != nil {
		return fileErr(err)
	}
	rows, masked, cut := 0, 0, 0
	for _, cust := range o.customers {
		rctx, cancel := context.WithTimeout(ctx, o.timeout)
		boxes, err := cn.client.List(rctx, cust)
		cancel()
		if err != nil {
			return withKind(errAborted, fmt.Errorf("mailboxes/list for customer %s: %w", cust, err))
		}
		for _, m := range boxes {
			if o.withPIN {
				if v, present, _ := m.Value("pin"); !present || v != "" && !enswitch.PlainPIN(v) {
					masked++
				}
			}
			for _, c := range cols {
				if c != "customer" && altered(m, c) {
					cut++
				}
			}
			if err := enc.encode(m, cust); err != nil {
				return fileErr(err)
			}
			rows++
		}
		log.Info("exported", zap.String("customer", cust), zap.Int("mailboxes", len(boxes)))
	}
	if err := bw.Flush(); err != nil {
		return fileErr(err)
	}
	if file != nil {
		if err := file.Sync(); err != nil {
			return fileErr(err)
		}
		if err := file.Close(); err != nil {
			return fileErr(err)
		}
	}
	fmt.Fprintf(env.Stderr, "export: %d mailboxes of %d customer(s)\n", rows, len(o.customers))
	if cut > 0 {
		fmt.Fprintf(env.Stderr, "export: %d value(s) the server sent were too long, held control characters or a secret; those cells are left empty (keep)\n", cut)
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
	w     io.Writer
	cw    *csv.Writer
	cols  []string
	cells []string
}

func newExportEncoder(w io.Writer, f reader.Format, cols []string) *exportEncoder {
	e := &exportEncoder{w: w, cols: cols}
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

// cell is a column's value and whether to write it at all.
func cell(m enswitch.Mailbox, name, customer string) (string, bool) {
	text, present, null := m.Value(name)
	switch {
	case name == "customer" && (!present || null || altered(m, name)):
		return customer, true
	case !present || null:
		return "", false
	case name == "pin" && !enswitch.PlainPIN(text):
		return "", false // a mask, or no PIN: keep
	case altered(m, name):
		return "", false // not the value itself: keep
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
			v, ok := cell(m, c, customer)
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
		v, ok := cell(m, c, customer)
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
