package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
)

// runPlan is what a run will do given its report: start afresh, resume,
// or retry the failures of an earlier report.
type runPlan struct {
	meta     report.Meta
	resuming bool
	done     int // rows finished by an earlier run and not redone
	todoSet  map[int]bool
	seeds    []report.Record // retry: earlier outcomes of rows not redone
	seeded   int
}

// todo tells the engine whether this run handles a row.
func (p *runPlan) todo(r *batch.Row) bool {
	if p.todoSet == nil {
		return true
	}
	return p.todoSet[r.Num]
}

// seed copies earlier outcomes into a new report (retry runs).
func (p *runPlan) seed(j *report.Journal) error {
	for _, r := range p.seeds {
		if err := j.WriteRecord(r); err != nil {
			return err
		}
	}
	p.seeded = len(p.seeds)
	p.seeds = nil
	return j.Flush()
}

func planRun(in *input, o *runOptions, reportPath string, rf report.Format) (*runPlan, error) {
	mode := "run"
	if o.validate {
		mode = "validate"
	}
	p := &runPlan{meta: report.Meta{
		Version: 1, Input: in.path, InputSHA256: in.sha256, InputFormat: string(in.opts.Format),
		EmptyToken: o.emptyToken, Delimiter: o.delimiter, Mode: mode, Started: o.now().UTC(), Format: rf,
	}}
	if o.retryFailed != "" && sameFile(reportPath, o.retryFailed) {
		return nil, usageErr("--report %s is the report being retried: a retry writes a new report and leaves %s as it is; pass another --report PATH", reportPath, o.retryFailed)
	}
	st, statErr := os.Stat(reportPath)
	exists := statErr == nil
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return nil, usageErr("report %s: %v", reportPath, statErr)
	}
	if exists && !st.Mode().IsRegular() {
		return nil, usageErr("report %s is not a regular file", reportPath)
	}
	if exists && o.resume {
		// A run killed after creating its report but before any row
		// finished leaves nothing to resume: start afresh.
		if l, _, err := report.Latest(reportPath); err == nil && len(l) == 0 {
			if _, merr := report.ReadMeta(reportPath); merr != nil {
				if err := os.Remove(reportPath); err != nil {
					return nil, usageErr("report %s: %v", reportPath, err)
				}
				exists = false
			}
		}
	}
	switch {
	case o.resume && exists:
		return p, p.planResume(in, o, reportPath, rf)
	case exists:
		return nil, withKind(errReportExists, fmt.Errorf("report %s already exists: pass --resume to continue that run, or --report PATH to start a new report", reportPath))
	case o.retryFailed != "":
		return p, p.planRetry(in, o)
	}
	return p, nil
}

func (p *runPlan) planResume(in *input, o *runOptions, reportPath string, rf report.Format) error {
	meta, err := report.ReadMeta(reportPath)
	if err != nil {
		return usageErr("cannot resume %s: its sidecar %s is unreadable (%v); use --report PATH to start a new report", reportPath, report.MetaPath(reportPath), err)
	}
	// What the report is cannot be forced: another mode or encoding.
	if meta.Mode != p.meta.Mode {
		return usageErr("cannot resume %s: it is the report of a %q run, not %q; use --report PATH to start a new report", reportPath, meta.Mode, p.meta.Mode)
	}
	if meta.Format != "" && meta.Format != rf {
		return usageErr("cannot resume %s: it is a %s report; pass --report-format %s", reportPath, meta.Format, meta.Format)
	}
	latest, _, err := report.Latest(reportPath)
	if err != nil {
		return usageErr("cannot resume: %v", err)
	}

	// A row is redone unless its outcome is final and its content
	// unchanged; once a row of a mailbox is redone, every later row of
	// that mailbox is redone too, so they are applied after it again.
	var changed []int // finished rows whose content or mailbox differs now
	seen := map[int]bool{}
	err = p.selectRows(in, func(r *batch.Row) (bool, error) {
		seen[r.Num] = true
		rec, ok := latest[r.Num]
		if !ok {
			return true, nil
		}
		if rec.Hash != r.Hash || rec.Mailbox != r.Mailbox || rec.Customer != r.Customer {
			changed = append(changed, r.Num)
			return true, nil
		}
		return !batch.Status(rec.Status).Done(), nil
	}, nil)
	if err != nil {
		return err
	}
	var gone []int // rows of the report the input no longer has
	for n := range latest {
		if !seen[n] {
			gone = append(gone, n)
		}
	}
	sort.Ints(gone)

	diffs := metaDiffs(meta, in, o)
	if len(changed) > 0 {
		diffs = append(diffs, fmt.Sprintf("%s now %s from %s record in the report", rowList(changed), differ(len(changed)), theirIts(len(changed))))
	}
	if len(gone) > 0 {
		diffs = append(diffs, fmt.Sprintf("%s of the report %s no longer in the input", rowList(gone), isAre(len(gone))))
	}
	if len(diffs) > 0 && !o.force {
		return usageErr("cannot resume %s: the input changed since the report was started: %s; pass --force to redo every changed row (and the later rows of their mailboxes), or --report PATH to start a new report", reportPath, joinAnd(diffs))
	}
	p.meta = meta
	p.resuming = true
	if len(diffs) == 0 {
		return nil
	}
	// --force: the report now describes this input. Rows the input lost
	// leave it (the final report has one line per input row), and the
	// sidecar names the new input, so a later --resume after a crash of
	// this run is not refused again.
	if len(gone) > 0 {
		if err := report.Rewrite(reportPath, func(r report.Record) bool { return seen[r.Row] }); err != nil {
			return fmt.Errorf("report %s: %w", reportPath, err)
		}
	}
	p.meta.InputSHA256, p.meta.InputFormat = in.sha256, string(in.opts.Format)
	p.meta.EmptyToken, p.meta.Delimiter = o.emptyToken, o.delimiter
	if err := report.WriteMeta(reportPath, p.meta); err != nil {
		return fmt.Errorf("report sidecar: %w", err)
	}
	return nil
}

