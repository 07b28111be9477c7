package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
	path, err := writeSynthetic(b.dir, n)
	if err != nil {
		return nil, err
	}
	stub, err := startStub()
	if err != nil {
		return nil, err
	}
	defer stub.close()
	left := b.sz.notOK
	rep := filepath.Join(b.dir, fmt.Sprintf("real-%d.report.csv", n))
	undo := rep[:len(rep)-len(".csv")] + ".undo.jsonl"
	files := []string{rep, rep + ".meta.json", undo, undo + ".journal"}
	common := []string{"--read", "get", "--rate", "0", "--workers", strconv.Itoa(b.sz.workers), "--progress", "none", "--report", rep}

	b.logf("ensbulk run --read get --max-rows %d: %d rows against the stub (the run to resume), bound %s", n-left, n, limit)
	args := append([]string{"run", path, "--max-rows", strconv.Itoa(n - left)}, common...)
	res, err := runProc(ctx, procSpec{bin: b.bin, args: args, url: stub.url, limit: limit, maxRSS: b.sz.rssCap})
	if err != nil {
		return nil, err
	}
	if res.stopped != "" || res.code != 5 {
		return nil, fmt.Errorf("ensbulk %v: exit %d (want 5, stopped by --max-rows), bound %q\n%s", args, res.code, res.stopped, res.tail())
	}
	// Each invocation's preflight reads the first row's mailbox once more.
	if v, r, a := stub.validated.Load(), stub.read.Load(), stub.applied.Load(); v != int64(n) || r != int64(n-left+1) || a != int64(n-left) {
		return nil, fmt.Errorf("the run to resume: the stub saw %d validated, %d read, %d applied; want %d, %d, %d", v, r, a, n, n-left+1, n-left)
	}
	b.logf("  %s wall", res.wall.Round(time.Millisecond))
	sizes := ""
	pristine := filepath.Join(b.dir, "pristine")
	if err := os.MkdirAll(pristine, 0o700); err != nil {
		return nil, err
	}
	for i, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		sizes += fmt.Sprintf("%s%s %.0f MB", map[bool]string{true: "", false: ", "}[i == 0], filepath.Base(f), float64(st.Size())/1e6)
		if err := copyFile(f, filepath.Join(pristine, filepath.Base(f))); err != nil {
			return nil, err
		}
	}

	var total, firstReq, rss series
	for round := range b.sz.resumeReps {
		for _, f := range files {
			if err := copyFile(filepath.Join(pristine, filepath.Base(f)), f); err != nil {
				return nil, err
			}
		}
		stub.reset()
		args := append([]string{"run", path, "--resume"}, common...)
		args = append(args, b.profileArgs(fmt.Sprintf("real-resume-%d", round))...)
		b.logf("ensbulk run --resume of the stopped run: %d rows left, bound %s", left, limit)
		res, err := runProc(ctx, procSpec{bin: b.bin, args: args, url: stub.url, limit: limit, maxRSS: b.sz.rssCap})
		if err != nil {
			return nil, err
		}
		if res.stopped != "" || res.code != 0 {
			return nil, fmt.Errorf("ensbulk %v: exit %d, bound %q\n%s", args, res.code, res.stopped, res.tail())
		}
		if v, r, a := stub.validated.Load(), stub.read.Load(), stub.applied.Load(); v != 0 || r != int64(left+1) || a != int64(left) {
			return nil, fmt.Errorf("the resume: the stub saw %d validated, %d read, %d applied; want 0, %d, %d", v, r, a, left+1, left)
		}
		first, _ := stub.span()
		total, firstReq, rss = append(total, res.wall.Seconds()), append(firstReq, first.Sub(res.start).Seconds()), append(rss, float64(res.maxRSS)/(1<<20))
		b.logf("  %s wall, first request after %s, peak RSS %.1f MiB", res.wall.Round(time.Millisecond), first.Sub(res.start).Round(time.Millisecond), float64(res.maxRSS)/(1<<20))
	}
	for _, f := range files {
		os.Remove(f)
		os.Remove(filepath.Join(pristine, filepath.Base(f)))
	}
	t := up(total.median(), 2)
	return []tableRow{{
		id: "8f",
		measurement: fmt.Sprintf("Resume of a real stopped run, total: process start to exit, `run --resume` of a %s-row `run --read get` stopped by `--max-rows` with %s rows left (validations journaled, an undo journal entry a row; %s)",
			thousands(n), thousands(left), sizes),
		figure: fmt.Sprintf("%.2f s median (%s; first request after %.2f s, peak RSS %.1f MiB; %s requests)",
			t, total.spreadBy("%.2f", up, 2), firstReq.median(), rss.max(), thousands(2*left+1)),
		goal: "≤ 3 s",
		met:  t <= 3,
	}}, nil
}
