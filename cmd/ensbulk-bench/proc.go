package main

import (
	"bytes"
	"context"
	"errors"
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
	cpu    time.Duration
	code   int
	stdout string
	stderr string
}

// tail is the end of the process's stderr, for error messages.
func (p procResult) tail() string {
	s := strings.TrimSpace(p.stderr)
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

// runEnsbulk runs the binary with args against url (empty: no server) and
// waits for it, at most timeout. The clock runs from just before the
// process starts until it has exited: a full run, startup included.
func runEnsbulk(ctx context.Context, bin, url string, timeout time.Duration, args ...string) (procResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	env := make([]string, 0, len(os.Environ())+3)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENSWITCH_") {
			env = append(env, kv)
		}
	}
	if url != "" {
		env = append(env, "ENSWITCH_URL="+url, "ENSWITCH_USER="+simUser, "ENSWITCH_PASSWORD="+simPassword)
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitedBuffer{b: &stdout, max: 1 << 20}
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 1 << 20}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := procResult{start: start, wall: time.Since(start), stdout: stdout.String(), stderr: stderr.String()}
	if cmd.ProcessState != nil {
		res.code = cmd.ProcessState.ExitCode()
		res.maxRSS = maxRSS(cmd.ProcessState)
		res.cpu = cpuTime(cmd.ProcessState)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("ensbulk %s: not done after %s", strings.Join(args, " "), timeout)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return res, err
	}
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
