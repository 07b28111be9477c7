package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// version and commit are stamped by the Makefile (-ldflags "-X
// main.version=$(git describe --tags --always --dirty) -X
// main.commit=..."); otherwise the build info's module version and VCS
// data say which build this is.
var (
	version = ""
	commit  = ""
)

// run is the whole command line, as main runs it and tests call it; the
// error it returns carries its kind, for exitCode.
func run(ctx context.Context, args []string, env *Env) error {
	root := newRoot(ctx, env)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// newRoot builds the command tree.
func newRoot(ctx context.Context, env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "ensbulk",
		Short: "Bulk changes to Enswitch voicemail mailboxes, validated first, applied safely",
		Long: `ensbulk reads a CSV or JSONL file of mailbox changes, has the Enswitch server
validate every row (validation=1, changes nothing), applies the valid rows
through a rate-limited worker pool, and writes a per-row report.

Connection: --url or ENSWITCH_URL, --user or ENSWITCH_USER, and the password
from ENSWITCH_PASSWORD, --password-file, or a prompt on a terminal (there is
no password flag: argv is visible to every user of the machine); or a named
profile of the config file (--profile NAME, see docs/operating.md, "Profiles").

Exit codes: 0 all rows ok; 1 some rows not ok; 2 usage or input error,
nothing sent; 3 aborted or interrupted; 4 another run holds the report's
lock; 5 stopped by a budget or window (resume with --resume); 6 internal
error (e.g. the report could not be written).`,
		Example: `  ensbulk demo                              # try it on the embedded simulator
  ensbulk validate --offline changes.csv    # local checks only, no network
  ensbulk run changes.csv --rate 5          # validate, then apply
  ensbulk summary changes.report.csv`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Left to cobra, an unknown command would be a plain error, and
		// plain errors are internal.
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("unknown command %q for %q%s", args[0], c.CommandPath(), suggestions(c, args[0]))
			}
			return nil
		},
		RunE:    func(c *cobra.Command, _ []string) error { return c.Help() },
		Version: buildVersion(),
	}
	// --version prints what the version command prints. Declared here so
	// that cobra does not give it -v, which run and validate use for
	// verbose.
	root.Flags().Bool("version", false, "print the version")
	root.SetVersionTemplate("ensbulk {{.Version}}\n")
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v (see '%s --help')%s", err, c.CommandPath(), flagSuggestion(c, err))
	})
	root.AddCommand(
		newRunCmd(env),
		newValidateCmd(env),
		newPlanCmd(env),
		newExportCmd(env),
		newSummaryCmd(env),
		newSimCmd(env),
		newDemoCmd(env),
		newVersionCmd(env),
	)
	for _, c := range root.Commands() {
		c.SilenceUsage = true
		c.SilenceErrors = true
		c.Args = wrapArgs(c.Args)
		completeChoices(c)
		completeProfiles(c, env)
	}
	return root
}

// wrapArgs makes argument-count errors usage errors (exit 2).
func wrapArgs(a cobra.PositionalArgs) cobra.PositionalArgs {
	if a == nil {
		return nil
	}
	return func(c *cobra.Command, args []string) error {
		if err := a(c, args); err != nil {
			if name, ok := missingArg(c, args); ok {
				// Not cobra's "accepts 1 arg(s), received 0".
				what := "the " + name
				if name == "FILE" {
					what = "the input FILE"
				}
				return usageErr("%s needs %s: %s %s (see '%s --help')", c.Name(), what, c.CommandPath(), name, c.CommandPath())
			}
			return usageErr("%v (see '%s --help')", err, c.CommandPath())
		}
		return nil
	}
}

// missingArg is the name of the argument c's usage line asks for ("run
// FILE": FILE) when none was given.
func missingArg(c *cobra.Command, args []string) (string, bool) {
	f := strings.Fields(c.Use)
	if len(args) > 0 || len(f) < 2 || strings.HasPrefix(f[1], "-") || strings.ToUpper(f[1]) != f[1] {
		return "", false
	}
	return f[1], true
}

// flagSuggestion is a "did you mean" for a mistyped flag of c: the flags
// of c (its own and inherited) within two edits of the name typed.
func flagSuggestion(c *cobra.Command, err error) string {
	_, typed, ok := strings.Cut(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	typed, _, _ = strings.Cut(typed, "=")
	var near []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && schema.Distance(typed, f.Name) <= 2 {
			near = append(near, "--"+f.Name)
		}
	})
	if len(near) == 0 {
		return ""
	}
	return "\n\nDid you mean this?\n\t" + strings.Join(near, "\n\t")
}

// suggestions is cobra's "Did you mean this?" for a mistyped command.
func suggestions(c *cobra.Command, typed string) string {
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	s := c.SuggestionsFor(typed)
	if len(s) == 0 {
		return ""
	}
	return "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(env.Stdout, "ensbulk", buildVersion())
			return nil
		},
	}
}

func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionString(version, commit, bi)
}

// versionString is "VERSION (commit COMMIT)": the stamped values, or
// what the build info holds in their place (a plain go build in a clone
// records vcs.revision and vcs.modified; go install pkg@v1.2.3 the
// module version).
func versionString(version, commit string, bi *debug.BuildInfo) string {
	if bi != nil {
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		if commit == "" {
			var rev, dirty string
			for _, s := range bi.Settings {
				switch {
				case s.Key == "vcs.revision":
					rev = s.Value
				case s.Key == "vcs.modified" && s.Value == "true":
					dirty = "-dirty"
				}
			}
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if rev != "" {
				commit = rev + dirty
			}
		}
	}
	if version == "" {
		version = "(devel)"
	}
	// git describe without a tag is the short commit itself.
	if commit == "" || strings.HasPrefix(commit, strings.TrimSuffix(version, "-dirty")) {
		return version
	}
	return version + " (commit " + commit + ")"
}
