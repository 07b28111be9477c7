package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// buildEnsbulk builds the real ensbulk binary into dir: peak RSS must be
// that of a separate process, and the run path measured is the product's.
func buildEnsbulk(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "ensbulk")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ensbulk/ensbulk/cmd/ensbulk")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ensbulk: %v\n%s", err, out)
	}
	return bin, nil
}

// procResult is one finished process (ensbulk, the raw client, vegeta).
type procResult struct {
	start  time.Time
	wall   time.Duration
	maxRSS int64 // bytes; 0 when the platform does not say
	// rssFloor is the helper's resident size: a child's maxrss cannot
	// be told apart below it.
	rssFloor int64
	cpu      time.Duration
	code     int
	stopped  string // "time" or "rss" when the helper stopped it at a bound
	stdout   string
	stderr   string
}

// tail is the end of the process's stderr, for error messages.
func (p procResult) tail() string {
	s := strings.TrimSpace(p.stderr)
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

// procSpec is a process to measure.
type procSpec struct {
	bin  string
	args []string
	env  []string // added to the environment (ENSWITCH_* and the bench's own are removed)
	url  string   // the server, as ENSWITCH_URL with the simulator's credentials; "" for none
	// limit bounds the process's time; the helper stops it there and
	// still reports (stopped "time"). maxRSS, when > 0, stops it when
	// its resident size passes that many bytes (stopped "rss").
	limit  time.Duration
	maxRSS int64
}

// runEnsbulk runs the ensbulk binary with args against url (empty: no
// server), at most timeout.
func runEnsbulk(ctx context.Context, bin, url string, timeout time.Duration, args ...string) (procResult, error) {
	return runProc(ctx, procSpec{bin: bin, args: args, url: url, limit: timeout})
}

// runProc runs the process through the helper (spawn.go) and waits for
// it. The clock runs from just before the process starts until it has
// exited: a full run, startup included. A process stopped at a bound is
// not an error: res.stopped says so.
func runProc(ctx context.Context, p procSpec) (procResult, error) {
	self, err := os.Executable()
	if err != nil {
		return procResult{}, fmt.Errorf("find this program to start processes through it: %w", err)
	}
	name := filepath.Base(p.bin) + " " + strings.Join(p.args, " ")
	// The helper stops the child at p.limit; the margin is for the helper
	// itself. Killing the helper kills the child with it (childAttr).
	ctx, cancel := context.WithTimeout(ctx, p.limit+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, p.args...)
	env := make([]string, 0, len(os.Environ())+8)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENSWITCH_") && !strings.HasPrefix(kv, "ENSBULK_BENCH_") {
			env = append(env, kv)
		}
	}
	if p.url != "" {
		env = append(env, "ENSWITCH_URL="+p.url, "ENSWITCH_USER="+simUser, "ENSWITCH_PASSWORD="+simPassword)
	}
	env = append(env, p.env...)
	env = append(env, spawnEnv+"="+p.bin, spawnLimitEnv+"="+p.limit.String())
	if p.maxRSS > 0 {
		env = append(env, spawnRSSEnv+"="+strconv.FormatInt(p.maxRSS, 10))
	}
	cmd.Env = env
	var stdout, stderr, report bytes.Buffer
	cmd.Stdout = &limitedBuffer{b: &stdout, max: 1 << 20}
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 1 << 20}
	pr, pw, err := os.Pipe()
	if err != nil {
		return procResult{}, err
	}
	defer pr.Close()
	cmd.ExtraFiles = []*os.File{pw} // descriptor 3 in the helper
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		pw.Close()
		return procResult{}, err
	}
	pw.Close()
	_, _ = report.ReadFrom(pr) // until the helper exits
	err = cmd.Wait()
	res := procResult{stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%s: the helper did not report within %s", name, p.limit+30*time.Second)
	}
	var rep spawnReport
	if jerr := json.Unmarshal(report.Bytes(), &rep); jerr != nil {
		return res, fmt.Errorf("%s: no report from the helper (%v, %v)", name, err, jerr)
	}
	if rep.Err != "" {
		return res, fmt.Errorf("%s: %s", name, rep.Err)
	}
	res.start, res.wall, res.cpu, res.maxRSS, res.rssFloor, res.code, res.stopped = rep.Start, rep.Wall, rep.CPU, rep.MaxRSS, rep.Floor, rep.Code, rep.Stopped
	return res, nil
}

// limitedBuffer keeps the first max bytes written to it and drops the
// rest, so a chatty process cannot fill memory.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
