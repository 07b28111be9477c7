package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

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
	_, statErr := os.Stat(reportPath)
	exists := statErr == nil
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return nil, usageErr("report %s: %v", reportPath, statErr)
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
		return nil, usageErr("report %s already exists: pass --resume to continue that run, or --report PATH to start a new report", reportPath)
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
	var diffs []string
	if meta.InputSHA256 != in.sha256 {
		diffs = append(diffs, fmt.Sprintf("the input's content (sha256 %.12s… then, %.12s… now)", meta.InputSHA256, in.sha256))
	}
	if meta.InputFormat != string(in.opts.Format) {
		diffs = append(diffs, fmt.Sprintf("--format (%s then, %s now)", meta.InputFormat, in.opts.Format))
	}
	if meta.EmptyToken != o.emptyToken {
		diffs = append(diffs, fmt.Sprintf("--empty-token (%q then, %q now)", meta.EmptyToken, o.emptyToken))
	}
	if meta.Delimiter != o.delimiter {
		diffs = append(diffs, fmt.Sprintf("--delimiter (%q then, %q now)", meta.Delimiter, o.delimiter))
	}
	if len(diffs) > 0 && !o.force {
		return usageErr("cannot resume %s: changed since the report was started: %s; pass --force to redo every changed row, or --report PATH to start a new report", reportPath, joinAnd(diffs))
	}
	if meta.Mode != p.meta.Mode {
		return usageErr("cannot resume %s: it is the report of a %q run, not %q", reportPath, meta.Mode, p.meta.Mode)
	}
	if meta.Format != "" && meta.Format != rf {
		return usageErr("cannot resume %s: it is a %s report; pass --report-format %s", reportPath, meta.Format, meta.Format)
	}
	latest, _, err := report.Latest(reportPath)
	if err != nil {
		return usageErr("cannot resume: %v", err)
	}
	p.meta = meta
	p.resuming = true
	// A row is redone unless its outcome is final and its content
	// unchanged; once a row of a mailbox is redone, every later row of
	// that mailbox is redone too, so they are applied after it again.
	return p.selectRows(in, func(r *batch.Row) (redo bool, err error) {
		rec, ok := latest[r.Num]
		if !ok {
			return true, nil
		}
		if rec.Mailbox != r.Mailbox && !o.force {
			return false, usageErr("cannot resume %s: row %d is mailbox %q in the input but %q in the report", reportPath, r.Num, r.Mailbox, rec.Mailbox)
		}
		return !batch.Status(rec.Status).Done() || rec.Hash != r.Hash, nil
	}, nil)
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
	return p.selectRows(in, func(r *batch.Row) (bool, error) {
		rec, ok := latest[r.Num]
		if !ok {
			return true, nil
		}
		if rec.Mailbox != r.Mailbox {
			return false, usageErr("--retry-failed %s: row %d is mailbox %q in the input but %q in the report: the input does not match the report", o.retryFailed, r.Num, r.Mailbox, rec.Mailbox)
		}
		return rec.Status != string(batch.StatusOK), nil
	}, func(r *batch.Row) {
		if rec, ok := latest[r.Num]; ok {
			rec.Line = r.Line
			p.seeds = append(p.seeds, rec)
		}
	})
}

// selectRows reads the input once and decides, in file order, which rows
// this run redoes; keep is called for the rows it does not.
func (p *runPlan) selectRows(in *input, redo func(*batch.Row) (bool, error), keep func(*batch.Row)) error {
	src, c, err := in.opener()()
	if err != nil {
		var fe *reader.FileError
		if errors.As(err, &fe) {
			return &exitError{code: exitUsage, err: fmt.Errorf("%w (nothing was sent)", err)}
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
			return &exitError{code: exitUsage, err: fmt.Errorf("%w (nothing was sent)", err)}
		}
		do := dirty[r.Key()]
		if !do {
			if do, err = redo(&r); err != nil {
				return err
			}
		}
		if do {
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
