package main

import (
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/internal/export"
	"github.com/ensbulk/ensbulk/internal/job"
)

// exportOptions are the settings of export; the connection and the
// request timeout are run's.
type exportOptions struct {
	connFlags
	export.Options
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
			return export.Run(cmd.Context(), o.exportEnv(env), &o.Options)
		},
	}
	f := c.Flags()
	f.SortFlags = false
	o.connFlags.addFlags(f)
	f.DurationVar(&o.Timeout, "timeout", 0, "timeout of one request (default 30s)")
	f.StringArrayVar(&o.Customers, "customer", nil, "customer whose mailboxes to export (repeatable)")
	f.StringVar(&o.Output, "output", "-", `file to write ("-" = standard output)`)
	f.Var(newChoice(&o.Format, nil, "csv", "csv", "jsonl"), "format", "output format")
	f.StringVar(&o.Columns, "columns", "", "comma-separated fields to write besides mailbox and customer (default: every field but the PIN)")
	f.BoolVar(&o.WithPIN, "with-pin", false, "also write PINs the server shows in plain (the file then holds secrets: mode 0600)")
	return c
}

// exportEnv is what an export needs of the process, and the connection
// of o's flags: one worker, the export's request timeout.
func (o *exportOptions) exportEnv(env *Env) *export.Env {
	return &export.Env{
		Stdout: env.Stdout, Stderr: env.Stderr, Style: styleOf(env),
		Connect: func(log *zap.Logger, timeout time.Duration) (*job.Conn, error) {
			return connect(env, &o.connFlags, 1, timeout, log)
		},
	}
}
