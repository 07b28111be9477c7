package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// The scale measurements (7, 8) run ensbulk over a million rows (and ten
// million in a full run): the peak RSS of run, --resume and
// --retry-failed, how soon a resume sends its first request, and the
// serial tail after a run's last request. Each process is bounded in time
// (the row then says how far it got) and in resident size (sizes.rssCap:
// a process that passes it is stopped before it takes the shared
// machine's memory).

// scaleResult is one bounded ensbulk process of a scale measurement.
type scaleResult struct {
	res         procResult
	first, last time.Time // first and last request at the server
	requests    int64
}

// firstAfter is the time from process start to the first request.
func (s scaleResult) firstAfter() time.Duration { return s.first.Sub(s.res.start) }

// tail is the time from the last request at the server to process exit.
func (s scaleResult) tail() time.Duration { return s.res.start.Add(s.res.wall).Sub(s.last) }

// stoppedNote says how a process stopped at a bound got there.
func (b *bench) stoppedNote(r scaleResult, limit time.Duration, want int64) string {
	switch r.res.stopped {
	case "time":
		return fmt.Sprintf("; **stopped at its %s time bound**, %s of %s requests sent: not finished, so not met", limit, thousands(int(r.requests)), thousands(int(want)))
	case "rss":
		return fmt.Sprintf("; **stopped when it passed %s MiB resident**, %s of %s requests sent", thousands(int(b.sz.rssCap>>20)), thousands(int(r.requests)), thousands(int(want)))
	}
	return ""
}

// scaleRun measures `run --rate 0` of n rows against the stub server.
func (b *bench) scaleRun(ctx context.Context, n int, limit time.Duration) (scaleResult, error) {
	b.logf("writing %d synthetic rows", n)
	path, err := writeSynthetic(b.dir, n)
	if err != nil {
		return scaleResult{}, err
	}
	stub, err := startStub()
	if err != nil {
		return scaleResult{}, err
	}
	defer stub.close()
	b.logf("ensbulk run --rate 0: %d rows against the stub, bound %s", n, limit)
	name := fmt.Sprintf("scale-run-%d", n)
	args := []string{"run", path, "--no-read", "--rate", "0", "--workers", strconv.Itoa(b.sz.workers), "--progress", "none",
		"--report", filepath.Join(b.dir, name+".report.csv")}
	args = append(args, b.profileArgs(name)...)
	res, err := runProc(ctx, procSpec{bin: b.bin, args: args, url: stub.url, limit: limit, maxRSS: b.sz.rssCap})
	if err != nil {
		return scaleResult{}, err
	}
	first, last := stub.span()
	out := scaleResult{res: res, first: first, last: last, requests: stub.requests.Load()}
	if res.stopped == "" {
		if res.code != 0 {
			return out, fmt.Errorf("ensbulk %v: exit %d\n%s", args, res.code, res.tail())
		}
		if v, a := stub.validated.Load(), stub.applied.Load(); v != int64(n) || a != int64(n) {
			return out, fmt.Errorf("ensbulk run of %d rows: the stub saw %d validated, %d applied", n, v, a)
		}
	}
	b.logf("  %s wall, peak RSS %.1f MiB, tail %s, stopped %q", res.wall.Round(time.Millisecond), float64(res.maxRSS)/(1<<20), out.tail().Round(time.Millisecond), res.stopped)
	os.Remove(filepath.Join(b.dir, name+".report.csv"))
	return out, nil
}

// resumeSetup writes the n-row input and its report with b.sz.notOK rows
// to redo; it returns the input, the report and those rows.
func (b *bench) resumeSetup(n int) (path, rep string, todo []int, err error) {
	b.logf("writing %d synthetic rows and their report", n)
	if path, err = writeSynthetic(b.dir, n); err != nil {
		return
	}
	rep = filepath.Join(b.dir, fmt.Sprintf("resume-%d.base.report.csv", n))
	todo, err = writeReport(path, n, b.sz.notOK, rep)
	return
}

// resumeRun runs `run --resume` (retry false) or `run --retry-failed`
// (retry true) over the prepared report, against a simulator that holds
// just the rows to redo, and checks that exactly those were validated and
// applied.
func (b *bench) resumeRun(ctx context.Context, path, base string, todo []int, retry bool, round int, limit time.Duration) (scaleResult, error) {
	sim, err := startSimWorld(benchWorldOf(todo), len(todo), simulator.Faults{}, nil)
	if err != nil {
		return scaleResult{}, err
	}
	defer sim.close()
	verb := "resume"
	if retry {
		verb = "retry"
	}
	name := fmt.Sprintf("%s-%d-%d", verb, len(todo), round)
	rep := filepath.Join(b.dir, name+".report.csv")
	args := []string{"run", path, "--no-read", "--rate", "0", "--workers", strconv.Itoa(b.sz.workers), "--progress", "none", "--report", rep}
	if retry {
		// The earlier run was made against this switch: each round's
		// simulator listens on a port of its own.
		if err := bindReport(base, sim.url); err != nil {
			return scaleResult{}, err
		}
		args = append(args, "--retry-failed", base)
	} else {
		// A resume rewrites its report: each round gets a fresh copy.
		if err := copyFile(base, rep); err != nil {
			return scaleResult{}, err
		}
		if err := copyFile(base+".meta.json", rep+".meta.json"); err != nil {
			return scaleResult{}, err
		}
		if err := bindReport(rep, sim.url); err != nil {
			return scaleResult{}, err
		}
		args = append(args, "--resume")
	}
	args = append(args, b.profileArgs(name)...)
	b.logf("ensbulk run --%s: %d rows to redo, bound %s", map[bool]string{false: "resume", true: "retry-failed"}[retry], len(todo), limit)
	res, err := runProc(ctx, procSpec{bin: b.bin, args: args, url: sim.url, limit: limit, maxRSS: b.sz.rssCap})
	if err != nil {
		return scaleResult{}, err
	}
	first, last := sim.span()
	out := scaleResult{res: res, first: first, last: last, requests: sim.requests.Load()}
	defer os.Remove(rep)
	if res.stopped != "" {
		return out, nil
	}
	if res.code != 0 {
		return out, fmt.Errorf("ensbulk %v: exit %d\n%s", args, res.code, res.tail())
	}
	if err := sim.checkAll(len(todo)); err != nil {
		return out, fmt.Errorf("ensbulk --%s of a %s-row report with %d rows to redo: %w", verb, thousands(len(todo)), len(todo), err)
	}
	b.logf("  %s wall, first request after %s, peak RSS %.1f MiB", res.wall.Round(time.Millisecond), out.firstAfter().Round(time.Millisecond), float64(res.maxRSS)/(1<<20))
	return out, nil
}

