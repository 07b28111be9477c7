package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// dialect is how this command reads an input, for package resume (which
// does not import the reader).
func dialect() resume.Dialect {
	return resume.Dialect{
		CSV: string(reader.CSV),
		FormatOf: func(name string) string {
			f, err := reader.DetectFormat(name, "")
			if err != nil {
				return ""
			}
			return string(f)
		},
		ParseDelimiter:    parseDelimiter,
		DefaultDelimiter:  ',',
		DefaultEmptyToken: reader.DefaultEmptyToken,
	}
}

// planRun decides, from the report at reportPath, which rows this run
// handles (see package resume).
func planRun(in *input, o *runOptions, reportPath string, rf report.Format) (*resume.Plan, error) {
	mode := "run"
	if o.validate {
		mode = "validate"
	}
	if o.plan {
		mode = "plan"
	}
	open := in.opener()
	return resume.Decide(resume.Config{
		Report: reportPath,
		Meta: report.Meta{
			Version: 1, Input: in.path, InputSHA256: in.sha256, InputFormat: string(in.opts.Format),
			EmptyToken: o.emptyToken, Delimiter: o.delimiter, Mode: mode, Started: o.now().UTC(), Format: rf,
		},
		Resume: o.resume, Force: o.force, RetryFailed: o.retryFailed,
		Open: func() (batch.Source, io.Closer, error) {
			src, c, err := open()
			var fe *reader.FileError
			if errors.As(err, &fe) {
				err = fmt.Errorf("%w (nothing was sent)", err)
			}
			return src, c, err
		},
		Dialect: dialect(),
	})
}

// retryAdvice is what the summary of a report with notOK rows that are
// not ok tells the operator to run next.
func retryAdvice(reportPath string, meta report.Meta, haveMeta bool, notOK int) string {
	return resume.RetryAdvice(reportPath, meta, haveMeta, notOK, dialect())
}

// retryCommand is the command line that reruns the rows of a report that
// are not ok.
func retryCommand(reportPath string, meta report.Meta) string {
	return resume.RetryCommand(reportPath, meta, dialect())
}

// resumeCommand is the command line that continues the run of a report.
func resumeCommand(verb, reportPath string, meta report.Meta) string {
	return resume.ResumeCommand(verb, reportPath, meta, dialect())
}
