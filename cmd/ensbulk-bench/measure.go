package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// series is one figure's values over the rounds.
type series []float64

func (s series) median() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s series) min() float64 { return slices.Min(s) }
func (s series) max() float64 { return slices.Max(s) }

// spread is "lo–hi, N rounds" with format f for the numbers.
func (s series) spread(f string) string {
	return fmt.Sprintf(f+"–"+f+", %s", s.min(), s.max(), rounds(len(s)))
}

// spreadBy is spread with each end rounded by round first, as the
// median shown beside it is (a range must hold its median).
func (s series) spreadBy(f string, round func(float64, int) float64, digits int) string {
	return fmt.Sprintf(f+"–"+f+", %s", round(s.min(), digits), round(s.max(), digits), rounds(len(s)))
}

func rounds(n int) string {
	if n == 1 {
		return "1 round"
	}
	return fmt.Sprintf("%d rounds", n)
}

// tool is what a round measures besides ensbulk.
type toolRun struct {
	res  procResult
	reqs int64 // requests the server saw
}

// perReq is the process's CPU per request, in µs.
func (t toolRun) perReq() float64 {
	if t.reqs == 0 {
		return math.NaN()
	}
	return float64(t.res.cpu.Microseconds()) / float64(t.reqs)
}

// rate is requests per second, process start to exit.
func (t toolRun) rate() float64 { return float64(t.reqs) / t.res.wall.Seconds() }

// ensbulkRun runs `ensbulk run path` against a fresh simulator with the
// given workers and rate and checks that every row was validated and
// applied once.
func (b *bench) ensbulkRun(ctx context.Context, name, path string, rows, workers int, rate float64, rec *arrivals, extra ...string) (toolRun, *simServer, error) {
	return b.ensbulkRunRead(ctx, name, path, rows, workers, rate, rec, "none", extra...)
}

// ensbulkRunRead is ensbulkRun with the given --read mode (none: --no-read).
func (b *bench) ensbulkRunRead(ctx context.Context, name, path string, rows, workers int, rate float64, rec *arrivals, read string, extra ...string) (toolRun, *simServer, error) {
	sim, err := startSim(rows, simulator.Faults{}, rec)
	if err != nil {
		return toolRun{}, nil, err
	}
	defer sim.close()
	b.logf("ensbulk run %s: %d rows, %d workers, rate %g", name, rows, workers, rate)
	args := []string{"run", path, "--read", read, "--rate", strconv.FormatFloat(rate, 'f', -1, 64), "--workers", strconv.Itoa(workers),
		"--progress", "none", "--report", filepath.Join(b.dir, name+".report.csv")}
	args = append(args, extra...)
	args = append(args, b.profileArgs(name)...)
	res, err := b.runAgainst(ctx, sim, rows, args...)
	return toolRun{res: res, reqs: sim.requests.Load()}, sim, err
}

// rawRound runs the raw client (its own process) against a fresh
// simulator.
func (b *bench) rawRound(ctx context.Context, bodies string, rows, workers int, rate float64, faults simulator.Faults, rec *arrivals) (toolRun, error) {
	return b.rawRoundArgs(ctx, rawArgs(bodies, workers, rate), rows, faults, rec)
}

// rawRoundArgs runs the raw client with args against a fresh simulator
// of rows rows.
func (b *bench) rawRoundArgs(ctx context.Context, args []string, rows int, faults simulator.Faults, rec *arrivals) (toolRun, error) {
	sim, err := startSim(rows, faults, rec)
	if err != nil {
		return toolRun{}, err
	}
	defer sim.close()
	self, err := os.Executable()
	if err != nil {
		return toolRun{}, err
	}
	b.logf("raw client: %d rows, %s", rows, strings.Join(args, " "))
	cpu0 := selfCPU()
	res, err := runProc(ctx, procSpec{bin: self, args: append(args, b.rawProfileArgs()...), env: []string{rawEnv + "=1"}, url: sim.url, limit: b.sz.runLimit})
	if err == nil && (res.code != 0 || res.stopped != "") {
		err = fmt.Errorf("raw client: exit %d %s\n%s", res.code, res.stopped, res.tail())
	}
	if err == nil {
		err = sim.checkAll(rows)
	}
	if err != nil {
		return toolRun{}, fmt.Errorf("raw client: %w", err)
	}
	b.logf("  %s wall; CPU raw client %s, simulator (+ bench) %s", res.wall.Round(time.Millisecond), res.cpu.Round(time.Millisecond), (selfCPU() - cpu0).Round(time.Millisecond))
	return toolRun{res: res, reqs: sim.requests.Load()}, nil
}

