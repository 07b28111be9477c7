package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/snapshot"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
)

// writeReport writes, for the input at path (rows rows), the report and
// sidecar that an earlier `ensbulk run` of it would have left: every row
// ok except notOK rows spread evenly through the file (row k·rows/notOK),
// alternately error (retries exhausted) and skipped (never attempted).
// That is both an interrupted run's report for --resume and a finished
// one for --retry-failed.
//
// It is written through the product's own reader (row hashes) and report
// encoder, in seconds where producing it by a run would take 2 requests a
// row. If ensbulk stops accepting it, the resume measurement fails on the
// simulator's count of requests, not silently. It returns the rows that
// are not ok (0-based indices, as benchWorldOf takes).
func writeReport(path string, rows, notOK int, reportPath string) ([]int, error) {
	sum, err := snapshot.HashFile(path)
	if err != nil {
		return nil, err
	}
	// The sidecar as cmd/ensbulk writes it for `run FILE` with the
	// default flags.
	meta := report.Meta{
		Version: 1, Input: path, InputSHA256: sum, InputFormat: string(reader.CSV),
		EmptyToken: reader.DefaultEmptyToken, Delimiter: ",", Mode: "run",
		Started: time.Now().UTC().Add(-time.Hour), Format: report.CSV,
	}
	r, c, err := reader.Open(path, reader.Options{Name: path, Format: reader.CSV, EmptyToken: reader.DefaultEmptyToken})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	f, err := os.Create(reportPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	enc, err := report.NewEncoder(bw, report.CSV, true)
	if err != nil {
		return nil, err
	}
	every := max(rows/notOK, 1)
	var todo []int
	for i := 0; ; i++ {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		res := batch.Result{
			Row: row.Num, Line: row.Line, Mailbox: row.Mailbox, Customer: row.Customer,
			Status: batch.StatusOK, Phase: batch.PhaseApply, Code: "204", Message: "OK",
			Attempts: 1, Duration: 3 * time.Millisecond, Fields: row.Fields(), Hash: row.Hash,
		}
		if (i+1)%every == 0 && len(todo) < notOK {
			if len(todo)%2 == 0 {
				// Failed in validation: a resume validates it again (a row
				// that failed in its apply would go straight to the apply).
				res.Status, res.Phase, res.Code, res.Message, res.Attempts = batch.StatusError, batch.PhaseValidate, "", "Post: context deadline exceeded", 4
			} else {
				res.Status, res.Phase, res.Code, res.Message, res.Attempts, res.Duration = batch.StatusSkipped, batch.PhaseNone, "", "interrupted", 0, 0
			}
			todo = append(todo, i)
		}
		if err := enc.Encode(report.FromResult(res)); err != nil {
			return nil, err
		}
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if len(todo) != notOK {
		return nil, fmt.Errorf("report of %s: %d rows not ok, want %d", path, len(todo), notOK)
	}
	return todo, report.WriteMeta(reportPath, meta)
}

// copyFile copies src to dst (a fresh report for each round: a resume
// rewrites its report).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// On disk before the measured process starts: a resume comes long
	// after its stop, not while the kernel still writes the files back
	// (their write-back would compete with the resume's own).
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// bindReport makes the synthetic report at path one of the switch at url
// and the bench's user, as a run against it would have recorded: a
// resume or retry of a report of another switch is refused.
func bindReport(path, url string) error {
	m, err := report.ReadMeta(path)
	if err != nil {
		return err
	}
	m.Switch, m.User, m.Read = enswitch.SwitchID(url), simUser, "none"
	return report.WriteMeta(path, m)
}
