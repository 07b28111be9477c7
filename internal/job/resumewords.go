package job

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// Package resume says why it refuses a run and what a plan does as typed
// values; here they become the words, option names and command lines an
// operator reads: every sentence of a resume, a retry or a rotation, and
// the command lines a summary suggests next.

// refusal is a resume.Refusal as the operator reads it. It unwraps to the
// Refusal, so KindOf and errors.Is see through it.
type refusal struct{ r *resume.Refusal }

func (e *refusal) Error() string { return refusalWords(e.r) }

func (e *refusal) Unwrap() error { return e.r }

// sayResume puts what resume.Decide returned into words: a Refusal, and
// the failure of Config.Keep. Anything else says itself.
func sayResume(err error) error {
	var r *resume.Refusal
	var pe *resume.PruneError
	switch {
	case errors.As(err, &r):
		return &refusal{r}
	case errors.As(err, &pe):
		return fmt.Errorf("--keep: %w", pe.Err)
	}
	return err
}

// refusalWords says a Refusal: what is refused, and what to pass instead.
func refusalWords(r *resume.Refusal) string {
	if say, ok := refusals[r.Reason]; ok {
		return say(r)
	}
	return r.Error()
}

var refusals = map[resume.Reason]func(*resume.Refusal) string{
	resume.ReportExists: func(r *resume.Refusal) string {
		return fmt.Sprintf("report %s already exists: pass --resume to continue that run, or --report PATH to start a new report", r.Path)
	},
	resume.NotAReport: func(r *resume.Refusal) string {
		return fmt.Sprintf("%s already exists and is not a report of ensbulk (it has no sidecar %s): it was left as it is; pass --report PATH to name a new report", r.Path, report.MetaPath(r.Path))
	},
	resume.SidecarMissing: func(r *resume.Refusal) string {
		return fmt.Sprintf("cannot resume %s: its sidecar %s is missing, so it is not a report ensbulk can continue (is it one?); it was left as it is: pass --report PATH to start a new report", r.Path, report.MetaPath(r.Path))
	},
	resume.SidecarUnreadable: func(r *resume.Refusal) string {
		if r.Op == resume.OpRetry {
			return fmt.Sprintf("--retry-failed %s: its sidecar %s is unreadable (%v), so nothing says which switch it describes: pass --force if it was made against %s as user %s", r.Path, report.MetaPath(r.Path), r.Err, r.Now.Switch, r.Now.User)
		}
		return fmt.Sprintf("cannot resume %s: its sidecar %s is unreadable (%v); use --report PATH to start a new report", r.Path, report.MetaPath(r.Path), r.Err)
	},
	resume.OtherMode: func(r *resume.Refusal) string {
		return fmt.Sprintf("cannot resume %s: it is the report of a %q run, not %q; use --report PATH to start a new report", r.Path, r.Then.Mode, r.Now.Mode)
	},
	resume.OtherFormat: func(r *resume.Refusal) string {
		return fmt.Sprintf("cannot resume %s: it is a %s report; pass --report-format %s", r.Path, r.Then.Format, r.Then.Format)
	},
	resume.InputChanged: func(r *resume.Refusal) string {
		return fmt.Sprintf("cannot resume %s: the input changed since the report was started: %s; pass --force to redo every changed row (and the later rows of their mailboxes), or --report PATH to start a new report", r.Path, changesWords(r.Changes))
	},
	resume.NoIdentity: func(r *resume.Refusal) string {
		return fmt.Sprintf("%s %s records no switch or user (written by an older ensbulk): pass --force if it was made against %s as user %s", identityOf(r.Op), r.Path, r.Now.Switch, r.Now.User)
	},
	resume.OtherSwitch: func(r *resume.Refusal) string {
		return fmt.Sprintf("%s %s belongs to switch %s as user %s; this run is against switch %s as user %s: a report belongs to one switch and user (use the other switch's settings, or --report PATH for a new report)",
			identityOf(r.Op), r.Path, r.Then.Switch, r.Then.User, r.Now.Switch, r.Now.User)
	},
	resume.RetryOfItself: func(r *resume.Refusal) string {
		return fmt.Sprintf("--report %s is the report being retried: a retry writes a new report and leaves %s as it is; pass another --report PATH", r.Path, r.Retried)
	},
	resume.RetryMismatch: func(r *resume.Refusal) string {
		return fmt.Sprintf("--retry-failed %s: row %d is mailbox %s in the input but %s in the report: the input does not match the report (were rows added, removed or reordered?)", r.Path, r.Row, boxName(r.Box), boxName(r.ReportBox))
	},
	resume.RetryGone: func(r *resume.Refusal) string {
		return fmt.Sprintf("--retry-failed %s: %s of the report %s not in the input: the input does not match the report", r.Path, rowsWords(r.Rows), oneOr(r.Rows.Total, "is", "are"))
	},
	resume.RetryEditedOK: func(r *resume.Refusal) string {
		n := r.Rows.Total
		return fmt.Sprintf("--retry-failed %s: %s %s ok in that report and %s been edited since: a retry reruns only the rows that are not ok, so the %s would not be applied; pass --force to apply %s too, or undo the %s",
			r.Path, rowsWords(r.Rows), oneOr(n, "was", "were"), oneOr(n, "has", "have"), oneOr(n, "edit", "edits"), oneOr(n, "it", "them"), oneOr(n, "edit", "edits"))
	},
	resume.ReportUnreadable: func(r *resume.Refusal) string {
		if r.Op == resume.OpRetry {
			return fmt.Sprintf("--retry-failed: %v", r.Err)
		}
		return fmt.Sprintf("cannot resume: %v", r.Err)
	},
	resume.RowUnreadable: func(r *resume.Refusal) string { return fmt.Sprintf("%v (nothing was sent)", r.Err) },
	resume.RowOrder: func(r *resume.Refusal) string {
		return fmt.Sprintf("input: row numbers must increase (row %d after %d)", r.Row, r.After)
	},
	resume.FileLink: func(r *resume.Refusal) string {
		return fmt.Sprintf("%s %s is a symbolic link: ensbulk does not write through links; name the file itself", fileOf(r.Sidecar), r.Path)
	},
	resume.FileIrregular: func(r *resume.Refusal) string {
		return fmt.Sprintf("%s %s is not a regular file", fileOf(r.Sidecar), r.Path)
	},
	resume.FileUnusable:  func(r *resume.Refusal) string { return fmt.Sprintf("%s %s: %v", fileOf(r.Sidecar), r.Path, r.Err) },
	resume.DiscardFailed: func(r *resume.Refusal) string { return fmt.Sprintf("report %s: %v", r.Path, r.Err) },
	resume.ReplaceFailed: func(r *resume.Refusal) string {
		if r.Sidecar {
			return fmt.Sprintf("replace report %s: its sidecar: %v", r.Path, r.Err)
		}
		return fmt.Sprintf("replace report %s: %v", r.Path, r.Err)
	},
}