// vegetaRound attacks a fresh simulator with vegeta for d.
func (b *bench) vegetaRound(ctx context.Context, bodies string, rows, workers int, rate float64, d time.Duration, rec *arrivals) (toolRun, error) {
	sim, err := startSim(rows, simulator.Faults{}, rec)
	if err != nil {
		return toolRun{}, err
	}
	defer sim.close()
	targets := filepath.Join(b.dir, "vegeta-targets.json")
	if err := writeVegetaTargets(ctx, bodies, targets, sim.url); err != nil {
		return toolRun{}, err
	}
	b.logf("vegeta: %s, %d workers, rate %g", d, workers, rate)
	res, err := runProc(ctx, procSpec{bin: b.vegeta, args: vegetaArgs(targets, rate, workers, d), limit: d + b.sz.runLimit})
	if err == nil && (res.code != 0 || res.stopped != "") {
		err = fmt.Errorf("exit %d %s\n%s", res.code, res.stopped, res.tail())
	}
	if err != nil {
		return toolRun{}, fmt.Errorf("vegeta: %w", err)
	}
	// Every request but the bench's own login (writeVegetaTargets) is
	// vegeta's validation.
	st := sim.Stats()
	if st.Validated != st.Requests-1 || st.Validated == 0 {
		return toolRun{}, fmt.Errorf("vegeta: simulator saw %d requests, %d validated (codes %v)", st.Requests, st.Validated, st.ByCode)
	}
	return toolRun{res: res, reqs: sim.requests.Load() - 1}, nil
}

// bodiesFor prepares the raw client's bodies for path.
func (b *bench) bodiesFor(path string) (string, error) {
	out := strings.TrimSuffix(path, ".csv") + ".bodies"
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	_, err := writeRawBodies(path, out)
	return out, err
}

// throughput measures 1 (a full run against the raw client), 5 (fsync
// batch against none) and 6a (CPU per request at full speed). Each round
// runs ensbulk, the raw client, ensbulk with --fsync none and vegeta, one
// after the other, so that a slow moment of a shared machine lands on
// both sides of a pair; each figure is the median over the rounds of the
// per-round value, with its range.
func (b *bench) throughput(ctx context.Context, wantRatio, wantDurability bool) ([]tableRow, error) {
	rows, w := b.sz.tputRows, b.sz.workers
	path, err := writeSynthetic(b.dir, rows)
	if err != nil {
		return nil, err
	}
	bodies, err := b.bodiesFor(path)
	if err != nil {
		return nil, err
	}
	var ratio, slower, ensRate, rawRate, noneRate, ensCPU, rawCPU, vegCPU, span series
	for rep := range b.sz.tputReps {
		ens, sim, err := b.ensbulkRun(ctx, fmt.Sprintf("tput-%d", rep), path, rows, w, 0, nil)
		if err != nil {
			return nil, err
		}
		first, last := sim.span()
		span = append(span, float64(ens.reqs-1)/last.Sub(first).Seconds())
		ensRate, ensCPU = append(ensRate, ens.rate()), append(ensCPU, ens.perReq())
		if wantRatio {
			raw, err := b.rawRound(ctx, bodies, rows, w, 0, simulator.Faults{}, nil)
			if err != nil {
				return nil, err
			}
			rawRate, rawCPU = append(rawRate, raw.rate()), append(rawCPU, raw.perReq())
			ratio = append(ratio, ens.rate()/raw.rate())
		}
		if wantDurability {
			none, _, err := b.ensbulkRun(ctx, fmt.Sprintf("none-%d", rep), path, rows, w, 0, nil, "--fsync", "none")
			if err != nil {
				return nil, err
			}
			noneRate = append(noneRate, none.rate())
			slower = append(slower, (1-ens.rate()/none.rate())*100)
		}
		if wantRatio && b.vegeta != "" {
			v, err := b.vegetaRound(ctx, bodies, rows, w, 0, max(ens.res.wall, time.Second).Round(100*time.Millisecond), nil)
			if err != nil {
				return nil, err
			}
			vegCPU = append(vegCPU, v.perReq())
		}
	}
	var out []tableRow
	how := fmt.Sprintf("%s rows × 2 requests, process start to exit", thousands(rows))
	if wantRatio {
		r := down(ratio.median(), 2)
		out = append(out, tableRow{
			id:          "1",
			measurement: fmt.Sprintf("Throughput: full `run` (validate + apply, %d workers, no rate cap, journal fsync batch) ÷ raw Go HTTP client (a separate process), same server, bodies and concurrency", w),
			figure: fmt.Sprintf("%.2f median (%s; ensbulk %s req/s, raw %s req/s; ensbulk %s req/s counting only from its first request to its last; %s)",
				r, ratio.spreadBy("%.2f", down, 2), thousands(int(ensRate.median())), thousands(int(rawRate.median())), thousands(int(span.median())), how),
			goal: "≥ 0.90",
			met:  r >= 0.90,
		})
		c := up(ensCPU.median(), 1)
		vs := fmt.Sprintf("raw client %.1f µs (%s)", rawCPU.median(), rawCPU.spread("%.1f"))
		if b.vegeta != "" {
			vs += fmt.Sprintf(", vegeta %.1f µs (%s)", vegCPU.median(), vegCPU.spread("%.1f"))
		} else {
			vs += "; vegeta not measured: " + b.noVegeta
		}
		out = append(out, tableRow{
			id:          "6a",
			measurement: fmt.Sprintf("Client CPU per request at full speed (%d workers, `--rate 0`): user+system CPU of the process (getrusage) ÷ requests at the server", w),
			figure:      fmt.Sprintf("%.1f µs median (%s; %s)", c, ensCPU.spreadBy("%.1f", up, 1), vs),
			goal:        "≤ 42 µs",
			met:         c <= 42,
		})
	}
	if wantDurability {
		sl := up(slower.median(), 1)
		out = append(out, tableRow{
			id:          "5",
			measurement: "Durability cost: throughput with `--fsync batch` (the default: one fsync per group of results) against `--fsync none`",
			figure:      fmt.Sprintf("%.1f%% slower median (%s; batch %s req/s, none %s req/s; %s)", sl, slower.spreadBy("%.1f%%", up, 1), thousands(int(ensRate.median())), thousands(int(noneRate.median())), how),
			goal:        "≤ 5% slower",
			met:         sl <= 5,
		})
	}
	return out, nil
}