// scale measures 7 and 8 at size n: 7a-7c (run, resume, retry) at the
// first size, 7d-7f at the big one, 8a-8e at the first size only.
func (b *bench) scale(ctx context.Context, n int, big bool, limit time.Duration) ([]tableRow, error) {
	goal, id := 64.0, byte('a')
	if big {
		goal, id = 128, 'd'
	}
	size := thousands(n)
	var out []tableRow

	// 7x-run: peak RSS of run --rate 0, and its serial tail.
	var rss, tail series
	var note string
	var floor int64
	for range b.sz.scaleRunReps {
		r, err := b.scaleRun(ctx, n, limit)
		if err != nil {
			return nil, err
		}
		rss, floor = append(rss, float64(r.res.maxRSS)), max(floor, r.res.rssFloor)
		if note = b.stoppedNote(r, limit, 2*int64(n)); note != "" {
			break
		}
		tail = append(tail, r.tail().Seconds())
	}
	row := rssRow(fmt.Sprintf("7%c", id), fmt.Sprintf("Peak RSS of `run --rate 0` (%d workers) at %s rows, against a stateless stub server", b.sz.workers, size), rss, floor, goal, note)
	row.met = row.met && note == ""
	out = append(out, row)
	if !big {
		t := tableRow{id: "8c", measurement: fmt.Sprintf("Serial tail: process exit − last request at the server, `run --rate 0` of %s rows", size), goal: "≤ 1 s"}
		if len(tail) == 0 {
			t.figure = "0 s: not measured (the run did not finish" + note + ")"
		} else {
			v := up(tail.median(), 2)
			t.figure, t.met = fmt.Sprintf("%.2f s median (%s)", v, tail.spreadBy("%.2f", up, 2)), v <= 1
		}
		out = append(out, t)
	}

	// 7x-resume, 7x-retry, 8a, 8b.
	path, base, todo, err := b.resumeSetup(n)
	if err != nil {
		return nil, err
	}
	reps := b.sz.resumeReps
	if big {
		reps = 1
	}
	for k, retry := range []bool{false, true} {
		var rss, firstReq, total series
		var note string
		var floor int64
		for round := range reps {
			r, err := b.resumeRun(ctx, path, base, todo, retry, round, limit)
			if err != nil {
				return nil, err
			}
			rss, floor = append(rss, float64(r.res.maxRSS)), max(floor, r.res.rssFloor)
			if note = b.stoppedNote(r, limit, 2*int64(len(todo))); note != "" {
				break
			}
			firstReq, total = append(firstReq, r.firstAfter().Seconds()), append(total, r.res.wall.Seconds())
		}
		flag := "--resume"
		if retry {
			flag = "--retry-failed"
		}
		what := fmt.Sprintf("`run %s` over a %s-row report with %s rows ok and %s error/skipped (spread evenly)", flag, size, thousands(n-len(todo)), thousands(len(todo)))
		row := rssRow(fmt.Sprintf("7%c", id+1+byte(k)), "Peak RSS of "+what, rss, floor, goal, note)
		row.met = row.met && note == ""
		out = append(out, row)
		if big {
			continue
		}
		// 8a/8b for the resume, 8d/8e for the retry (8c is the tail).
		verb, ids := "Resume", [2]string{"8a", "8b"}
		if retry {
			verb, ids = "Retry", [2]string{"8d", "8e"}
		}
		fr := tableRow{id: ids[0], measurement: verb + ", time to first request: first update at the server − process start, " + what, goal: "≤ 2 s"}
		tt := tableRow{id: ids[1], measurement: fmt.Sprintf("%s, total: process start to exit, same %s (%s requests)", verb, strings.ToLower(verb), thousands(2*len(todo))), goal: "≤ 5 s"}
		if len(firstReq) == 0 {
			fr.figure = "0 s: not measured (the " + strings.ToLower(verb) + " did not finish" + note + ")"
			tt.figure = fr.figure
		} else {
			f, t := up(firstReq.median(), 2), up(total.median(), 2)
			fr.figure, fr.met = fmt.Sprintf("%.2f s median (%s)", f, firstReq.spreadBy("%.2f", up, 2)), f <= 2
			tt.figure, tt.met = fmt.Sprintf("%.2f s median (%s)", t, total.spreadBy("%.2f", up, 2)), t <= 5
		}
		out = append(out, fr, tt)
	}
	os.Remove(path)
	os.Remove(base)
	return out, nil
}