// identityOf begins the refusal of a report of another switch, or of
// none, by what was asked of it.
func identityOf(op resume.Op) string {
	if op == resume.OpRetry {
		return "--retry-failed: report"
	}
	return "cannot resume: report"
}

func fileOf(sidecar bool) string {
	if sidecar {
		return "report sidecar"
	}
	return "report"
}

// noteWords says a Note: what a plan does that a plain run would not.
func noteWords(n resume.Note) string {
	if say, ok := notes[n.Kind]; ok {
		return say(n)
	}
	return fmt.Sprintf("note %d about %s", int(n.Kind), n.Path)
}

var notes = map[resume.NoteKind]func(resume.Note) string{
	resume.NoteReplaced: func(n resume.Note) string {
		return fmt.Sprintf("replaced the earlier %s report %s of this input (a %s changes nothing on the switch)", n.Mode, n.Path, n.Mode)
	},
	resume.NoteNotRevalidated: func(n resume.Note) string {
		return fmt.Sprintf("%d %s validated by an earlier run of this report and unchanged since: not validated again", n.N, oneOr(n.N, "row was", "rows were"))
	},
	resume.NoteReapplied: func(n resume.Note) string {
		k := n.Rows.Total
		return fmt.Sprintf("--force: %s %s ok in %s and %s been edited since: applying %s again", rowsWords(n.Rows), oneOr(k, "was", "were"), n.Path, oneOr(k, "has", "have"), oneOr(k, "it", "them"))
	},
	resume.NoteRotated: func(n resume.Note) string {
		return fmt.Sprintf("the run of %s finished on %s and the input changed since (%s): that report is kept as %s, and this run starts a new one",
			n.Path, n.Finished.UTC().Format("2006-01-02 15:04:05 UTC"), changesWords(n.Changes), n.To)
	},
	resume.NotePruned: func(n resume.Note) string {
		return fmt.Sprintf("kept the %d newest reports set aside; removed %s with %s",
			n.Keep, strings.Join(n.Removed, ", "), oneOr(len(n.Removed), "its sidecar and undo files", "their sidecars and undo files"))
	},
	resume.NoteReuseUnreadable: func(n resume.Note) string {
		return fmt.Sprintf("validating every row: the validate report %s is unreadable (%v)", n.Path, n.Err)
	},
	resume.NoteReuseOtherSwitch: func(n resume.Note) string {
		return fmt.Sprintf("validating every row: the validate report %s was made against switch %s as user %s, not %s as user %s",
			n.Path, orNone(n.Then.Switch), orNone(n.Then.User), n.Now.Switch, n.Now.User)
	},
	resume.NoteReuseOtherInput: func(n resume.Note) string {
		return fmt.Sprintf("validating every row: the validate report %s is of another input (%s)", n.Path, changesWords(n.Changes))
	},
	resume.NoteReuseTooOld: func(n resume.Note) string {
		return fmt.Sprintf("validating every row: the validate report %s was started %s ago, more than %s", n.Path, n.Age.Round(time.Minute), n.MaxAge)
	},
	resume.NoteReused: func(n resume.Note) string {
		return fmt.Sprintf("the server validated this input %s ago (%s): %d valid %s not validated again, %d invalid %s reported without sending",
			n.Age.Round(time.Second), n.Path, n.Valid, oneOr(n.Valid, "row is", "rows are"), n.Invalid, oneOr(n.Invalid, "row is", "rows are"))
	},
}

