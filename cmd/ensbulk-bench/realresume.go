package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// realResume measures 8f: the resume of a report made by a real stopped
// run, not a synthesised one. A run of n rows with a read before each
// update (`--read get`: its validations journaled in the report, an undo
// journal entry a row) is stopped by --max-rows with b.sz.notOK rows
// left; then `run --resume` applies those. The stub server serves both,
// so the report and the undo journal belong to its switch. Each round
// starts from a copy of the stopped run's files (a resume rewrites them).
func (b *bench) realResume(ctx context.Context, n int, limit time.Duration) ([]tableRow, error) {
	if b.opts.tailFrom != "" {
		return b.keptResume(ctx, n, limit)
	}
	stub, err := startStub()
	if err != nil {
		return nil, err
	}
	defer stub.close()
	s, err := b.stoppedRun(ctx, stub, n, limit)
	if err != nil {
		return nil, err
	}
	if b.opts.keep {
		// -tail-from serves it again from the same address: the files
		// belong to that switch.
		if err := os.WriteFile(filepath.Join(s.pristine, "stub-url"), []byte(stub.url), 0o600); err != nil {
			return nil, err
		}
	}
	return b.resumeRounds(ctx, stub, s, n, limit)
}

// keptResume measures the resume of the stopped run of an earlier -keep
// (-tail-from DIR), served by a stub on its address again.
func (b *bench) keptResume(ctx context.Context, n int, limit time.Duration) ([]tableRow, error) {
	dir := b.opts.tailFrom
	url, err := os.ReadFile(filepath.Join(dir, "pristine", "stub-url"))
	if err != nil {
		return nil, fmt.Errorf("-tail-from: %w (made by `-only tail -keep` of this version?)", err)
	}
	stub, err := startStubAt(strings.TrimPrefix(string(url), "http://"))
	if err != nil {
		return nil, err
	}
	defer stub.close()
	b.dir = dir
	s, err := b.stoppedFiles(n)
	if err != nil {
		return nil, err
	}
	if err := s.measure(); err != nil {
		return nil, fmt.Errorf("-tail-from: %w", err)
	}
	return b.resumeRounds(ctx, stub, s, n, limit)
}

// resumeRounds resumes s b.sz.resumeReps times and makes row 8f.
func (b *bench) resumeRounds(ctx context.Context, stub *stubServer, s *stopped, n int, limit time.Duration) ([]tableRow, error) {
	if !b.opts.keep && b.opts.tailFrom == "" {
		defer s.remove()
	}
	var total, firstReq, rss series
	for round := range b.sz.resumeReps {
		r, err := s.resume(ctx, b, stub, round, limit)
		if err != nil {
			return nil, err
		}
		total, firstReq, rss = append(total, r.res.wall.Seconds()), append(firstReq, r.firstAfter().Seconds()), append(rss, float64(r.res.maxRSS)/(1<<20))
		b.logf("  %s wall, first request after %s, peak RSS %.1f MiB", r.res.wall.Round(time.Millisecond), r.firstAfter().Round(time.Millisecond), float64(r.res.maxRSS)/(1<<20))
	}
	t := up(total.median(), 2)
	return []tableRow{{
		id: "8f",
		measurement: fmt.Sprintf("Resume of a real stopped run, total: process start to exit, `run --resume` of a %s-row `run --read get` stopped by `--max-rows` with %s rows left (validations journaled, an undo journal entry a row; %s)",
			thousands(n), thousands(s.left), s.sizes),
		figure: fmt.Sprintf("%.2f s median (%s; first request after %.2f s, peak RSS %.1f MiB; %s requests)",
			t, total.spreadBy("%.2f", up, 2), firstReq.median(), rss.max(), thousands(2*s.left+1)),
		goal: "≤ 3 s",
		met:  t <= 3,
	}}, nil
}

// stopped is the run a resume carries on: its input, its files, and
// copies of them as the stop left them.
type stopped struct {
	input, pristine string
	files           []string // report, sidecar, undo file, undo journal
	common          []string // the flags both invocations share
	left            int      // rows the stop left
	sizes           string   // the files' sizes, for the table
}

