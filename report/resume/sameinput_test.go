package resume

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// A resume of an input that did not change decides from the report alone
// (sameInput); it must decide as reading the input does (diff): the same
// rows handled, done and taken as validated, over reports of runs
// finished, stopped and killed at random, in both modes.
func TestSameInputDecidesAsReadingTheInput(t *testing.T) {
	statuses := []batch.Status{batch.StatusOK, batch.StatusOK, batch.StatusOK, batch.StatusError, batch.StatusSkipped,
		batch.StatusFailed, batch.StatusInvalid, batch.StatusValid, batch.StatusUnchanged}
	codes := []string{"404", "402", "403"}
	fast := 0
	for seed := range 400 {
		rng := rand.New(rand.NewPCG(uint64(seed), 22))
		mode := "run"
		if seed%4 == 3 {
			mode = "validate"
		}
		n := 1 + rng.IntN(40)
		var rows []batch.Row
		for i := 1; i <= n; i++ {
			r := row(i, string(rune('a'+rng.IntN(4))), fmt.Sprintf("h%d", i))
			if rng.IntN(3) == 0 {
				r.Customer = "1"
			}
			rows = append(rows, r)
		}
		// The report: a record for most rows up to where the run ended,
		// some rows missing (in flight when it was killed), some twice.
		end := n
		if rng.IntN(2) == 0 {
			end = rng.IntN(n + 1)
		}
		var recs []report.Record
		for _, r := range rows[:end] {
			for range 1 + rng.IntN(2) {
				if rng.IntN(10) == 0 {
					break
				}
				st := statuses[rng.IntN(len(statuses))]
				rc := rec(r.Num, r.Mailbox, st, r.Hash)
				rc.Customer = r.Customer
				if rng.IntN(2) == 0 {
					rc.Phase = "validate"
				}
				if st == batch.StatusFailed {
					rc.Code = codes[rng.IntN(len(codes))]
				}
				recs = append(recs, rc)
			}
		}
		rng.Shuffle(len(recs), func(i, j int) {
			if recs[i].Row != recs[j].Row { // a row's records stay in order
				recs[i], recs[j] = recs[j], recs[i]
			}
		})
		path := filepath.Join(t.TempDir(), fmt.Sprintf("r%d.report.csv", seed))
		writeReport(t, path, nil, recs...)

		read, err := report.OpenLatest(path)
		if err != nil {
			t.Fatal(err)
		}
		kept := keptRow(read, mode)
		want := &Plan{}
		_, err = want.diff(opener(rows, nil), read, kept, true, func(_ *batch.Row, rec report.Record) (bool, error) {
			return want.judge(rec, mode), nil
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The same reader again from its start, as compare does when
		// sameInput cannot decide.
		read.Rewind()
		got := &Plan{}
		done, err := got.sameInput(read, kept, mode)
		read.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !done {
			continue
		}
		fast++
		want.keepValidTodo()
		got.keepValidTodo()
		for _, r := range rows {
			if got.Todo(r.Num) != want.Todo(r.Num) || got.Validated(&r) != want.Validated(&r) {
				t.Fatalf("seed %d (%s), row %d: handled %v, validated %v; reading the input: %v, %v\nreport: %+v",
					seed, mode, r.Num, got.Todo(r.Num), got.Validated(&r), want.Todo(r.Num), want.Validated(&r), recs)
			}
		}
		if got.Done != want.Done || got.Prevalidated() != want.Prevalidated() {
			t.Fatalf("seed %d: done %d, prevalidated %d; reading the input: %d, %d", seed, got.Done, got.Prevalidated(), want.Done, want.Prevalidated())
		}
	}
	if fast < 100 {
		t.Errorf("only %d of 400 reports were decided from the report alone", fast)
	}
}
