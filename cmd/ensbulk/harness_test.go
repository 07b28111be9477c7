package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/testkit"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/samples"
	"github.com/ensbulk/ensbulk/simulator"
)

// Shared test harness for cmd/ensbulk: a real simulator on 127.0.0.1
// (httptest), run() driven with an injected Env, and the real binary
// built once for the tests that need a process (signals, SIGKILL, argv).

// binary is the ensbulk binary built by TestMain ("" until built): the
// only build of the package's run, installed as the README says (go
// install ./cmd/ensbulk, into a GOBIN of its own), its version stamped as
// a release's is (testVersion).
var binary string

// testVersion is the version TestMain stamps into binary, with
// testCommit, as the Makefile stamps them.
const testVersion, testCommit = "v9.8.7-test", "0123456789ab"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ensbulk-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "ensbulk")
	install := exec.Command("go", "install", "-ldflags", "-X main.version="+testVersion+" -X main.commit="+testCommit, "./cmd/ensbulk")
	install.Dir = "../.."
	install.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := install.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go install ./cmd/ensbulk: %v\n%s", err, out)
		os.Exit(2)
	}
	// No test reads the profiles of whoever runs it: the binary's default
	// config file is looked for in an empty folder.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	os.Unsetenv("ENSBULK_CONFIG")
	os.Unsetenv("ENSBULK_PROFILE")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testSim is a simulator served over loopback.
type testSim struct {
	*simulator.Server
	URL string
}

func startSim(t testing.TB, cfg simulator.Config) *testSim {
	t.Helper()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim) // listens on 127.0.0.1
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		sim.Close()
	})
	return &testSim{Server: sim, URL: ts.URL}
}

// cli is one invocation of run() with its captured output.
type cli struct {
	stdout, stderr string
	code           int
	err            error
}

// runCLI calls run() as main would, with env as the environment.
func runCLI(t testing.TB, ctx context.Context, env map[string]string, args ...string) cli {
	t.Helper()
	var out, errb syncBuffer
	e := &Env{
		Stdin:  strings.NewReader(""),
		Stdout: &out, Stderr: &errb,
		Getenv:        func(k string) string { return env[k] },
		StdinTerminal: func() bool { return false },
	}
	err := run(ctx, args, e)
	code := exitCode(err, e.Stderr)
	return cli{stdout: out.String(), stderr: errb.String(), code: code, err: err}
}

// simEnv is the environment for the demo admin on a simulator.
func simEnv(s *testSim) map[string]string {
	return map[string]string{"ENSWITCH_URL": s.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
}

// syncBuffer is an output the binary's goroutines write to while a test
// reads it.
type syncBuffer = testkit.Buffer

// sample copies a file of samples/ into a fresh directory.
func sample(t testing.TB, name string) string {
	t.Helper()
	b, err := samples.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name, string(b))
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type boxKey struct {
	customer int
	mailbox  string
}

// expectState returns what the simulator must hold after a run: the
// initial world with the params of every row the report says ok applied
// in file order (and of every row it says unchanged: the switch held
// them already, perhaps set by a run killed before it reported them).
func expectState(t testing.TB, initial *simulator.State, input, reportPath string) map[boxKey]map[string]string {
	t.Helper()
	want := map[boxKey]map[string]string{}
	for _, m := range initial.Mailboxes {
		c, _ := strconv.Atoi(m["customer"])
		cp := map[string]string{}
		for k, v := range m {
			cp[k] = v
		}
		want[boxKey{c, m["mailbox"]}] = cp
	}
	latest := latest(t, reportPath)
	format, err := reader.DetectFormat(input, "")
	if err != nil {
		t.Fatal(err)
	}
	r, c, err := reader.Open(input, reader.Options{Format: format})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if st := latest[row.Num].Status; st != string(batch.StatusOK) && st != string(batch.StatusUnchanged) {
			continue
		}
		cust, _ := strconv.Atoi(row.Customer)
		box := want[boxKey{cust, row.Mailbox}]
		if box == nil {
			t.Fatalf("row %d reported ok for mailbox %s/%s that the simulator never had", row.Num, row.Customer, row.Mailbox)
		}
		for _, p := range row.Params {
			box[p.Name] = p.Value
		}
	}
	return want
}

// checkState compares the simulator's mailboxes with want.
func checkState(t testing.TB, sim *testSim, want map[boxKey]map[string]string) {
	t.Helper()
	bad := 0
	for k, w := range want {
		got, ok := sim.Mailbox(k.customer, k.mailbox)
		if !ok {
			t.Errorf("mailbox %v missing from the simulator", k)
			continue
		}
		for f, v := range w {
			if got[f] != v {
				if bad++; bad <= 10 {
					t.Errorf("mailbox %v %s = %q, want %q", k, f, got[f], v)
				}
			}
		}
	}
}

// latest reads a report's records by row.
func latest(t testing.TB, path string) map[int]report.Record {
	t.Helper()
	lr, err := report.OpenLatest(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	l := map[int]report.Record{}
	for rec, err := range lr.All() {
		if err != nil {
			t.Fatal(err)
		}
		l[rec.Row] = rec
	}
	return l
}

// countLines counts the records of a report file (header excluded).
func countRecords(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(b), "\n")
	if strings.HasPrefix(string(b), "row,") {
		n--
	}
	return n
}

// swappableSim is one switch (one URL) whose simulator a test replaces,
// as an operator's fix on the server changes its state: a report made
// against it stays a report of the same switch.
type swappableSim struct {
	cur atomic.Pointer[simulator.Server]
	URL string
}

func startSwappableSim(t testing.TB, cfg simulator.Config) *swappableSim {
	t.Helper()
	s := &swappableSim{}
	s.swap(t, cfg)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.cur.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		s.cur.Load().Close()
	})
	s.URL = ts.URL
	return s
}

// swap serves a new simulator at the same URL.
func (s *swappableSim) swap(t testing.TB, cfg simulator.Config) *simulator.Server {
	t.Helper()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if old := s.cur.Swap(sim); old != nil {
		old.Close()
	}
	return sim
}

// watchedSim is a simulator whose test can wait for what it has served
// (an event), instead of sleeping and hoping.
type watchedSim struct {
	*testSim
	mu      sync.Mutex
	waiters []simWaiter
}

type simWaiter struct {
	cond func(simulator.Stats) bool
	ch   chan struct{}
}

func startWatchedSim(t testing.TB, cfg simulator.Config) *watchedSim {
	t.Helper()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &watchedSim{}
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		sim.ServeHTTP(rw, r)
		w.check()
	}))
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		sim.Close()
	})
	w.testSim = &testSim{Server: sim, URL: ts.URL}
	return w
}

// when returns a channel closed once the simulator's stats satisfy cond,
// as seen after a request it served (or now).
func (w *watchedSim) when(cond func(simulator.Stats) bool) <-chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	w.waiters = append(w.waiters, simWaiter{cond, ch})
	w.mu.Unlock()
	w.check()
	return ch
}

func (w *watchedSim) check() {
	st := w.Stats()
	w.mu.Lock()
	defer w.mu.Unlock()
	kept := w.waiters[:0]
	for _, x := range w.waiters {
		if x.cond(st) {
			close(x.ch)
		} else {
			kept = append(kept, x)
		}
	}
	w.waiters = kept
}