// metaDiffs names what differs between the input as the sidecar recorded
// it and the input now: its bytes, and the options that change what the
// bytes mean (delimiter and empty token only for CSV).
func metaDiffs(meta report.Meta, in *input, o *runOptions) []string {
	var diffs []string
	if meta.InputSHA256 != in.sha256 {
		diffs = append(diffs, fmt.Sprintf("the input file's content (sha256 %.12s… then, %.12s… now)", meta.InputSHA256, in.sha256))
	}
	if meta.InputFormat != string(in.opts.Format) {
		diffs = append(diffs, fmt.Sprintf("--format (%s then, %s now)", meta.InputFormat, in.opts.Format))
	}
	if in.opts.Format != reader.CSV {
		return diffs
	}
	if meta.EmptyToken != o.emptyToken {
		diffs = append(diffs, fmt.Sprintf("--empty-token (%q then, %q now)", meta.EmptyToken, o.emptyToken))
	}
	then, err1 := parseDelimiter(meta.Delimiter)
	now, err2 := parseDelimiter(o.delimiter)
	if err1 != nil || err2 != nil || then != now {
		diffs = append(diffs, fmt.Sprintf("--delimiter (%q then, %q now)", meta.Delimiter, o.delimiter))
	}
	return diffs
}

func (p *runPlan) planRetry(in *input, o *runOptions) error {
	latest, _, err := report.Latest(o.retryFailed)
	if err != nil {
		return usageErr("--retry-failed: %v", err)
	}
	// A retry redoes rows that are not ok, and later rows of their
	// mailboxes (otherwise the retry would undo them). Rows it does not
	// redo keep their earlier record in the new report, so it has one
	// line per input row.
	//
	// Every row number must still hold the mailbox (and customer) it held
	// in the report: a row added or removed above shifts the numbers, and
	// an ok record would then be carried over to another mailbox's row.
	// The one exception is a row refused because of its mailbox or
	// customer (404, 402/403, or a 400 naming one of them): naming the
	// right mailbox is how such a row is fixed.
	seen := map[int]bool{}
	err = p.selectRows(in, func(r *batch.Row) (bool, error) {
		seen[r.Num] = true
		rec, ok := latest[r.Num]
		if !ok {
			return true, nil
		}
		if (rec.Mailbox != r.Mailbox || rec.Customer != r.Customer) && !identityFix(rec) {
			return false, usageErr("--retry-failed %s: row %d is mailbox %s in the input but %s in the report: the input does not match the report (were rows added, removed or reordered?)", o.retryFailed, r.Num, boxName(r.Mailbox, r.Customer), boxName(rec.Mailbox, rec.Customer))
		}
		return rec.Status != string(batch.StatusOK), nil
	}, func(r *batch.Row) {
		if rec, ok := latest[r.Num]; ok {
			rec.Line = r.Line
			p.seeds = append(p.seeds, rec)
		}
	})
	if err != nil {
		return err
	}
	var gone []int
	for n := range latest {
		if !seen[n] {
			gone = append(gone, n)
		}
	}
	if len(gone) > 0 {
		sort.Ints(gone)
		return usageErr("--retry-failed %s: %s of the report %s not in the input: the input does not match the report", o.retryFailed, rowList(gone), isAre(len(gone)))
	}
	return nil
}