// changesWords names what differs between a report's input and the
// input now, by the options that set it.
func changesWords(cs []resume.Change) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = changeWords(c)
	}
	return joinAnd(s)
}

func changeWords(c resume.Change) string {
	switch c.Kind {
	case resume.ContentChanged:
		return fmt.Sprintf("the input file's content (sha256 %.12s… then, %.12s… now)", c.Then, c.Now)
	case resume.FormatChanged:
		return fmt.Sprintf("--format (%s then, %s now)", c.Then, c.Now)
	case resume.EmptyTokenChanged:
		return fmt.Sprintf("--empty-token (%q then, %q now)", c.Then, c.Now)
	case resume.DelimiterChanged:
		return fmt.Sprintf("--delimiter (%q then, %q now)", c.Then, c.Now)
	case resume.RowsChanged:
		n := c.Rows.Total
		return fmt.Sprintf("%s now %s from %s record in the report", rowsWords(c.Rows), oneOr(n, "differs", "differ"), oneOr(n, "its", "their"))
	case resume.RowsGone:
		return fmt.Sprintf("%s of the report %s no longer in the input", rowsWords(c.Rows), oneOr(c.Rows.Total, "is", "are"))
	}
	return fmt.Sprintf("change %d", int(c.Kind))
}

// rowsWords names rows, from the first few and their count: "row 7",
// "rows 3, 9 and 12", "rows 3, 9, 12, 15, 20 and 41 more".
func rowsWords(r resume.Rows) string {
	if r.Total == 1 {
		return fmt.Sprintf("row %d", r.First[0])
	}
	var s []string
	for i, n := range r.First {
		if i == resume.RowsShown && r.Total > resume.RowsShown+1 {
			s = append(s, fmt.Sprintf("%d more", r.Total-resume.RowsShown))
			break
		}
		s = append(s, fmt.Sprint(n))
	}
	return "rows " + joinAnd(s)
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func boxName(b resume.Box) string {
	if b.Customer == "" {
		return fmt.Sprintf("%q", b.Mailbox)
	}
	return fmt.Sprintf("%q (customer %s)", b.Mailbox, b.Customer)
}

func orNone(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

// RetryAdvice is what the summary of a report with notOK rows that are
// not ok tells the operator to run next; haveMeta is false when the
// report's sidecar could not be read, and meta is then not used.
func RetryAdvice(reportPath string, meta report.Meta, haveMeta bool, notOK int) string {
	if !haveMeta {
		meta = report.Meta{}
	}
	return fmt.Sprintf("to rerun the %d %s not ok (after fixing %s):\n  %s\n", notOK, oneOr(notOK, "row that is", "rows that are"), oneOr(notOK, "it", "them"), RetryCommand(reportPath, meta))
}

// RetryCommand is the command line that reruns the rows of a report that
// are not ok.
func RetryCommand(reportPath string, meta report.Meta) string {
	return commandLine("run", meta, "--retry-failed", quoteWord(reportPath))
}

// ResumeCommand is the command line ("ensbulk VERB ... --resume") that
// continues the run of a report. It names the report unless it is the
// input's default: a retry's report, changes.retry1.report.csv, is not,
// and resuming without naming it would resume the report retried.
func ResumeCommand(verb, reportPath string, meta report.Meta) string {
	return commandLine(verb, meta, append([]string{"--resume"}, reportFlag(reportPath, meta)...)...)
}

// AgainCommand is the command line that does a plan or validate of a
// report's input again, writing over that report (a plan or validation
// of the same input replaces its own earlier report). It names the report
// unless it is the input's default.
func AgainCommand(verb, reportPath string, meta report.Meta) string {
	return commandLine(verb, meta, reportFlag(reportPath, meta)...)
}

// reportFlag is --report reportPath, or nothing when reportPath is the
// default report of meta's input.
func reportFlag(reportPath string, meta report.Meta) []string {
	f := meta.Format
	if f == "" {
		f = report.CSV
	}
	if meta.Input == "" || meta.Input == "-" || reportPath != report.DefaultPathFor(meta.Input, meta.Mode, f) {
		return []string{"--report", quoteWord(reportPath)}
	}
	return nil
}

// commandLine is "ensbulk VERB INPUT" with the options that change how
// the input is read (a semicolon file read again without --delimiter is
// refused) and the report's format, then tail; words are quoted for a
// shell.
func commandLine(verb string, meta report.Meta, tail ...string) string {
	input := "INPUT"
	if meta.Input != "" && meta.Input != "-" {
		input = meta.Input
	}
	words := []string{"ensbulk", verb, quoteWord(input)}
	if meta.InputFormat != "" && impliedFormat(input) != meta.InputFormat {
		words = append(words, "--format", quoteWord(meta.InputFormat))
	}
	if meta.InputFormat == string(reader.CSV) {
		if r, err := parseDelimiter(meta.Delimiter); err == nil && r != ',' {
			words = append(words, "--delimiter", quoteWord(meta.Delimiter))
		}
		if meta.EmptyToken != "" && meta.EmptyToken != reader.DefaultEmptyToken {
			words = append(words, "--empty-token", quoteWord(meta.EmptyToken))
		}
	}
	if meta.Format != "" && meta.Format != report.CSV {
		words = append(words, "--report-format", string(meta.Format))
	}
	return strings.Join(append(words, tail...), " ")
}

// impliedFormat is the input format a file's name implies, "" when none.
func impliedFormat(name string) string {
	f, err := reader.DetectFormat(name, "")
	if err != nil {
		return ""
	}
	return string(f)
}

// quoteWord quotes a word of a suggested command line for a POSIX shell
// when it needs it. It leaves a few more characters bare than shellQuote
// does for a path in a sentence.
func quoteWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./:=@%+,-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// oneOr is one when n is 1, else many (plural with the count left out).
func oneOr(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