// stoppedRun makes the run to resume against stub: n rows, stopped by
// --max-rows with b.sz.notOK left, exit 5.
func (b *bench) stoppedRun(ctx context.Context, stub *stubServer, n int, limit time.Duration) (*stopped, error) {
	s, err := b.stoppedFiles(n)
	if err != nil {
		return nil, err
	}
	path := s.input
	b.logf("ensbulk run --read get --max-rows %d: %d rows against the stub (the run to resume), bound %s", n-s.left, n, limit)
	args := append([]string{"run", path, "--max-rows", strconv.Itoa(n - s.left)}, s.common...)
	res, err := runProc(ctx, procSpec{bin: b.bin, args: args, url: stub.url, limit: limit, maxRSS: b.sz.rssCap})
	if err != nil {
		return nil, err
	}
	if res.stopped != "" || res.code != 5 {
		return nil, fmt.Errorf("ensbulk %v: exit %d (want 5, stopped by --max-rows), bound %q\n%s", args, res.code, res.stopped, res.tail())
	}
	// Each invocation's preflight reads the first row's mailbox once more.
	if err := stub.check(n, n-s.left+1, n-s.left); err != nil {
		return nil, fmt.Errorf("the run to resume: %w", err)
	}
	b.logf("  %s wall", res.wall.Round(time.Millisecond))
	if err := os.MkdirAll(s.pristine, 0o700); err != nil {
		return nil, err
	}
	for _, f := range s.files {
		if err := copyFile(f, s.copyOf(f)); err != nil {
			return nil, err
		}
	}
	return s, s.measure()
}

// measure says the sizes of the stopped run's files, for the table.
func (s *stopped) measure() error {
	s.sizes = ""
	for i, f := range s.files {
		st, err := os.Stat(s.copyOf(f))
		if err != nil {
			return err
		}
		if i > 0 {
			s.sizes += ", "
		}
		s.sizes += fmt.Sprintf("%s %.0f MB", filepath.Base(f), float64(st.Size())/1e6)
	}
	return nil
}

// stoppedFiles names the files of the stopped run of n rows in b.dir
// (and writes its input when it is not there).
func (b *bench) stoppedFiles(n int) (*stopped, error) {
	path, err := writeSynthetic(b.dir, n)
	if err != nil {
		return nil, err
	}
	rep := filepath.Join(b.dir, fmt.Sprintf("real-%d.report.csv", n))
	undo := rep[:len(rep)-len(".csv")] + ".undo.jsonl"
	return &stopped{input: path, pristine: filepath.Join(b.dir, "pristine"), left: b.sz.notOK,
		files:  []string{rep, rep + ".meta.json", undo, undo + ".journal"},
		common: []string{"--read", "get", "--rate", "0", "--workers", strconv.Itoa(b.sz.workers), "--progress", "none", "--report", rep}}, nil
}

func (s *stopped) copyOf(f string) string { return filepath.Join(s.pristine, filepath.Base(f)) }

// resume puts the stopped run's files back and runs `run --resume`.
func (s *stopped) resume(ctx context.Context, b *bench, stub *stubServer, round int, limit time.Duration) (scaleResult, error) {
	for _, f := range s.files {
		if err := copyFile(s.copyOf(f), f); err != nil {
			return scaleResult{}, err
		}
	}
	stub.reset()
	args := append([]string{"run", s.input, "--resume"}, s.common...)
	args = append(args, b.profileArgs(fmt.Sprintf("real-resume-%d", round))...)
	b.logf("ensbulk run --resume of the stopped run: %d rows left, bound %s", s.left, limit)
	res, err := runProc(ctx, procSpec{bin: b.bin, args: args, url: stub.url, limit: limit, maxRSS: b.sz.rssCap})
	if err != nil {
		return scaleResult{}, err
	}
	if res.stopped != "" || res.code != 0 {
		return scaleResult{}, fmt.Errorf("ensbulk %v: exit %d, bound %q\n%s", args, res.code, res.stopped, res.tail())
	}
	if err := stub.check(0, s.left+1, s.left); err != nil {
		return scaleResult{}, fmt.Errorf("the resume: %w", err)
	}
	first, last := stub.span()
	return scaleResult{res: res, first: first, last: last, requests: stub.requests.Load()}, nil
}

func (s *stopped) remove() {
	for _, f := range s.files {
		os.Remove(f)
		os.Remove(s.copyOf(f))
	}
	os.Remove(s.input)
}
