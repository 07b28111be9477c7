package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// procResult is one finished ensbulk process.
type procResult struct {
	start  time.Time
	wall   time.Duration
	maxRSS int64 // bytes; 0 when the platform does not say
	// rssFloor is the helper's resident size: a child's maxrss cannot
	// be told apart below it.
	rssFloor int64
	cpu      time.Duration
	code     int
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

// runEnsbulk runs the binary with args against url (empty: no server),
// through the helper (spawn.go), and waits for it, at most timeout. The
// clock runs from just before the process starts until it has exited: a
// full run, startup included.
func runEnsbulk(ctx context.Context, bin, url string, timeout time.Duration, args ...string) (procResult, error) {
	self, err := os.Executable()
	if err != nil {
		return procResult{}, fmt.Errorf("find this program to start ensbulk through it: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Killing the helper kills ensbulk with it (childAttr).
	cmd := exec.CommandContext(ctx, self, args...)
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENSWITCH_") && !strings.HasPrefix(kv, spawnEnv+"=") {
			env = append(env, kv)
		}
	}
	if url != "" {
		env = append(env, "ENSWITCH_URL="+url, "ENSWITCH_USER="+simUser, "ENSWITCH_PASSWORD="+simPassword)
	}
	cmd.Env = append(env, spawnEnv+"="+bin)
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
		return res, fmt.Errorf("ensbulk %s: not done after %s", strings.Join(args, " "), timeout)
	}
	var rep spawnReport
	if jerr := json.Unmarshal(report.Bytes(), &rep); jerr != nil {
		return res, fmt.Errorf("ensbulk %s: no report from the helper (%v, %v)", strings.Join(args, " "), err, jerr)
	}
	if rep.Err != "" {
		return res, fmt.Errorf("ensbulk %s: %s", strings.Join(args, " "), rep.Err)
	}
	res.start, res.wall, res.cpu, res.maxRSS, res.rssFloor, res.code = rep.Start, rep.Wall, rep.CPU, rep.MaxRSS, rep.Floor, rep.Code
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