// identityFix reports whether a record failed because of the mailbox or
// customer it names, so that a fixed input may name another.
func identityFix(rec report.Record) bool {
	switch batch.Status(rec.Status) {
	case batch.StatusFailed:
		return true
	case batch.StatusInvalid:
		return rec.Key == "mailbox" || rec.Key == "customer"
	}
	return false
}

func boxName(mailbox, customer string) string {
	if customer == "" {
		return fmt.Sprintf("%q", mailbox)
	}
	return fmt.Sprintf("%q (customer %s)", mailbox, customer)
}

// selectRows reads the input once and decides, in file order, which rows
// this run redoes; keep is called for the rows it does not. redo sees
// every row, also those already redone because an earlier row of their
// mailbox is, so that it can check each one.
func (p *runPlan) selectRows(in *input, redo func(*batch.Row) (bool, error), keep func(*batch.Row)) error {
	src, c, err := in.opener()()
	if err != nil {
		var fe *reader.FileError
		if errors.As(err, &fe) {
			return fileErr(fmt.Errorf("%w (nothing was sent)", err))
		}
		return err
	}
	defer c.Close()
	p.todoSet = map[int]bool{}
	dirty := map[string]bool{}
	for {
		r, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fileErr(fmt.Errorf("%w (nothing was sent)", err))
		}
		do, err := redo(&r)
		if err != nil {
			return err
		}
		if do || dirty[r.Key()] {
			dirty[r.Key()] = true
			p.todoSet[r.Num] = true
			continue
		}
		p.done++
		if keep != nil {
			keep(&r)
		}
	}
	sort.Slice(p.seeds, func(i, j int) bool { return p.seeds[i].Row < p.seeds[j].Row })
	return nil
}

// rowList names rows for a message: "row 7", "rows 3, 9 and 12", "rows 3,
// 9, 12, 15, 20 and 41 more".
func rowList(rows []int) string {
	const show = 5
	if len(rows) == 1 {
		return fmt.Sprintf("row %d", rows[0])
	}
	var s []string
	for i, n := range rows {
		if i == show && len(rows) > show+1 {
			s = append(s, fmt.Sprintf("%d more", len(rows)-show))
			break
		}
		s = append(s, fmt.Sprint(n))
	}
	return "rows " + joinAnd(s)
}

func differ(n int) string {
	if n == 1 {
		return "differs"
	}
	return "differ"
}

func theirIts(n int) string {
	if n == 1 {
		return "its"
	}
	return "their"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, v := range s[1 : len(s)-1] {
		out += ", " + v
	}
	return out + " and " + s[len(s)-1]
}

// retryAdvice is what the summary of a report with notOK rows that are
// not ok tells the operator to run next.
func retryAdvice(reportPath string, meta report.Meta, haveMeta bool, notOK int) string {
	if !haveMeta {
		meta = report.Meta{}
	}
	return fmt.Sprintf("to rerun the %d rows that are not ok (after fixing them):\n  %s\n", notOK, retryCommand(reportPath, meta))
}

// retryCommand is the command line that reruns the rows of a report that
// are not ok.
func retryCommand(reportPath string, meta report.Meta) string {
	return commandLine("run", meta, "--retry-failed", shellQuote(reportPath))
}

// resumeCommand is the command line that continues the run of a report;
// it names the report unless it is the input's default (a retry's report,
// changes.retry1.report.csv, is not: resuming without it would resume
// the report retried).
func resumeCommand(verb, reportPath string, meta report.Meta) string {
	tail := []string{"--resume"}
	if meta.Input == "" || meta.Input == "-" || reportPath != report.DefaultPath(meta.Input, formatOr(meta.Format)) {
		tail = append(tail, "--report", shellQuote(reportPath))
	}
	return commandLine(verb, meta, tail...)
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
	words := []string{"ensbulk", verb, shellQuote(input)}
	if byExt, err := reader.DetectFormat(input, ""); meta.InputFormat != "" && (err != nil || string(byExt) != meta.InputFormat) {
		words = append(words, "--format", shellQuote(meta.InputFormat))
	}
	if meta.InputFormat == string(reader.CSV) {
		if d, err := parseDelimiter(meta.Delimiter); err == nil && d != ',' {
			words = append(words, "--delimiter", shellQuote(meta.Delimiter))
		}
		if meta.EmptyToken != "" && meta.EmptyToken != reader.DefaultEmptyToken {
			words = append(words, "--empty-token", shellQuote(meta.EmptyToken))
		}
	}
	if meta.Format != "" && meta.Format != report.CSV {
		words = append(words, "--report-format", string(meta.Format))
	}
	return strings.Join(append(words, tail...), " ")
}

func formatOr(f report.Format) report.Format {
	if f == "" {
		return report.CSV
	}
	return f
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./:=@%+,-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
