package simserve_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/internal/simserve"
	"github.com/ensbulk/ensbulk/simulator"
)

// server is one Run of sim, serving in the background.
type server struct {
	url            string
	cancel         context.CancelFunc
	done           chan error
	stdout, stderr *lockedBuffer
}

// lockedBuffer is an output Run writes to while the test reads it; each
// write is signalled on wrote.
type lockedBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{}
}

func newBuffer() *lockedBuffer { return &lockedBuffer{wrote: make(chan struct{}, 1)} }

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// options are sim's flags' defaults, on a free port of 127.0.0.1, with
// mod applied.
func options(mod func(*simserve.Options)) *simserve.Options {
	o := &simserve.Options{Addr: "127.0.0.1:0", VersionCompat: simulator.DefaultVersion,
		PINDisplay: string(simulator.PINMasked), NullColumns: simulator.DefaultNullColumns(), PINDigits: "4-10",
		EmailCheck: simulator.EmailAddress, Timezones: simulator.TimezonesIANA, CheckOrder: "401,402,403,400,404"}
	if mod != nil {
		mod(o)
	}
	return o
}

// start runs sim with o and waits for its first line on stdout, the URL
// it listens on. What it prints before serving (the tokens line, the
// users) is all on stdout once a request has been answered.
func start(t *testing.T, o *simserve.Options) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{cancel: cancel, done: make(chan error, 1), stdout: newBuffer(), stderr: newBuffer()}
	go func() { s.done <- simserve.Run(ctx, &simserve.Env{Stdout: s.stdout, Stderr: s.stderr}, o) }()
	t.Cleanup(cancel)
	for {
		first, rest, complete := strings.Cut(s.stdout.String(), "\n")
		if complete {
			u, ok := strings.CutPrefix(first, "listening on ")
			if !ok {
				t.Fatalf("first line %q, want listening on URL (then %q)", first, rest)
			}
			s.url = u
			return s
		}
		select {
		case <-s.stdout.wrote:
		case err := <-s.done:
			t.Fatalf("Run = %v before listening; stdout %q", err, s.stdout)
		}
	}
}

// stop cancels the context and returns what Run returned.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
		return nil
	}
}

