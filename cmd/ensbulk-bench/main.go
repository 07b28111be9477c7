// Command ensbulk-bench measures how close ensbulk gets to the limits of
// the machine it runs on, against the simulator on 127.0.0.1, and prints a
// Markdown table (make bench):
//
//  1. throughput of a full run against a minimal raw HTTP client;
//  2. rate fidelity of --rate, measured where it matters, at the server;
//  3. latency-bound throughput against workers ÷ latency;
//  4. input at scale: validate --offline against plain encoding/csv, and
//     peak RSS of the process;
//  5. the cost of the journal's fsync policy;
//  6. client CPU per request at full speed and at a steady 1000/s, beside
//     the raw client and vegeta;
//  7. peak RSS of run, --resume and --retry-failed at 1M rows (and 10M in
//     a full run);
//  8. resume: time to first request and in total; the serial tail after
//     a run's last request;
//  9. cost: requests and wall time of plan and run of an edited export,
//     --read auto (one list a customer) beside --read get.
//
// The ensbulk side is the real binary (go build), so the path measured is
// the product's (reader → engine → client → HTTP → simulator → journal).
// The baselines are separate processes too: the raw client is this
// program run again in its raw-client mode (raw.go), vegeta is built from
// the module proxy. Every process is measured the same way (spawn.go):
// wall time from start to exit, CPU and peak RSS from the kernel. A figure
// is the median of several rounds, the tools alternating within each
// round, shown with its range. Every load loop and process is bounded in
// count and time.
//
// Usage:
//
//	ensbulk-bench [-quick] [-only throughput,reads,rate,latency,input,durability,scale,tail,cost] [-vegeta=false] [-no-big] [-big-limit D] [-scale-rows N] [-cpuprofile FILE] [-bin ENSBULK] [-keep] [-tail-from DIR]
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
	if os.Getenv(rawEnv) == "1" {
		os.Exit(rawMain(os.Args[1:]))
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
var allMeasurements = []string{"throughput", "reads", "rate", "latency", "input", "durability", "scale", "tail", "cost"}

// options are the command's flags.
type options struct {
	quick      bool
	only       []string
	cpuprofile string
	bin        string
	keep       bool
	tailFrom   string // a kept stopped run of an earlier -keep (row 8f)
	vegeta     bool
	bigLimit   time.Duration
	noBig      bool
	scaleRows  int
}

// sizes are what a mode measures: the full run (tens of minutes with the
// 10M-row sizes) or -quick (seconds, to keep the code from rotting).
type sizes struct {
	workers   int           // throughput, rate, durability, scale
	tputRows  int           // rows per throughput run (2 requests each)
	tputReps  int           // rounds of throughput
	rate      float64       // requests/s asked for: fidelity
	rateHigh  float64       // requests/s asked for: fidelity and CPU beside the baselines
	rateFor   time.Duration // how long each rate run lasts
	rateReps  int
	latency   time.Duration // simulator latency
	latWorker []int         // worker counts measured
	latFor    time.Duration // how long each latency run lasts
	latReps   int
	inputRows []int // rows of the validate --offline files; the first is timed
	inputReps int
	// scale: rows of the run/resume/retry measurements; bigRows 0 = none.
	scaleRows, bigRows int
	notOK              int // rows of the report to redo
	scaleRunReps       int
	resumeReps         int
	scaleLimit         time.Duration // bound of each scale process
	rssCap             int64         // a process past this resident size is stopped
	runLimit           time.Duration // bound of any other process or loop
	// cost: mailboxes of the edited export (one in 20 edited) and rounds.
	costBoxes, costReps int
}

func fullSizes() sizes {
	return sizes{
		workers: 64, tputRows: 20000, tputReps: 9,
		rate: 200, rateHigh: 1000, rateFor: 15 * time.Second, rateReps: 3,
		latency: 50 * time.Millisecond, latWorker: []int{16, 64}, latFor: 10 * time.Second, latReps: 3,
		inputRows: []int{1_000_000, 100_000}, inputReps: 3,
		scaleRows: 1_000_000, bigRows: 10_000_000, notOK: 1000, scaleRunReps: 1, resumeReps: 3,
		scaleLimit: 5 * time.Minute, rssCap: 4 << 30,
		runLimit:  2 * time.Minute,
		costBoxes: 10_000, costReps: 3,
	}
}

func quickSizes() sizes {
	return sizes{
		workers: 64, tputRows: 500, tputReps: 2,
		rate: 200, rateHigh: 1000, rateFor: time.Second, rateReps: 1,
		latency: 50 * time.Millisecond, latWorker: []int{16, 64}, latFor: 500 * time.Millisecond, latReps: 1,
		inputRows: []int{20_000, 2_000}, inputReps: 1,
		scaleRows: 20_000, notOK: 100, scaleRunReps: 1, resumeReps: 2,
		scaleLimit: time.Minute, rssCap: 1 << 30,
		runLimit:  time.Minute,
		costBoxes: 2_000, costReps: 1,
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
	fs.StringVar(&o.tailFrom, "tail-from", "", "row 8f: resume the stopped run that an earlier -only tail -keep (same -scale-rows) left in `DIR` instead of making one (minutes at 1M rows)")
	fs.BoolVar(&o.vegeta, "vegeta", true, "build vegeta from the Go module proxy ("+vegetaModule+") as a second baseline (never in -quick)")
	fs.BoolVar(&o.noBig, "no-big", false, "leave out the 10M-row scale rows (7d-7f)")
	fs.IntVar(&o.scaleRows, "scale-rows", 0, "rows of the scale measurements (default 1,000,000; 20,000 in -quick)")
	fs.DurationVar(&o.bigLimit, "big-limit", 20*time.Minute, "time bound of each 10M-row process (full run); a process stopped there is reported as not finished")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ensbulk-bench [-quick] [-only NAMES] [-vegeta=false] [-no-big] [-big-limit D] [-scale-rows N] [-cpuprofile FILE] [-bin ENSBULK] [-keep] [-tail-from DIR]")
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
	if o.scaleRows > 0 {
		b.sz.scaleRows = o.scaleRows
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

	want := func(name string) bool { return slices.Contains(o.only, name) }
	switch {
	case o.quick:
		b.noVegeta = "not built in -quick runs"
	case !o.vegeta:
		b.noVegeta = "-vegeta=false"
	case want("throughput") || want("rate"):
		b.logf("building vegeta from the module proxy (%s)", vegetaModule)
		if b.vegeta, err = installVegeta(ctx, b.dir); err != nil {
			b.noVegeta = "it could not be built: " + err.Error()
			b.logf("vegeta: %v", err)
		}
	}

	m := machine()
	started := time.Now()
	var rows []tableRow
	for _, ms := range b.measurements() {
		if !slices.ContainsFunc(ms.names, want) {
			continue
		}
		r, err := ms.run(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", ms.names[0], err)
		}
		rows = append(rows, r...)
	}
	slices.SortStableFunc(rows, func(a, b tableRow) int { return strings.Compare(a.id, b.id) })
	m.loadEnd = loadAverage()
	writeTable(stdout, m, o.quick, time.Since(started), rows)
	return nil
}

// measurement is one group of rows of the table, run when -only names
// one of names.
type measurement struct {
	names []string
	run   func(context.Context) ([]tableRow, error)
}

// measurements are the groups, in the order they run.
func (b *bench) measurements() []measurement {
	want := func(name string) bool { return slices.Contains(b.opts.only, name) }
	return []measurement{
		{[]string{"throughput", "durability"}, func(ctx context.Context) ([]tableRow, error) {
			return b.throughput(ctx, want("throughput"), want("durability"))
		}},
		{[]string{"reads"}, b.throughputReads},
		{[]string{"rate"}, b.rateFidelity},
		{[]string{"latency"}, b.latencyBound},
		{[]string{"input"}, b.input},
		{[]string{"scale"}, func(ctx context.Context) ([]tableRow, error) {
			r, err := b.scale(ctx, b.sz.scaleRows, false, b.sz.scaleLimit)
			if err != nil || b.sz.bigRows == 0 || b.opts.noBig {
				return r, err
			}
			big, err := b.scale(ctx, b.sz.bigRows, true, b.opts.bigLimit)
			if err != nil {
				return nil, fmt.Errorf("%d rows: %w", b.sz.bigRows, err)
			}
			return append(r, big...), nil
		}},
		{[]string{"tail"}, func(ctx context.Context) ([]tableRow, error) {
			return b.realResume(ctx, b.sz.scaleRows, b.sz.scaleLimit)
		}},
		{[]string{"cost"}, b.cost},
	}
}

// bench holds what the measurements share.
type bench struct {
	opts *options
	sz   sizes
	dir  string
	bin  string
	log  io.Writer
	// vegeta is the vegeta binary; "" when it is not measured, and
	// noVegeta says why.
	vegeta, noVegeta string
	rawProfiles      int // raw client profiles written (-cpuprofile)
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

// rawProfileArgs asks the raw client for a CPU profile when -cpuprofile
// is set, so that its profile can be set beside ensbulk's.
func (b *bench) rawProfileArgs() []string {
	if b.opts.cpuprofile == "" {
		return nil
	}
	b.rawProfiles++
	return []string{"-cpuprofile", fmt.Sprintf("%s.raw-%d", b.opts.cpuprofile, b.rawProfiles)}
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
	fmt.Fprintf(w, ". Simulator, ensbulk and the baselines on 127.0.0.1, same machine. Took %s.\n\n", took.Round(time.Second))
	fmt.Fprintln(w, "Each figure is the median over rounds in which the tools alternate (ensbulk, raw client, ...), with its range and the number of rounds; every tool is a separate process, timed start to exit, CPU and peak RSS from getrusage. Met or not is judged on the figure shown.")
	fmt.Fprintln(w)
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
