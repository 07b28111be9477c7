// Command ensbulk-bench measures how close ensbulk gets to the limits of
// the machine it runs on, against the simulator on 127.0.0.1, and prints a
// Markdown table (make bench):
//
//  1. throughput of a full run against a minimal raw HTTP client;
//  2. rate fidelity of --rate, measured where it matters, at the server;
//  3. latency-bound throughput against workers ÷ latency;
//  4. input at scale: validate --offline against plain encoding/csv, and
//     peak RSS of the process;
//  5. the cost of the journal's fsync policy.
//
// The ensbulk side is the real binary (go build), so the path measured is
// the product's (reader → engine → client → HTTP → simulator → journal)
// and the peak RSS is that of a separate process. Every load loop is
// bounded in count and time.
//
// Usage:
//
//	ensbulk-bench [-quick] [-only throughput,rate,latency,input,durability] [-cpuprofile FILE] [-bin ENSBULK]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if bin := os.Getenv(spawnEnv); bin != "" {
		os.Exit(spawnMain(bin, os.Args[1:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ensbulk-bench:", err)
		}
		os.Exit(1)
	}
}

// measurements, in table order; -only takes these names.
var allMeasurements = []string{"throughput", "rate", "latency", "input", "durability"}

// options are the command's flags.
type options struct {
	quick      bool
	only       []string
	cpuprofile string
	bin        string
	keep       bool
}

// sizes are what a mode measures: the full run (a few minutes) or -quick
// (seconds, to keep the code from rotting).
type sizes struct {
	workers   int           // throughput, rate, durability
	tputRows  int           // rows per throughput run (2 requests each)
	tputReps  int           // runs of each kind; the best counts
	rate      float64       // requests/s asked for
	rateFor   time.Duration // how long the rate run lasts
	latency   time.Duration // simulator latency
	latWorker []int         // worker counts measured
	latFor    time.Duration // how long each latency run lasts
	inputRows []int         // rows of the validate --offline files; the first is timed
	inputReps int
	runLimit  time.Duration // bound of any one process or loop
}

func fullSizes() sizes {
	return sizes{
		workers: 64, tputRows: 20000, tputReps: 5,
		rate: 200, rateFor: 30 * time.Second,
		latency: 50 * time.Millisecond, latWorker: []int{16, 64}, latFor: 20 * time.Second,
		inputRows: []int{1_000_000, 100_000}, inputReps: 3,
		runLimit: 2 * time.Minute,
	}
}

func quickSizes() sizes {
	return sizes{
		workers: 64, tputRows: 500, tputReps: 1,
		rate: 200, rateFor: time.Second,
		latency: 50 * time.Millisecond, latWorker: []int{16, 64}, latFor: 500 * time.Millisecond,
		inputRows: []int{20_000, 2_000}, inputReps: 1,
		runLimit: time.Minute,
	}
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("ensbulk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "a smoke run: small sizes, seconds")
	only := fs.String("only", "", "comma-separated measurements to run: "+strings.Join(allMeasurements, ", ")+" (default all)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of this process (simulator, raw client, encoding/csv) to FILE, and of each ensbulk process to FILE.ensbulk-NAME")
	fs.StringVar(&o.bin, "bin", "", "ensbulk binary to measure (default: go build one)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (inputs, reports, profiles)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ensbulk-bench [-quick] [-only NAMES] [-cpuprofile FILE] [-bin ENSBULK] [-keep]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *only == "" {
		o.only = allMeasurements
	} else {
		for _, name := range strings.Split(*only, ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(allMeasurements, name) {
				return nil, fmt.Errorf("-only: unknown measurement %q (want %s)", name, strings.Join(allMeasurements, ", "))
			}
			o.only = append(o.only, name)
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	b := &bench{opts: o, sz: fullSizes(), log: stderr}
	if o.quick {
		b.sz = quickSizes()
	}
	b.dir, err = os.MkdirTemp("", "ensbulk-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(stderr, "ensbulk-bench: keeping", b.dir)
	} else {
		defer os.RemoveAll(b.dir)
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	b.bin = o.bin
	if b.bin == "" {
		b.logf("building ensbulk")
		if b.bin, err = buildEnsbulk(ctx, b.dir); err != nil {
			return err
		}
	}

	m := machine()
	started := time.Now()
	var rows []tableRow
	want := func(name string) bool { return slices.Contains(o.only, name) }
	if want("throughput") || want("durability") {
		r, err := b.throughput(ctx, want("throughput"), want("durability"))
		if err != nil {
			return fmt.Errorf("throughput: %w", err)
		}
		rows = append(rows, r...)
	}
	if want("rate") {
		r, err := b.rateFidelity(ctx)
		if err != nil {
			return fmt.Errorf("rate: %w", err)
		}
		rows = append(rows, r...)
	}
	if want("latency") {
		r, err := b.latencyBound(ctx)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		rows = append(rows, r...)
	}
	if want("input") {
		r, err := b.input(ctx)
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		rows = append(rows, r...)
	}
	slices.SortStableFunc(rows, func(a, b tableRow) int { return strings.Compare(a.id, b.id) })
	m.loadEnd = loadAverage()
	writeTable(stdout, m, o.quick, time.Since(started), rows)
	return nil
}

// bench holds what the measurements share.
type bench struct {
	opts *options
	sz   sizes
	dir  string
	bin  string
	log  io.Writer
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "ensbulk-bench: "+format+"\n", args...)
}

// profileArgs asks an ensbulk process for a CPU profile when -cpuprofile
// is set.
func (b *bench) profileArgs(name string) []string {
	if b.opts.cpuprofile == "" {
		return nil
	}
	return []string{"--cpuprofile", b.opts.cpuprofile + ".ensbulk-" + name}
}

// tableRow is one line of the results.
type tableRow struct {
	id          string // sort key: "1", "2a", ...
	measurement string
	figure      string // starts with the number measured
	goal        string
	met         bool
}

// machineInfo is the header of the table.
type machineInfo struct {
	cpu     string
	cores   int
	goVer   string
	osArc   string
	load    string // load averages at the start and the end: others' work skews timings
	loadEnd string
}

func machine() machineInfo {
	m := machineInfo{cpu: "unknown CPU", cores: runtime.NumCPU(), goVer: runtime.Version(), osArc: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	m.load = loadAverage()
	return m
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute averages, "" if unknown.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

func writeTable(w io.Writer, m machineInfo, quick bool, took time.Duration, rows []tableRow) {
	mode := "full run"
	if quick {
		mode = "-quick smoke run: sizes too small for the figures to mean anything"
	}
	fmt.Fprintf(w, "### ensbulk benchmarks (%s)\n\n", mode)
	fmt.Fprintf(w, "Machine: %s, %d cores, %s, %s", m.cpu, m.cores, m.osArc, m.goVer)
	if m.load != "" {
		fmt.Fprintf(w, "; load average %s at the start, %s at the end", m.load, m.loadEnd)
	}
	fmt.Fprintf(w, ". Simulator and ensbulk on 127.0.0.1, same machine. Took %s.\n\n", took.Round(time.Second))
	fmt.Fprintln(w, "| Measurement | Figure | Goal | Met? |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rows {
		met := "yes"
		if !r.met {
			met = "**no**"
		}
		fmt.Fprintf(w, "| %s. %s | %s | %s | %s |\n", r.id, r.measurement, r.figure, r.goal, met)
	}
}