// state reads the world the server shows at /__state.
func state(t *testing.T, c *http.Client, base string) *simulator.State {
	t.Helper()
	resp, err := c.Get(base + "/__state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/__state: %s", resp.Status)
	}
	var st simulator.State // PINs masked: LoadState would refuse them
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// generated is the world sim generates of mailboxes and seed.
func generated(t *testing.T, mailboxes int, seed int64) *simulator.State {
	t.Helper()
	sim, err := simulator.New(simulator.Config{Mailboxes: mailboxes, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	return sim.State()
}

// sameMailboxes says whether got holds the mailboxes of want, in order
// (by customer, number and description: /__state masks PINs).
func sameMailboxes(got, want *simulator.State) bool {
	if len(got.Mailboxes) != len(want.Mailboxes) {
		return false
	}
	for i, m := range want.Mailboxes {
		g := got.Mailboxes[i]
		if g["customer"] != m["customer"] || g["mailbox"] != m["mailbox"] || g["description"] != m["description"] {
			return false
		}
	}
	return true
}

// login posts user/login as the demo admin with password and returns
// the HTTP status and body.
func login(t *testing.T, c *http.Client, base, password string) string {
	t.Helper()
	resp, err := c.PostForm(base+"/api/json/user/login/", url.Values{"auth_username": {"admin"}, "auth_password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestRunServesAndStops: sim listens on the port it was given, says
// where, how it authenticates and whom it knows, answers the API, and on
// the context's end stops listening and writes its world to --dump.
func TestRunServesAndStops(t *testing.T) {
	t.Parallel()
	dump := filepath.Join(t.TempDir(), "world.json")
	s := start(t, options(func(o *simserve.Options) { o.Mailboxes, o.Seed, o.Dump = 7, 3, dump }))
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") || strings.HasSuffix(s.url, ":0") {
		t.Errorf("listening on %q, want a port of 127.0.0.1", s.url)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	want := generated(t, 7, 3)
	if st := state(t, c, s.url); !sameMailboxes(st, want) {
		t.Errorf("/__state holds %d mailboxes, not the %d generated of 7 and seed 3", len(st.Mailboxes), len(want.Mailboxes))
	}
	out := s.stdout.String()
	for _, want := range []string{"tokens: user/login issues tokens that never expire", "admin", "admin-demo-pass", "administrator"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout %q does not say %q", out, want)
		}
	}
	if body := login(t, c, s.url, "admin-demo-pass"); !strings.Contains(body, `"code":"200"`) || !strings.Contains(body, `"username":"admin"`) {
		t.Errorf("user/login as admin answered %q, want 200", body)
	}
	if body := login(t, c, s.url, "wrong"); !strings.Contains(body, "401") {
		t.Errorf("user/login with a wrong password answered %q, want 401", body)
	}

	if err := s.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil after the context ended", err)
	}
	c.CloseIdleConnections()
	if _, err := c.Get(s.url + "/__state"); err == nil {
		t.Error("still answering after Run returned")
	}
	if !strings.Contains(s.stderr.String(), "state written to "+dump) {
		t.Errorf("stderr = %q, want the dump named", s.stderr)
	}
	f, err := os.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := simulator.LoadState(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Mailboxes) != len(want.Mailboxes) || len(st.Users) != len(want.Users) || st.Mailboxes[0]["pin"] != want.Mailboxes[0]["pin"] {
		t.Errorf("dump holds %d mailboxes and %d users, want %d and %d, real PINs included", len(st.Mailboxes), len(st.Users), len(want.Mailboxes), len(want.Users))
	}
}

// TestRunState: --state is the world served; its mailboxes are those of
// the file.
func TestRunState(t *testing.T) {
	t.Parallel()
	world := generated(t, 4, 1)
	world.Mailboxes = world.Mailboxes[:4]
	world.Mailboxes[0]["description"] = "from the state file"
	path := filepath.Join(t.TempDir(), "state.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := simulator.New(simulator.Config{State: world})
	if err := seed.DumpState(f); err != nil {
		t.Fatal(err)
	}
	seed.Close()
	f.Close()

	s := start(t, options(func(o *simserve.Options) { o.State, o.Mailboxes = path, 50 }))
	st := state(t, &http.Client{Timeout: 5 * time.Second}, s.url)
	if len(st.Mailboxes) != 4 || st.Mailboxes[0]["description"] != "from the state file" {
		t.Errorf("served %d mailboxes, the first %q; want the state file's 4", len(st.Mailboxes), st.Mailboxes[0]["description"])
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestRunTLS: --tls serves HTTPS with a fresh certificate written to
// --cert-file (the certificate, never the key), which a client can
// trust to reach it.
func TestRunTLS(t *testing.T) {
	t.Parallel()
	certFile := filepath.Join(t.TempDir(), "sim.pem")
	s := start(t, options(func(o *simserve.Options) { o.Mailboxes, o.TLS, o.CertFile = 3, true, certFile }))
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") {
		t.Errorf("listening on %q, want https", s.url)
	}
	if out := s.stdout.String(); !strings.Contains(out, "certificate: "+certFile) {
		t.Errorf("stdout %q does not name the certificate", out)
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(pem), "PRIVATE KEY") || !strings.Contains(string(pem), "BEGIN CERTIFICATE") {
		t.Fatalf("cert file holds %q, want the certificate alone", pem)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if st := state(t, c, s.url); !sameMailboxes(st, generated(t, 3, 0)) {
		t.Errorf("/__state over TLS holds %d mailboxes, not the world of 3", len(st.Mailboxes))
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if _, err := plain.Get(s.url + "/__state"); err == nil {
		t.Error("a client without the certificate was answered")
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.stderr.String(), "certificate left in "+certFile) {
		t.Errorf("stderr = %q, want the certificate's file named", s.stderr)
	}
}

// TestRunTokensLine: the tokens line says how the simulator
// authenticates.
func TestRunTokensLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mod  func(*simserve.Options)
		want string
	}{
		{func(o *simserve.Options) { o.NoLogin = true }, "tokens: none (a server before Enswitch 3.13"},
		{func(o *simserve.Options) { o.NoTokens = true }, "tokens: none (a server before Enswitch 4.1"},
		{func(o *simserve.Options) { o.TokenTTL = 90 * time.Second }, "tokens: user/login issues tokens that expire after 1m30s"},
		{func(o *simserve.Options) { o.TwoFactor = []string{"acme"} }, "acme"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			o := options(tt.mod)
			o.Mailboxes = 2
			s := start(t, o)
			state(t, &http.Client{Timeout: 5 * time.Second}, s.url)
			out := s.stdout.String()
			if !strings.Contains(out, tt.want) {
				t.Errorf("stdout %q does not say %q", out, tt.want)
			}
			if len(o.TwoFactor) > 0 && !strings.Contains(out, "(two-factor login)") {
				t.Errorf("stdout %q does not mark the two-factor user", out)
			}
			if err := s.stop(t); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRunRefuses: settings sim cannot use are refused with the kind the
// command maps to its exit code, before it listens.
func TestRunRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*simserve.Options)
		kind job.Kind
		want string
	}{
		{"negative token TTL", func(o *simserve.Options) { o.TokenTTL = -time.Second }, job.Usage, "--token-ttl"},
		{"PIN digits", func(o *simserve.Options) { o.PINDigits = "ten" }, job.Usage, "--pin-digits"},
		{"check order", func(o *simserve.Options) { o.CheckOrder = "401,999" }, job.Usage, "--check-order"},
		{"invented rules", func(o *simserve.Options) { o.NoInvented = "no-such-rule" }, job.Usage, "--no-invented"},
		{"PIN display", func(o *simserve.Options) { o.PINDisplay = "shouted" }, job.Usage, "PIN display"},
		{"version", func(o *simserve.Options) { o.VersionCompat = "9.9" }, job.Usage, "9.9"},
		{"address", func(o *simserve.Options) { o.Addr = "127.0.0.1:no-port" }, job.Usage, "listen 127.0.0.1:no-port"},
		{"state missing", func(o *simserve.Options) { o.State = filepath.Join(dir, "absent.json") }, job.File, "--state"},
		{"state unreadable", func(o *simserve.Options) { o.State = bad }, job.File, "--state " + bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout := newBuffer()
			err := simserve.Run(context.Background(), &simserve.Env{Stdout: stdout, Stderr: io.Discard}, options(tt.mod))
			if err == nil {
				t.Fatal("Run = nil, want an error")
			}
			if got := job.KindOf(err); got != tt.kind {
				t.Errorf("kind = %q, want %q (err: %v)", got, tt.kind, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to say %q", err, tt.want)
			}
			if stdout.String() != "" {
				t.Errorf("stdout = %q, want nothing (it never listened)", stdout.String())
			}
		})
	}
}
