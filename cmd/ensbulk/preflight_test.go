package main

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/testkit"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// passwordCounter counts the requests that reach a handler carrying the
// password, and the connections its listener accepted (a request sent
// in clear to a TLS port never reaches a handler, but its connection
// does).
type passwordCounter struct {
	next     http.Handler
	password atomic.Int64
	conns    atomic.Int64
}

func (p *passwordCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if bytes.Contains(body, []byte("auth_password=")) {
		p.password.Add(1)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.next.ServeHTTP(w, r)
}

// serve starts h on 127.0.0.1, over TLS when tls, counting connections.
func (p *passwordCounter) serve(t *testing.T, tls bool) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(p)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are the point
	ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			p.conns.Add(1)
		}
	}
	if tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts.URL
}

// Each setup mistake stops the run before any row is sent, after at most
// two requests carrying the password, with one line that names the cause
// and the fix and the exit code of its kind (preflight.go); it leaves no
// report, so that the same command line with the setting corrected
// (here ENSWITCH_URL, or --url) runs to its end.
func TestPreflightSetupMistakes(t *testing.T) {
	t.Parallel()
	good := startSim(t, simulator.Config{Seed: 1})
	simHandler := func() http.Handler {
		sim, err := simulator.New(simulator.Config{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		return sim
	}
	htmlPage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<!DOCTYPE html>\n<html><body><form action=/login>Sign in</form></body></html>\n")
	})

	tests := []struct {
		name string
		// setup returns the wrong URL, and the counter of the server it
		// names (nil when nothing listens there).
		setup   func(t *testing.T) (string, *passwordCounter)
		flagURL bool // the URL goes in --url, not ENSWITCH_URL
		code    int
		want    []string
	}{
		{"closed port", func(t *testing.T) (string, *passwordCounter) {
			return "http://" + testkit.ClosedPort(t), nil
		}, false, exitAborted, []string{"connection refused", "check the port of the server URL"}},
		{"unknown host", func(t *testing.T) (string, *passwordCounter) {
			return "http://nonexistent.invalid:8080", nil
		}, false, exitAborted, []string{"nonexistent.invalid:8080", "does not resolve", "check the host of the server URL"}},
		{"https to a plain port", func(t *testing.T) (string, *passwordCounter) {
			pc := &passwordCounter{next: simHandler()}
			return strings.Replace(pc.serve(t, false), "http://", "https://", 1), pc
		}, false, exitUsage, []string{"answers plain HTTP, not HTTPS"}},
		{"http to a TLS port", func(t *testing.T) (string, *passwordCounter) {
			pc := &passwordCounter{next: simHandler()}
			return strings.Replace(pc.serve(t, true), "https://", "http://", 1), pc
		}, false, exitUsage, []string{"speaks HTTPS", "https://"}},
		{"wrong path", func(t *testing.T) (string, *passwordCounter) {
			pc := &passwordCounter{next: simHandler()}
			return pc.serve(t, false) + "/api/json", pc
		}, false, exitUsage, []string{"HTTP 404", "must be the server's root", "without /api/json"}},
		{"html page with 200", func(t *testing.T) (string, *passwordCounter) {
			pc := &passwordCounter{next: htmlPage}
			return pc.serve(t, false), pc
		}, false, exitUsage, []string{"not JSON", "not an Enswitch API"}},
		{"no scheme", func(t *testing.T) (string, *passwordCounter) {
			pc := &passwordCounter{next: simHandler()}
			return strings.TrimPrefix(pc.serve(t, false), "http://"), pc
		}, true, exitUsage, []string{"has no scheme", "https://127.0.0.1:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, auth := range []string{"auto", "token", "password"} {
				wrong, pc := tc.setup(t)
				desc := strings.ReplaceAll(tc.name, " ", "-") + "-" + auth
				in := writeFile(t, "changes.csv", "mailbox,customer,description\n1001,100,"+desc+"\n1003,100,"+desc+"\n")
				rep := report.DefaultPathFor(in, "run", report.CSV)
				env := map[string]string{"ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass", "ENSWITCH_AUTH": auth}
				args := []string{"run", in, "--rate", "20"}
				if tc.flagURL {
					args = append(args, "--url", wrong)
				} else {
					env["ENSWITCH_URL"] = wrong
				}
				res := runBinary(t, env, args...)
				if res.code != tc.code {
					t.Fatalf("--auth %s: exit %d, want %d\n%s", auth, res.code, tc.code, tail(res.stderr, 20))
				}
				line := ""
				for _, l := range strings.Split(unstamp(res.stderr), "\n") {
					if strings.HasPrefix(l, "ensbulk: ") && !strings.Contains(l, "warning") {
						line = l
					}
				}
				for _, w := range tc.want {
					if !strings.Contains(line, w) {
						t.Errorf("--auth %s: the error line does not say %q:\n%s", auth, w, res.stderr)
					}
				}
				if strings.Contains(res.stderr, "circuit open") || strings.Contains(res.stderr, "does not issue tokens") {
					t.Errorf("--auth %s: stderr tells of rows or tokens, not of the setting:\n%s", auth, res.stderr)
				}
				if pc != nil {
					if n := pc.password.Load(); n > 2 {
						t.Errorf("--auth %s: %d requests carried the password, want at most 2", auth, n)
					}
					if n := pc.conns.Load(); n > 2 {
						t.Errorf("--auth %s: %d connections to the wrong server, want at most 2", auth, n)
					}
					if tc.flagURL && pc.conns.Load() != 0 {
						t.Errorf("--auth %s: a URL without scheme reached the server (%d connections)", auth, pc.conns.Load())
					}
				}
				// Report, sidecar, lock, undo file and journal, snapshot:
				// nothing of the run stays beside its input.
				if left := filesBeside(t, in); len(left) > 0 {
					t.Errorf("--auth %s: left behind: %v", auth, left)
				}
				if auth != "auto" {
					continue
				}
				// The same command, the setting corrected.
				if tc.flagURL {
					args[len(args)-1] = good.URL
				} else {
					env["ENSWITCH_URL"] = good.URL
				}
				res = runBinary(t, env, args...)
				if res.code != exitOK {
					t.Fatalf("corrected rerun: exit %d, want 0\n%s", res.code, tail(res.stderr, 20))
				}
				if got := latest(t, rep); len(got) != 2 || got[1].Status != string(batch.StatusOK) || got[2].Status != string(batch.StatusOK) {
					t.Errorf("corrected rerun: report %v, want rows 1 and 2 ok", got)
				}
			}
		})
	}
}

