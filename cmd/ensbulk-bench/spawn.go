package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Every measured process (ensbulk, the raw client, vegeta) is started
// through a helper: this program run again with spawnEnv naming the
// binary. The helper starts it, waits for it, and reports on file
// descriptor 3 what the kernel says about it.
//
// The helper exists for the peak RSS. os/exec starts children with vfork:
// until exec the child runs in its parent's memory, and Linux carries that
// memory's high-water mark into the child's maxrss. A child of the bench
// (which has held a simulator and a million-row file) would report the
// bench's peak, not its own. The helper is a fresh, small process, so its
// child's maxrss is the child's own (or the helper's few MiB, reported as
// a floor). The helper also times the child alone, without its own start,
// and enforces the bounds (spawnLimitEnv, spawnRSSEnv) itself, so that a
// process stopped at a bound still reports how far it got.
const (
	spawnEnv      = "ENSBULK_BENCH_SPAWN"
	spawnLimitEnv = "ENSBULK_BENCH_LIMIT"  // time bound (a Go duration)
	spawnRSSEnv   = "ENSBULK_BENCH_MAXRSS" // resident-size bound, bytes
)

// spawnReport is what the helper writes on descriptor 3.
type spawnReport struct {
	Start  time.Time     `json:"start"`
	Wall   time.Duration `json:"wall"`
	CPU    time.Duration `json:"cpu"`
	MaxRSS int64         `json:"max_rss"`
	Floor  int64         `json:"floor"` // the helper's own resident size when it started the child
	Code   int           `json:"code"`
	// Stopped says why the helper killed the child ("" when it exited
	// on its own): "time" or "rss".
	Stopped string `json:"stopped,omitempty"`
	Err     string `json:"err,omitempty"`
}

// spawnMain is the helper: run bin with args, report on descriptor 3.
func spawnMain(bin string, args []string) int {
	out := os.NewFile(3, "report")
	if out == nil {
		fmt.Fprintln(os.Stderr, "ensbulk-bench helper: no report descriptor")
		return 125
	}
	defer out.Close()
	limit, _ := time.ParseDuration(os.Getenv(spawnLimitEnv))
	rssLimit, _ := strconv.ParseInt(os.Getenv(spawnRSSEnv), 10, 64)
	// The parent-death signal is tied to the thread that starts the child.
	runtime.LockOSThread()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = childAttr() // dies with the helper
	env := os.Environ()[:0:0]
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, spawnEnv+"=") && !strings.HasPrefix(kv, spawnLimitEnv+"=") && !strings.HasPrefix(kv, spawnRSSEnv+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	rep := spawnReport{Floor: ownRSS(), Start: time.Now()}
	if err := cmd.Start(); err != nil {
		rep.Err = err.Error()
		return writeSpawnReport(out, rep)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var deadline <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		deadline = t.C
	}
	// The resident size is polled only to stop a process before it
	// takes the machine's memory; the figure is the kernel's maxrss.
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-deadline:
			rep.Stopped = "time"
			_ = cmd.Process.Kill()
		case <-poll.C:
			if rssLimit > 0 && rep.Stopped == "" && pidRSS(cmd.Process.Pid) > rssLimit {
				rep.Stopped = "rss"
				_ = cmd.Process.Kill()
			}
		}
	}
	rep.Wall = time.Since(rep.Start)
	if ps := cmd.ProcessState; ps != nil {
		rep.Code, rep.MaxRSS, rep.CPU = ps.ExitCode(), maxRSS(ps), cpuTime(ps)
	} else if err != nil {
		rep.Err = err.Error()
	}
	return writeSpawnReport(out, rep)
}

func writeSpawnReport(out *os.File, rep spawnReport) int {
	if err := json.NewEncoder(out).Encode(rep); err != nil {
		return 125
	}
	return 0
}
