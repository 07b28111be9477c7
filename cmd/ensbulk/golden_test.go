package main

import (
	"context"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -run %s -update to accept):\n--- got\n%s\n--- want\n%s", p, t.Name(), got, want)
	}
}

// TestGoldenSampleReportAndSummary pins the report of the CSV sample and
// the summary command's output (durations zeroed, paths replaced).
func TestGoldenSampleReportAndSummary(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := sample(t, "changes.csv")
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0")
	if res.code != exitRows {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	f, err := os.Open(rep)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	for i, r := range recs {
		if i > 0 {
			r[9] = "0" // duration_ms
			if len(r) > 14 {
				r[14] = "TIME" // time
			}
		}
		_ = w.Write(r)
	}
	w.Flush()
	golden(t, "sample.report.csv", b.String())

	sum := runCLI(t, context.Background(), nil, "summary", rep)
	golden(t, "sample.summary.txt", strings.ReplaceAll(sum.stdout, filepath.Dir(in), "DIR"))
}