// A wrong password stops at the preflight: exit 3 after one request with
// the password, no report, and the rerun with the right one succeeds.
func TestPreflightWrongPassword(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	for _, auth := range []string{"auto", "password"} {
		in := writeFile(t, "changes.csv", "mailbox,customer,description\n1001,100,pw "+auth+"\n1003,100,pw "+auth+"\n")
		env := simEnv(sim)
		env["ENSWITCH_AUTH"] = auth
		env["ENSWITCH_PASSWORD"] = "not-the-password"
		before := sim.Stats().Requests
		res := runBinary(t, env, "run", in, "--rate", "20")
		if res.code != exitAborted || !strings.Contains(res.stderr, "authentication refused for user admin") {
			t.Fatalf("--auth %s: exit %d, want %d and the credentials named\n%s", auth, res.code, exitAborted, tail(res.stderr, 20))
		}
		if n := sim.Stats().Requests - before; n != 1 {
			t.Errorf("--auth %s: %d requests, want 1", auth, n)
		}
		if left := filesBeside(t, in); len(left) > 0 {
			t.Errorf("--auth %s: left behind: %v", auth, left)
		}
		env["ENSWITCH_PASSWORD"] = "admin-demo-pass"
		if res := runBinary(t, env, "run", in, "--rate", "20"); res.code != exitOK {
			t.Fatalf("--auth %s: corrected rerun: exit %d\n%s", auth, res.code, tail(res.stderr, 20))
		}
	}
}

// A file-level error still sends nothing: the preflight comes after the
// whole input was read.
func TestPreflightAfterInputCheck(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	// The stray carriage return on the last line is a file-level error.
	in := writeFile(t, "bad.csv", "mailbox,customer,description\n1001,100,a\n1003,100,b\rc\n")
	res := runBinary(t, simEnv(sim), "run", in)
	if res.code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, tail(res.stderr, 20))
	}
	if n := sim.Stats().Requests; n != 0 {
		t.Errorf("%d requests for an input with a file-level error, want 0", n)
	}
}

// A row without customer that names a mailbox the user's own customer
// lacks says which customer was used: learned from the login (token) or
// from the preflight's read of the first row (password).
func TestOwnCustomerInMessages(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	for _, auth := range []string{"token", "password"} {
		in := writeFile(t, "own.csv", "mailbox,description\n1001,own "+auth+"\n7777,nowhere\n")
		rep := filepath.Join(t.TempDir(), "own.report.csv")
		env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "northwind", "ENSWITCH_PASSWORD": "northwind-demo-pass", "ENSWITCH_AUTH": auth}
		res := runBinary(t, env, "run", in, "--report", rep, "--rate", "0")
		if res.code != exitRows {
			t.Fatalf("--auth %s: exit %d, want %d\n%s", auth, res.code, exitRows, tail(res.stderr, 20))
		}
		got := latest(t, rep)
		if got[1].Status != string(batch.StatusOK) {
			t.Errorf("--auth %s: row 1 %s %s, want ok", auth, got[1].Status, got[1].Message)
		}
		want := "mailbox 7777 not found in customer 100 (the row has no customer column: the user's own customer was used)"
		if got[2].Status != string(batch.StatusFailed) || !strings.Contains(got[2].Message, want) {
			t.Errorf("--auth %s: row 2 %s %q, want failed with %q", auth, got[2].Status, got[2].Message, want)
		}
	}
}

// filesBeside lists the files in input's directory other than input.
func filesBeside(t *testing.T, input string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(input))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() != filepath.Base(input) {
			out = append(out, e.Name())
		}
	}
	return out
}
