//go:build linux

package main

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/ensbulk/ensbulk/simulator"
)

// The terminal side of the operator's day, through the real binary on a
// pseudo-terminal: the password prompt, the progress bar among log lines,
// colour. Linux only: the echo check reads termios with TCGETS.

// ttyProc is the binary running with a pseudo-terminal as its
// controlling terminal and stdin, stdout and stderr.
type ttyProc struct {
	cmd  *exec.Cmd
	ptm  *os.File // the terminal's side: what the user types and sees
	tty  *os.File // the program's side, kept open to read its termios
	out  *syncBuffer
	done chan struct{}
	// drained is closed when the screen has read everything the program
	// wrote: the terminal's side reads EIO once every program side is
	// closed and its data taken.
	drained chan struct{}
	// exitEcho is the terminal's echo when the program had exited and
	// wait closed the program's side.
	exitEcho *bool
}

// startTTY starts the binary on a fresh pseudo-terminal with env (on top
// of operatorEnv) and TERM=xterm unless env says otherwise.
func startTTY(t *testing.T, env map[string]string, args ...string) *ttyProc {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: 40, Cols: 160}); err != nil {
		t.Fatal(err)
	}
	full := map[string]string{"TERM": "xterm"}
	for k, v := range env {
		full[k] = v
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = operatorEnv(full)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// A session of its own with the terminal as its controlling terminal,
	// so that ^C typed on it is a SIGINT to the binary, as in a shell.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	p := &ttyProc{cmd: cmd, ptm: ptm, tty: tty, out: &syncBuffer{}, done: make(chan struct{}), drained: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // the terminal's screen: drained, or the program blocks
		defer close(p.drained)
		buf := make([]byte, 4096)
		for {
			n, err := ptm.Read(buf)
			p.out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		ptm.Close()
		tty.Close()
	})
	return p
}

// waitOutput waits until the screen holds s.
func (p *ttyProc) waitOutput(t *testing.T, s string, limit time.Duration) {
	t.Helper()
	p.waitMatch(t, regexp.MustCompile(regexp.QuoteMeta(s)), limit)
}

