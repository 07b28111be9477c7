package job

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/report/resume"
)

// Dialect is how ensbulk reads an input, for package resume (which does
// not import the reader): a change of a setting that means the same (tab
// spelled two ways) is not a change.
func Dialect() resume.Dialect {
	return resume.Dialect{CSV: string(reader.CSV), ParseDelimiter: parseDelimiter}
}

// decideRun decides, from the report at reportPath, which rows this run
// handles (see package resume); want is the sidecar a new report of this
// invocation has, which a resume compares with the report's own. A
// refusal is put into words (resumewords.go).
func decideRun(in *input, o *Options, reportPath string, rf report.Format, id undo.Identity) (p *resume.Plan, want report.Meta, err error) {
	mode := "run"
	if o.Validate {
		mode = "validate"
	}
	if o.Plan {
		mode = "plan"
	}
	// The retried report's sidecar is read once: for the undo file the
	// retry adds to, and for Decide.
	var retried *resume.Sidecar
	if o.RetryFailed != "" {
		retried = resume.ReadSidecar(o.RetryFailed)
	}
	read, undoPath, err := undoSettings(o, in, reportPath, retried)
	if err != nil {
		return nil, want, err
	}
	want = report.Meta{
		Version: 1, Input: in.path, InputSHA256: in.sha256, InputFormat: string(in.opts.Format),
		EmptyToken: o.EmptyToken, Delimiter: o.Delimiter, Mode: mode, Started: o.now().UTC(), Format: rf,
		Switch: id.Switch, User: id.User, Customer: id.Customer, Read: read, Undo: undoPath,
	}
	stageMeta(&want, o, in)
	open := in.opener()
	p, err = resume.Decide(resume.Config{
		Report: reportPath,
		Meta:   want,
		Resume: o.Resume, Force: o.Force, Rotate: o.Rotate, Keep: o.Keep, RetryFailed: o.RetryFailed, Retried: retried,
		Companions: undoCompanions(undoPath),
		Open: func() (batch.Source, io.Closer, error) {
			src, c, err := open()
			var fe *reader.FileError
			if errors.As(err, &fe) {
				err = fmt.Errorf("%w (nothing was sent)", err)
			}
			return src, c, err
		},
		Dialect:     Dialect(),
		Reuse:       validateReport(in, o, mode),
		ReuseMaxAge: validationReuseAge, AllOrNothing: o.AllOrNothing,
	})
	return p, want, sayResume(err)
}

// validationReuseAge is how long after a validate run a run of the same,
// unchanged input takes over its results instead of validating again.
// validate-then-run is one sitting; a day later the server may answer
// otherwise, and validating again costs one request per row.
const validationReuseAge = 24 * time.Hour

// validateReport is the default report of a validate run of the input,
// whose results a run may take over (in either report format; "" when
// there is none to take).
func validateReport(in *input, o *Options, mode string) string {
	if mode != "run" || o.RetryFailed != "" || in.path == "-" {
		return ""
	}
	rf, _ := report.ParseFormat(o.ReportFormat)
	for _, f := range []report.Format{rf, report.CSV, report.JSONL} {
		p := report.DefaultPathFor(in.path, "validate", f)
		if _, err := os.Lstat(report.MetaPath(p)); err == nil {
			return p
		}
	}
	return ""
}
