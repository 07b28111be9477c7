package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ensbulk/ensbulk/simulator"
)

// throughputReads measures 1r: a full run with a read before each update
// (`--read get`: validate, get, update per row, the reads that make the
// undo file exact) against the raw client sending the same three
// requests (-read), in alternating rounds as 1 is measured. What it
// isolates is the engine's cost around the read: comparing, recording the
// undo entry (fsynced before the update goes) and the conditional write.
func (b *bench) throughputReads(ctx context.Context) ([]tableRow, error) {
	rows, w := b.sz.tputRows, b.sz.workers
	path, err := writeSynthetic(b.dir, rows)
	if err != nil {
		return nil, err
	}
	bodies, err := b.bodiesFor(path)
	if err != nil {
		return nil, err
	}
	var ratio, ensRate, rawRate series
	for rep := range b.sz.tputReps {
		name := fmt.Sprintf("reads-%d", rep)
		ens, _, err := b.ensbulkRunRead(ctx, name, path, rows, w, 0, nil, "get")
		if err != nil {
			return nil, err
		}
		for _, f := range []string{".report.csv", ".report.csv.meta.json", ".report.undo.jsonl", ".report.undo.jsonl.journal"} {
			os.Remove(filepath.Join(b.dir, name+f))
		}
		raw, err := b.rawRoundArgs(ctx, rawReadArgs(bodies, w), rows, simulator.Faults{}, nil)
		if err != nil {
			return nil, err
		}
		ensRate, rawRate = append(ensRate, ens.rate()), append(rawRate, raw.rate())
		ratio = append(ratio, ens.rate()/raw.rate())
	}
	r := down(ratio.median(), 2)
	return []tableRow{{
		id:          "1r",
		measurement: fmt.Sprintf("Throughput with reads: full `run --read get` (validate, then a get and an update per row, the undo journal fsynced before each update; %d workers, no rate cap) ÷ raw Go HTTP client sending the same three requests a row, same server and concurrency", w),
		figure: fmt.Sprintf("%.2f median (%s; ensbulk %s req/s, raw %s req/s; %s rows × 3 requests, process start to exit)",
			r, ratio.spreadBy("%.2f", down, 2), thousands(int(ensRate.median())), thousands(int(rawRate.median())), thousands(rows)),
		goal: "≥ 0.90",
		met:  r >= 0.90,
	}}, nil
}
