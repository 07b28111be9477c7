package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// rateFidelity measures 2a/2b (--rate 200: achieved rate and busiest
// second, ensbulk alone), 2c/2d (busiest second and achieved rate at --rate
// 1000) and 6b (CPU
// per request at a steady 1000/s, ensbulk, the raw client and vegeta in
// alternating rounds), all timed at the server.
func (b *bench) rateFidelity(ctx context.Context) ([]tableRow, error) {
	var out []tableRow
	low, high := b.sz.rate, b.sz.rateHigh
	{
		rows := int(low * b.sz.rateFor.Seconds() / 2)
		path, err := writeSynthetic(b.dir, rows)
		if err != nil {
			return nil, err
		}
		var achieved, dev, worst series
		for rep := range b.sz.rateReps {
			rec := newArrivals(2*rows + 64)
			if _, _, err := b.ensbulkRun(ctx, fmt.Sprintf("rate-%g-%d", low, rep), path, rows, b.sz.workers, low, rec); err != nil {
				return nil, err
			}
			at, dropped := rec.times()
			if dropped > 0 || len(at) < 2 {
				return nil, fmt.Errorf("recorded %d arrivals (%d dropped)", len(at), dropped)
			}
			a := float64(len(at)-1) / at[len(at)-1].Sub(at[0]).Seconds()
			n, _ := worstWindow(at, time.Second)
			achieved, dev, worst = append(achieved, a), append(dev, (a/low-1)*100), append(worst, float64(n))
		}
		out = append(out, b.achievedRow("2a", low, achieved, dev), windowRow("2b", low, worst))
	}

	rows := int(high * b.sz.rateFor.Seconds() / 2)
	path, err := writeSynthetic(b.dir, rows)
	if err != nil {
		return nil, err
	}
	bodies, err := b.bodiesFor(path)
	if err != nil {
		return nil, err
	}
	var achieved, dev, worst, ensCPU, rawCPU, vegCPU series
	for rep := range b.sz.rateReps {
		rec := newArrivals(2*rows + 64)
		ens, _, err := b.ensbulkRun(ctx, fmt.Sprintf("rate-%g-%d", high, rep), path, rows, b.sz.workers, high, rec)
		if err != nil {
			return nil, err
		}
		at, dropped := rec.times()
		if dropped > 0 || len(at) < 2 {
			return nil, fmt.Errorf("recorded %d arrivals (%d dropped)", len(at), dropped)
		}
		a := float64(len(at)-1) / at[len(at)-1].Sub(at[0]).Seconds()
		achieved, dev = append(achieved, a), append(dev, (a/high-1)*100)
		n, _ := worstWindow(at, time.Second)
		worst, ensCPU = append(worst, float64(n)), append(ensCPU, ens.perReq())
		raw, err := b.rawRound(ctx, bodies, rows, b.sz.workers, high, simulator.Faults{}, nil)
		if err != nil {
			return nil, err
		}
		rawCPU = append(rawCPU, raw.perReq())
		if b.vegeta != "" {
			v, err := b.vegetaRound(ctx, bodies, rows, b.sz.workers, high, b.sz.rateFor, nil)
			if err != nil {
				return nil, err
			}
			vegCPU = append(vegCPU, v.perReq())
		}
	}
	out = append(out, windowRow("2c", high, worst), b.achievedRow("2d", high, achieved, dev))
	c := up(ensCPU.median(), 1)
	row := tableRow{
		id:          "6b",
		measurement: fmt.Sprintf("Client CPU per request at a steady `--rate %g` for %gs (%d workers), ÷ requests at the server", high, b.sz.rateFor.Seconds(), b.sz.workers),
		figure:      fmt.Sprintf("%.1f µs median (%s; raw client %.1f µs (%s)", c, ensCPU.spreadBy("%.1f", up, 1), rawCPU.median(), rawCPU.spread("%.1f")),
	}
	if b.vegeta != "" {
		v := down(vegCPU.median(), 1)
		row.figure += fmt.Sprintf(", vegeta %.1f µs (%s))", v, vegCPU.spreadBy("%.1f", down, 1))
		row.goal, row.met = "below vegeta (aim: half)", c < v
	} else {
		row.figure += "; vegeta not measured: " + b.noVegeta + ")"
		r := down(rawCPU.median(), 1)
		row.goal, row.met = "below vegeta (aim: half); vegeta unavailable, so: below the raw client", c < r
	}
	return append(out, row), nil
}

// achievedRow is the rate achieved at the server over the rounds (dev: each
// round's deviation from rate, in %), judged on the round furthest from
// the rate.
func (b *bench) achievedRow(id string, rate float64, achieved, dev series) tableRow {
	far := away(slices.MaxFunc(dev, func(x, y float64) int { return cmpAbs(x, y) }), 2)
	return tableRow{
		id:          id,
		measurement: fmt.Sprintf("Rate fidelity: achieved rate at `--rate %g` for %gs (%d workers), at the server, first to last request", rate, b.sz.rateFor.Seconds(), b.sz.workers),
		figure:      fmt.Sprintf("%.2f req/s median (%s; furthest round %+.2f%%)", achieved.median(), achieved.spread("%.2f"), far),
		goal:        "every round within ±1%",
		met:         math.Abs(far) <= 1,
	}
}

func cmpAbs(x, y float64) int {
	switch ax, ay := math.Abs(x), math.Abs(y); {
	case ax < ay:
		return -1
	case ax > ay:
		return 1
	}
	return 0
}

// windowRow is the busiest 1-s window at the server over the rounds,
// judged on the worst round: a burst in any round is a burst.
func windowRow(id string, rate float64, worst series) tableRow {
	limit := math.Floor(rate*1.01 + 1)
	return tableRow{
		id:          id,
		measurement: fmt.Sprintf("Rate fidelity: busiest 1-second window at the server, `--rate %g`", rate),
		figure:      fmt.Sprintf("%.0f requests in the worst round (median %.0f; %s)", worst.max(), worst.median(), worst.spread("%.0f")),
		goal:        fmt.Sprintf("every round ≤ %.0f (rate × 1.01 + 1: no catch-up bursts)", limit),
		met:         worst.max() <= limit,
	}
}

// worstWindow returns the most arrivals in any window [t, t+d) and where
// it starts; the busiest window always starts at an arrival.
func worstWindow(at []time.Time, d time.Duration) (int, time.Time) {
	best, start, j := 0, time.Time{}, 0
	for i := range at {
		if j < i {
			j = i
		}
		for j < len(at) && at[j].Sub(at[i]) < d {
			j++
		}
		if n := j - i; n > best {
			best, start = n, at[i]
		}
	}
	return best, start
}

func sortTimes(t []time.Time) {
	slices.SortFunc(t, func(a, b time.Time) int { return a.Compare(b) })
}
