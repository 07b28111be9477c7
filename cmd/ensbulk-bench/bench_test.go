package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchE2E selects the end-to-end test of the benchmark (make soak): it
// builds ensbulk and runs every measurement of -quick, two minutes and
// more on a 2-core machine, too long for make test.
var benchE2E = flag.Bool("bench-e2e", false, "run the benchmark's -quick path end to end (make soak)")

// TestMain lets the test binary serve as the helper that starts ensbulk
// (spawn.go), as the command does.
func TestMain(m *testing.M) {
	if bin := os.Getenv(spawnEnv); bin != "" {
		os.Exit(spawnMain(bin, os.Args[1:]))
	}
	if os.Getenv(rawEnv) == "1" {
		os.Exit(rawMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestQuick runs the -quick path end to end (build, simulator, raw client,
// every measurement) so the benchmark code cannot rot. No timing is
// asserted: only that the table has every row and its figures are numbers.
func TestQuick(t *testing.T) {
	if !*benchE2E {
		t.Skip("builds ensbulk and runs every measurement (minutes): make soak runs it with -bench-e2e")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"-quick"}, &out, &errb); err != nil {
		t.Fatalf("run -quick: %v\nstderr:\n%s", err, errb.String())
	}
	table := out.String()
	if !strings.Contains(table, "Machine: ") || !strings.Contains(table, "| Measurement | Figure | Goal | Met? |") {
		t.Fatalf("no header or table heading:\n%s", table)
	}
	got := map[string]bool{}
	number := regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?`)
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Measurement") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 4 {
			t.Errorf("row %q: %d cells, want 4", line, len(cells))
			continue
		}
		id, _, _ := strings.Cut(strings.TrimSpace(cells[0]), ".")
		got[id] = true
		num := number.FindString(strings.TrimSpace(cells[1]))
		if _, err := strconv.ParseFloat(num, 64); err != nil {
			t.Errorf("row %s: figure %q does not start with a number", id, cells[1])
		}
		if met := strings.TrimSpace(cells[3]); met != "yes" && met != "**no**" {
			t.Errorf("row %s: met %q, want yes or **no**", id, met)
		}
	}
	for _, id := range []string{"1", "2a", "2b", "2c", "2d", "3a", "3b", "4a", "4b", "4c", "5", "6a", "6b", "7a", "7b", "7c", "8a", "8b", "8c", "8d", "8e"} {
		if !got[id] {
			t.Errorf("row %s missing from the table:\n%s", id, table)
		}
	}
}

func TestOnlyRefusesUnknown(t *testing.T) {
	var errb bytes.Buffer
	if _, err := parseFlags([]string{"-only", "rate,speed"}, &errb); err == nil || !strings.Contains(err.Error(), `"speed"`) {
		t.Errorf("parseFlags(-only rate,speed) = %v, want an error naming speed", err)
	}
	o, err := parseFlags([]string{"-only", "rate, input"}, &errb)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(o.only, ","), "rate,input"; got != want {
		t.Errorf("only = %s, want %s", got, want)
	}
}

func TestWorstWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		out := make([]time.Time, len(ms))
		for i, m := range ms {
			out[i] = t0.Add(time.Duration(m) * time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name  string
		times []time.Time
		want  int
		start int // ms
	}{
		{"empty", nil, 0, -1},
		{"one", at(5), 1, 5},
		{"even pace", at(0, 500, 1000, 1500, 2000), 2, 0},
		{"burst later", at(0, 900, 1200, 1300, 1400, 2500), 4, 900},
		{"window is half-open", at(0, 1000), 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, start := worstWindow(tc.times, time.Second)
			if got != tc.want {
				t.Errorf("worstWindow = %d, want %d", got, tc.want)
			}
			if tc.start >= 0 && !start.Equal(t0.Add(time.Duration(tc.start)*time.Millisecond)) {
				t.Errorf("start = %v, want %dms", start.Sub(t0), tc.start)
			}
		})
	}
}

func TestRounding(t *testing.T) {
	tests := []struct {
		name      string
		got, want float64
	}{
		{"down", down(0.94969, 3), 0.949},
		{"down exact", down(0.95, 2), 0.95},
		{"up", up(5.01, 1), 5.1},
		{"up float noise", up((202.0/200-1)*100, 1), 1.0},
		{"away negative", away(-0.0101, 2), -0.02},
		{"away positive", away(0.0001, 2), 0.01},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