// waitMatch waits until the screen matches re.
func (p *ttyProc) waitMatch(t *testing.T, re *regexp.Regexp, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !re.MatchString(p.out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("nothing matching %s on the terminal after %s:\n%q", re, limit, p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the end of the process, at most limit, and returns its
// exit code and the time it took.
func (p *ttyProc) wait(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("still running %s later; the terminal:\n%q", limit, p.out.String())
	}
	took := time.Since(start)
	// The program's side closed, the screen reads up to the program's
	// last byte and then EIO.
	echo := p.echo(t)
	p.exitEcho = &echo
	p.tty.Close()
	select {
	case <-p.drained:
	case <-time.After(limit):
		t.Fatalf("the screen was not drained %s after the exit:\n%q", limit, p.out.String())
	}
	return p.cmd.ProcessState.ExitCode(), took
}

func (p *ttyProc) echo(t *testing.T) bool {
	t.Helper()
	if p.exitEcho != nil {
		return *p.exitEcho
	}
	tio, err := unix.IoctlGetTermios(int(p.tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

func TestCtrlCAtPasswordPrompt(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	in := writeFile(t, "changes.csv", twoRows)
	// A fresh terminal has echo on (what the end of the test expects
	// back). Read on a terminal of its own: the program's may already be
	// at its prompt, echo off, by the time the test looks.
	ptm, fresh, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	tio, err := unix.IoctlGetTermios(int(fresh.Fd()), unix.TCGETS)
	ptm.Close()
	fresh.Close()
	if err != nil || tio.Lflag&unix.ECHO == 0 {
		t.Fatalf("a fresh terminal has echo off (%v)", err)
	}
	p := startTTY(t, map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin"}, "run", in)
	p.waitOutput(t, "Password for admin at", 30*time.Second)
	// term.ReadPassword turns echo off just after the prompt is written.
	deadline := time.Now().Add(5 * time.Second)
	for p.echo(t) {
		if time.Now().After(deadline) {
			t.Fatal("echo still on at the password prompt")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := p.ptm.Write([]byte{3}); err != nil { // ^C
		t.Fatal(err)
	}
	code, took := p.wait(t, 5*time.Second)
	if code != exitAborted {
		t.Errorf("exit %d, want %d (interrupted)\n%q", code, exitAborted, p.out.String())
	}
	if took > 2*time.Second {
		t.Errorf("exited %s after ^C, want at once", took)
	}
	if !p.echo(t) {
		t.Error("the terminal was left with echo off")
	}
	if n := sim.Stats().Requests; n != 0 {
		t.Errorf("simulator saw %d requests, want none", n)
	}
	entries, err := os.ReadDir(strings.TrimSuffix(in, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "changes.csv" {
			t.Errorf("%s left next to the input", e.Name())
		}
	}
	if !strings.Contains(p.out.String(), "interrupted at the password prompt") {
		t.Errorf("the terminal does not say why it stopped:\n%q", p.out.String())
	}
}

// barDraw is one drawing of the progress bar: phase, count and total.
var barDraw = regexp.MustCompile(`(validate|apply)\s+\d+\.\d rows/s, failures \d+\s+\d+% \|[^|]*\| \((\d+)/(\d+)\)`)

// logStart is the start of a log line on a terminal (time, level).
var logStart = regexp.MustCompile(`\d\d:\d\d:\d\d\t(\x1b\[\d+m)?(INFO|WARN|ERROR)`)

// manyWithBad is n rows of which every fifth has a PIN the server refuses.
func manyWithBad(n int) string {
	var b strings.Builder
	b.WriteString("mailbox,customer,description,pin\n")
	for i := range n {
		pin := "4839" + strconv.Itoa(10+i)
		if i%5 == 4 {
			pin = "12"
		}
		b.WriteString(strconv.Itoa(1001+2*i) + ",100,row " + strconv.Itoa(i+1) + "," + pin + "\n")
	}
	return b.String()
}

func TestTerminalBarAndLogLines(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: 200})
	env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	in := writeFile(t, "changes.csv", manyWithBad(40))
	p := startTTY(t, env, "run", in, "--rate", "40", "--workers", "2")
	code, _ := p.wait(t, time.Minute)
	screen := p.out.String()
	if code != exitRows {
		t.Fatalf("exit %d, want %d\n%q", code, exitRows, screen)
	}
	logs := logStart.FindAllStringIndex(screen, -1)
	warns := strings.Count(screen, "row not applied")
	if warns != 8 || len(barDraw.FindAllString(screen, -1)) < 4 {
		t.Fatalf("%d warnings (want 8) and %d bar drawings (want several): the test sees neither\n%q", warns, len(barDraw.FindAllString(screen, -1)), screen)
	}
	// One rate unit from the first frame to the last.
	if u := regexp.MustCompile(`rows/(hr|min)`).FindString(screen); u != "" || !strings.Contains(screen, "rows/s") {
		t.Errorf("the bar's rate is not in rows/s throughout (found %q):\n%q", u, screen)
	}
	// Every log line starts on a line of its own: whatever the bar drew
	// on that line was wiped (spaces) before it.
	for _, ix := range logs {
		lineStart := strings.LastIndexByte(screen[:ix[0]], '\n') + 1
		before := screen[lineStart:ix[0]]
		if i := strings.LastIndexByte(before, '\r'); i >= 0 && strings.TrimSpace(before[i:]) == "" {
			before = before[i:] // wiped: the terminal shows what follows the last CR
		}
		if strings.TrimSpace(strings.ReplaceAll(before, "\r", "")) != "" {
			t.Errorf("a log line is glued to the bar: %q", screen[lineStart:min(len(screen), ix[1]+20)])
		}
	}
	// The bar is redrawn below a log line written while it was shown.
	if !regexp.MustCompile(`row not applied[^\n]*\n\r[^\n]*validate\s+\d+\.\d rows/s, failures`).MatchString(screen) {
		t.Errorf("the bar is not redrawn after a log line:\n%q", screen)
	}
	// Each phase's last drawing shows its full count.
	last := map[string]string{}
	for _, m := range barDraw.FindAllStringSubmatch(screen, -1) {
		last[m[1]] = m[2] + "/" + m[3]
	}
	if last["validate"] != "40/40" || last["apply"] != "32/32" {
		t.Errorf("last drawings: %v, want validate 40/40 and apply 32/32", last)
	}
}

// TestTerminalBarShowsTrueCountOnStop: after an abort or a Ctrl-C the bar
// stays where the run got to; it is not filled to 100%.
func TestTerminalBarShowsTrueCountOnStop(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: 200})
	in := manyRows(60)

	t.Run("abort", func(t *testing.T) {
		// auditor may not update (402): three in a row abort the run.
		env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "auditor", "ENSWITCH_PASSWORD": "auditor-demo-pass"}
		p := startTTY(t, env, "run", writeFile(t, "changes.csv", in), "--rate", "20", "--workers", "1")
		code, _ := p.wait(t, time.Minute)
		checkStoppedBar(t, p.out.String(), code)
	})
	t.Run("interrupt", func(t *testing.T) {
		env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
		p := startTTY(t, env, "run", writeFile(t, "changes.csv", in), "--rate", "20", "--workers", "2")
		p.waitMatch(t, regexp.MustCompile(`validate\s+\d+\.\d rows/s, failures 0\s+\d+% \|[^|]*\| \([1-9]\d/60\)`), 30*time.Second)
		if _, err := p.ptm.Write([]byte{3}); err != nil { // ^C
			t.Fatal(err)
		}
		code, _ := p.wait(t, 30*time.Second)
		checkStoppedBar(t, p.out.String(), code)
	})
}

func checkStoppedBar(t *testing.T, screen string, code int) {
	t.Helper()
	if code != exitAborted {
		t.Fatalf("exit %d, want %d\n%q", code, exitAborted, screen)
	}
	draws := barDraw.FindAllStringSubmatch(screen, -1)
	if len(draws) == 0 {
		t.Fatalf("no bar drawn:\n%q", screen)
	}
	m := draws[len(draws)-1]
	done, _ := strconv.Atoi(m[2])
	total, _ := strconv.Atoi(m[3])
	if done >= total || strings.Contains(m[0], "100%") {
		t.Errorf("the bar's last drawing is %q: a stopped run must not show it complete", m[0])
	}
	if !strings.Contains(screen, "skipped") {
		t.Errorf("no skipped rows in the summary:\n%q", screen)
	}
}

func TestTerminalColour(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	base := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	tests := []struct {
		name   string
		env    map[string]string
		colour bool
		bar    bool
	}{
		{"a terminal", nil, true, true},
		{"NO_COLOR", map[string]string{"NO_COLOR": "1"}, false, true},
		{"TERM=dumb", map[string]string{"TERM": "dumb"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			p := startTTY(t, env, "run", writeFile(t, "changes.csv", twoRows), "--rate", "0")
			code, _ := p.wait(t, time.Minute)
			screen := p.out.String()
			if code != exitRows || !strings.Contains(screen, "row not applied") {
				t.Fatalf("exit %d, want 1 with a warning\n%q", code, screen)
			}
			if got := strings.Contains(screen, "\x1b["); got != tt.colour {
				t.Errorf("escape sequences on the terminal: %v, want %v\n%q", got, tt.colour, screen)
			}
			if got := barDraw.MatchString(screen); got != tt.bar {
				t.Errorf("progress bar drawn: %v, want %v\n%q", got, tt.bar, screen)
			}
		})
	}
}