// runAgainst runs ensbulk against sim, checks that every one of rows was
// validated and applied once, and logs where the time and CPU went.
func (b *bench) runAgainst(ctx context.Context, sim *simServer, rows int, args ...string) (procResult, error) {
	cpu0 := selfCPU()
	res, err := b.ensbulkOK(ctx, sim.url, args...)
	if err != nil {
		return res, err
	}
	simCPU := selfCPU() - cpu0
	if err := sim.checkAll(rows); err != nil {
		return res, fmt.Errorf("ensbulk %s: %w", strings.Join(args, " "), err)
	}
	first, last := sim.span()
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	b.logf("  %s wall: first request after %s, requests for %s, exit %s after the last; CPU ensbulk %s, simulator (+ bench) %s",
		ms(res.wall), ms(first.Sub(res.start)), ms(last.Sub(first)), ms(res.start.Add(res.wall).Sub(last)), ms(res.cpu), ms(simCPU))
	return res, nil
}

// ensbulkOK runs the binary and insists on exit 0 within the time bound.
func (b *bench) ensbulkOK(ctx context.Context, url string, args ...string) (procResult, error) {
	res, err := runEnsbulk(ctx, b.bin, url, b.sz.runLimit, args...)
	if err != nil {
		return res, fmt.Errorf("%w\n%s", err, res.tail())
	}
	if res.stopped != "" {
		return res, fmt.Errorf("ensbulk %s: stopped at its %s bound (%s)\n%s", strings.Join(args, " "), res.stopped, b.sz.runLimit, res.tail())
	}
	if res.code != 0 {
		return res, fmt.Errorf("ensbulk %s: exit %d\n%s", strings.Join(args, " "), res.code, res.tail())
	}
	return res, nil
}

// rssRow is a peak-RSS figure: the median of the rounds' maxrss, judged
// on the largest.
func rssRow(id, measurement string, rss series, floor int64, goalMiB float64, note string) tableRow {
	mib := func(x float64) float64 { return up(x/(1<<20), 1) }
	inMiB := make(series, len(rss))
	for i, x := range rss {
		inMiB[i] = x / (1 << 20)
	}
	hi := mib(rss.max())
	r := tableRow{
		id:          id,
		measurement: measurement,
		figure:      fmt.Sprintf("%.1f MiB at most (median %.1f; %s)%s", hi, mib(rss.median()), inMiB.spreadBy("%.1f", up, 1), note),
		goal:        fmt.Sprintf("≤ %.0f MiB", goalMiB),
		met:         rss.max() > 0 && hi <= goalMiB,
	}
	switch {
	case rss.max() == 0:
		r.figure = "0 (not known on this platform)"
	case int64(rss.max()) <= floor:
		// The child's own peak is hidden under the helper's size.
		r.figure = fmt.Sprintf("%.1f MiB at most (the size of the process that started it; %s)%s", hi, rounds(len(rss)), note)
	}
	return r
}

var offlineCounts = regexp.MustCompile(`([0-9,]+) rows, ([0-9,]+) valid, ([0-9,]+) invalid`)

func down(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Floor(x*p+1e-9) / p
}

func up(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Ceil(x*p-1e-9) / p
}

// away rounds away from zero, for a deviation that must stay within ±.
func away(x float64, digits int) float64 {
	if x < 0 {
		return -up(-x, digits)
	}
	return up(x, digits)
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
