package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// latencyBound measures 3: with simulator latency L and W workers and no
// rate cap, the ceiling is W/L requests per second. Rounds alternate
// ensbulk and the raw client.
func (b *bench) latencyBound(ctx context.Context) ([]tableRow, error) {
	lat := b.sz.latency
	var out []tableRow
	for i, w := range b.sz.latWorker {
		ideal := float64(w) / lat.Seconds()
		rows := int(ideal * b.sz.latFor.Seconds() / 2)
		path, err := writeSynthetic(b.dir, rows)
		if err != nil {
			return nil, err
		}
		bodies, err := b.bodiesFor(path)
		if err != nil {
			return nil, err
		}
		var ratio, busy, raw series
		var wall time.Duration
		for rep := range b.sz.latReps {
			sim, err := startSim(rows, simulator.Faults{Latency: lat}, nil)
			if err != nil {
				return nil, err
			}
			b.logf("ensbulk run, latency %s: %d rows, %d workers", lat, rows, w)
			name := fmt.Sprintf("latency-%d-%d", w, rep)
			args := []string{"run", path, "--no-read", "--rate", "0", "--workers", strconv.Itoa(w), "--progress", "none",
				"--report", filepath.Join(b.dir, name+".report.csv")}
			args = append(args, b.profileArgs(name)...)
			res, err := b.runAgainst(ctx, sim, rows, args...)
			reqs := sim.requests.Load()
			first, last := sim.span()
			sim.close()
			if err != nil {
				return nil, err
			}
			wall = res.wall
			ratio = append(ratio, float64(reqs)/res.wall.Seconds()/ideal)
			// While sending: from the first request's arrival to the last
			// one's answer (one latency after it arrived).
			busy = append(busy, float64(reqs)/(last.Sub(first)+lat).Seconds()/ideal)
			r, err := b.rawRound(ctx, bodies, rows, w, 0, simulator.Faults{Latency: lat}, nil)
			if err != nil {
				return nil, err
			}
			raw = append(raw, r.rate()/ideal)
		}
		r := down(ratio.median(), 3)
		out = append(out, tableRow{
			id:          fmt.Sprintf("3%c", 'a'+i),
			measurement: fmt.Sprintf("Latency-bound: simulator latency %s, %d workers, no rate cap: achieved ÷ (workers ÷ latency)", lat, w),
			figure: fmt.Sprintf("%.3f median (%s; %s rows × 2 requests, %s a run, process start to exit; %.3f from first request to last answer; the raw client: %.3f (%s))",
				r, ratio.spreadBy("%.3f", down, 3), thousands(rows), wall.Round(100*time.Millisecond), busy.median(), raw.median(), raw.spread("%.3f")),
			goal: "≥ 0.95",
			met:  r >= 0.95,
		})
	}
	return out, nil
}
