package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// costMode is one --read mode the cost rows measure.
type costMode struct {
	read  string
	label string
}

// cost measures 9a-9d: requests and wall time of plan and run of an
// edited export (costBoxes mailboxes in customers 100 and 101, one row in
// 20 edited), with --read auto (one mailboxes/list a customer) and
// --read get (a get of every row, as before issue 22). Requests are
// counted at the simulator, logins left out; each round starts from a
// fresh simulator, so that its run changes what its plan showed.
func (b *bench) cost(ctx context.Context) ([]tableRow, error) {
	boxes := b.sz.costBoxes
	edits := boxes / 20
	modes := []costMode{{"auto", "--read auto (list)"}, {"get", "--read get"}}
	type key struct{ mode, cmd string }
	reqs, walls := map[key]series{}, map[key]series{}
	var input string
	for round := range b.sz.costReps {
		for _, m := range modes {
			sim, err := startSimWorld(simulator.Generate(boxes, 22), boxes, simulator.Faults{}, nil)
			if err != nil {
				return nil, err
			}
			if input == "" {
				if input, err = b.editedExport(ctx, sim, edits); err != nil {
					sim.close()
					return nil, err
				}
			}
			for _, cmd := range []string{"plan", "run"} {
				rep := filepath.Join(b.dir, fmt.Sprintf("cost-%s-%s-%d.report.csv", m.read, cmd, round))
				before := sim.Stats()
				b.logf("ensbulk %s --read %s: %d mailboxes, %d edited (round %d)", cmd, m.read, boxes, edits, round+1)
				// The undo file goes beside the report (its default).
				res, err := b.ensbulkOK(ctx, sim.url, cmd, input, "--read", m.read, "--rate", "0", "--workers", "8",
					"--progress", "none", "--report", rep)
				if err != nil {
					sim.close()
					return nil, err
				}
				after := sim.Stats()
				n := (after.Requests - after.ByFunction["user/login"]) - (before.Requests - before.ByFunction["user/login"])
				k := key{m.read, cmd}
				reqs[k] = append(reqs[k], float64(n))
				walls[k] = append(walls[k], res.wall.Seconds())
				b.logf("  %d requests, %s", n, res.wall.Round(time.Millisecond))
			}
			sim.close()
		}
	}
	var out []tableRow
	id := 'a'
	for _, m := range modes {
		for _, cmd := range []string{"plan", "run"} {
			k := key{m.read, cmd}
			r := reqs[k]
			goal, met := "reference: a get of every row", true
			if m.read == "auto" {
				limit := float64(boxes/20 + 10)
				if cmd == "run" {
					limit = float64(3*boxes/20 + 10)
				}
				goal, met = fmt.Sprintf("≤ %s requests", thousands(int(limit))), r.max() <= limit
			}
			out = append(out, tableRow{
				id:          fmt.Sprintf("9%c", id),
				measurement: fmt.Sprintf("%s of an edited %s-mailbox export (2 customers, %s edited), %s", cmd, thousands(boxes), thousands(edits), m.label),
				figure: fmt.Sprintf("%s requests (%s), %.2f s wall at --rate 0 (%s), %s at --rate 5", thousands(int(r.median())), r.spread("%.0f"),
					walls[k].median(), walls[k].spread("%.2f"), time.Duration(r.median()/5*float64(time.Second)).Round(time.Second)),
				goal: goal,
				met:  met,
			})
			id++
		}
	}
	return out, nil
}

// editedExport exports customers 100 and 101 of sim into one file with
// one row in boxes/edits given a new description.
func (b *bench) editedExport(ctx context.Context, sim *simServer, edits int) (string, error) {
	var header []string
	var rows [][]string
	for _, c := range []string{"100", "101"} {
		out := filepath.Join(b.dir, "cost-export-"+c+".csv")
		if _, err := b.ensbulkOK(ctx, sim.url, "export", "--customer", c, "--output", out); err != nil {
			return "", err
		}
		f, err := os.Open(out)
		if err != nil {
			return "", err
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			return "", err
		}
		header, rows = recs[0], append(rows, recs[1:]...)
	}
	desc := slices.Index(header, "description")
	if desc < 0 {
		return "", fmt.Errorf("export has no description column: %v", header)
	}
	step := max(len(rows)/max(edits, 1), 1)
	for i := 0; i < len(rows); i += step {
		rows[i][desc] = fmt.Sprintf("bench edit %d", i)
	}
	path := filepath.Join(b.dir, "cost-edited.csv")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
