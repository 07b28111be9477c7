package conn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/internal/testkit"
	"github.com/ensbulk/ensbulk/simulator"
)

// The demo admin of the simulator's generated world.
const (
	simUser     = "admin"
	simPassword = "admin-demo-pass"
)

// startSim serves a generated world on 127.0.0.1 until the test ends.
func startSim(t *testing.T) (*simulator.Server, string) {
	t.Helper()
	sim, err := simulator.New(simulator.Config{Seed: 1, Mailboxes: 12})
	if err != nil {
		t.Fatal(err)
	}
	return sim, testkit.Serve(t, sim)
}

// testEnv is an Env of the variables in vars, not on a terminal.
func testEnv(vars map[string]string) (*Env, *testkit.Buffer) {
	stderr := &testkit.Buffer{}
	return &Env{
		Stderr:        stderr,
		Getenv:        func(k string) string { return vars[k] },
		StdinTerminal: func() bool { return false },
	}, stderr
}

// writeFile writes data to a new file of mode perm in the test's
// directory.
func writeFile(t *testing.T, name, data string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return path
}

// TestOpenRefusesSettings: every setting Open cannot use is refused with
// the kind the command maps to its exit code, before anything is sent,
// and the password is in no error and no warning.
func TestOpenRefusesSettings(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-Pa55word"
	dir := t.TempDir()
	empty := writeFile(t, "empty", "\n", 0o600)
	noPEM := writeFile(t, "ca.pem", "not a certificate\n", 0o600)
	full := map[string]string{"ENSWITCH_URL": "http://127.0.0.1:1", "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": secret}
	without := func(k string) map[string]string {
		m := map[string]string{}
		for kk, v := range full {
			if kk != k {
				m[kk] = v
			}
		}
		return m
	}
	tests := []struct {
		name string
		vars map[string]string
		s    Settings
		kind job.Kind
		want string
	}{
		{"no URL", without("ENSWITCH_URL"), Settings{}, job.Usage, "no server URL"},
		{"no user", without("ENSWITCH_USER"), Settings{}, job.Usage, "no API user"},
		{"credentials in the URL", full, Settings{URL: "http://admin:" + secret + "@127.0.0.1:1/"}, job.Usage, "must not carry credentials"},
		{"scheme", full, Settings{URL: "ftp://127.0.0.1/"}, job.Usage, "scheme must be http or https"},
		{"auth mode", full, Settings{Auth: "kerberos"}, job.Usage, "--auth"},
		{"auth mode of the environment", map[string]string{"ENSWITCH_URL": full["ENSWITCH_URL"], "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": secret, "ENSWITCH_AUTH": "nope"}, Settings{}, job.Usage, "--auth"},
		{"no password off a terminal", without("ENSWITCH_PASSWORD"), Settings{}, job.Usage, "no password"},
		{"password file missing", full, Settings{PasswordFile: filepath.Join(dir, "absent")}, job.File, "--password-file"},
		{"password file empty", full, Settings{PasswordFile: empty}, job.File, "is empty"},
		{"CA file missing", full, Settings{CAFile: filepath.Join(dir, "absent.pem")}, job.File, "--ca-file"},
		{"CA file without PEM", full, Settings{CAFile: noPEM}, job.File, "no PEM certificates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, stderr := testEnv(tt.vars)
			cn, err := Open(env, &tt.s, zap.NewNop())
			if err == nil {
				t.Fatalf("Open = %+v, want an error", cn)
			}
			if cn != nil {
				t.Errorf("Open returned a connection with its error: %+v", cn)
			}
			if got := job.KindOf(err); got != tt.kind {
				t.Errorf("kind = %q, want %q (err: %v)", got, tt.kind, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(stderr.String(), secret) {
				t.Errorf("the password is shown: err %q, stderr %q", err, stderr)
			}
		})
	}
}

// TestOpenSettingsOverEnvironment: a setting wins over the environment's
// variable, and the connection names the URL and the user it will
// act as.
func TestOpenSettingsOverEnvironment(t *testing.T) {
	t.Parallel()
	env, _ := testEnv(map[string]string{"ENSWITCH_URL": "http://127.0.0.1:1", "ENSWITCH_USER": "env-user", "ENSWITCH_PASSWORD": "pw"})
	cn, err := Open(env, &Settings{URL: "http://127.0.0.1:2/", User: "flag-user"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if cn.User != "flag-user" || !strings.Contains(cn.URL, "127.0.0.1:2") {
		t.Errorf("conn = %s as %s, want 127.0.0.1:2 as flag-user", cn.URL, cn.User)
	}
	if cn.Client == nil || cn.Notices == nil {
		t.Errorf("conn without client or notices: %+v", cn)
	}

	cn, err = Open(env, &Settings{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if cn.User != "env-user" || !strings.Contains(cn.URL, "127.0.0.1:1") {
		t.Errorf("conn = %s as %s, want the environment's 127.0.0.1:1 as env-user", cn.URL, cn.User)
	}
}

// TestOpenConnectsToSimulator: the client Open makes logs in and lists
// the mailboxes of the simulator; a password file's line end is not
// part of the password; the switch it names is the simulator's.
func TestOpenConnectsToSimulator(t *testing.T) {
	t.Parallel()
	sim, url := startSim(t)
	pwFile := writeFile(t, "pw", simPassword+"\r\n", 0o600)
	env, stderr := testEnv(map[string]string{"ENSWITCH_URL": url, "ENSWITCH_USER": simUser})
	cn, err := Open(env, &Settings{PasswordFile: pwFile, Workers: 2}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if cn.URL != url || cn.User != simUser {
		t.Errorf("conn = %s as %s, want %s as %s", cn.URL, cn.User, url, simUser)
	}
	if got, want := enswitch.SwitchID(cn.URL), enswitch.SwitchID(url); got != want || got == "" {
		t.Errorf("switch = %q, want %q", got, want)
	}
	ctx := context.Background()
	if err := cn.Client.Login(ctx); err != nil {
		t.Fatalf("login as %s: %v", simUser, err)
	}
	boxes, err := cn.Client.List(ctx, "100")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, m := range sim.State().Mailboxes {
		if m["customer"] == "100" {
			want++
		}
	}
	if len(boxes) != want || want == 0 {
		t.Errorf("listed %d mailboxes of customer 100, the simulator holds %d", len(boxes), want)
	}
	if s := stderr.String(); s != "" {
		t.Errorf("stderr = %q, want nothing (loopback, a private password file)", s)
	}
}

// TestOpenWrongPassword: a wrong password is refused by the server as
// unauthorized (the kind the run and export end on), and the password
// is not in the error.
func TestOpenWrongPassword(t *testing.T) {
	t.Parallel()
	_, url := startSim(t)
	const wrong = "wrong-Pa55word"
	env, _ := testEnv(map[string]string{"ENSWITCH_URL": url, "ENSWITCH_USER": simUser, "ENSWITCH_PASSWORD": wrong})
	cn, err := Open(env, &Settings{}, zap.NewNop())
	if err != nil {
		t.Fatal(err) // nothing is sent before the first call
	}
	_, err = cn.Client.List(context.Background(), "100")
	if err == nil {
		t.Fatal("list with a wrong password succeeded")
	}
	if got := batch.KindOf(err); got != batch.KindUnauthorized {
		t.Errorf("kind = %v, want %v (err: %v)", got, batch.KindUnauthorized, err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("err %q shows the password", err)
	}
}

// TestOpenPrompt: on a terminal without a password elsewhere, Open asks
// for it, naming the user and server; an interrupted prompt ends as
// interrupted, an empty answer is refused.
func TestOpenPrompt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer string
		err    error
		kind   job.Kind
	}{
		{"answered", "typed-pw", nil, ""},
		{"interrupted", "", job.Mark(job.Interrupted, errors.New("^C")), job.Interrupted},
		{"empty", "", nil, job.Usage},
		{"unreadable", "", errors.New("tty gone"), job.Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, stderr := testEnv(map[string]string{"ENSWITCH_URL": "https://127.0.0.1:1", "ENSWITCH_USER": "alice"})
			env.StdinTerminal = func() bool { return true }
			asked := 0
			env.ReadPassword = func() ([]byte, error) { asked++; return []byte(tt.answer), tt.err }
			cn, err := Open(env, &Settings{}, zap.NewNop())
			if asked != 1 {
				t.Errorf("asked %d times, want once", asked)
			}
			if !strings.Contains(stderr.String(), "Password for alice at https://127.0.0.1:1") {
				t.Errorf("prompt = %q, want it to name the user and server", stderr)
			}
			if got := job.KindOf(err); got != tt.kind {
				t.Fatalf("kind = %q, want %q (err: %v)", got, tt.kind, err)
			}
			if tt.kind == "" && cn.User != "alice" {
				t.Errorf("conn user = %q", cn.User)
			}
		})
	}
}

// TestOpenWarnings: the password crossing a network in clear (plain
// http to an address that is not loopback) or unverified (--insecure) is
// said on stderr, once; loopback and https are not; a password file
// others can read is warned about.
func TestOpenWarnings(t *testing.T) {
	t.Parallel()
	shared := writeFile(t, "pw", "pw\n", 0o644)
	tests := []struct {
		name string
		s    Settings
		want []string // substrings of stderr, each once; none: stderr empty
	}{
		{"loopback v4", Settings{URL: "http://127.0.0.1:8080"}, nil},
		{"loopback v6", Settings{URL: "http://[::1]:8080"}, nil},
		{"mapped loopback", Settings{URL: "http://[::ffff:127.0.0.1]:8080"}, nil},
		{"https", Settings{URL: "https://192.0.2.10"}, nil},
		{"plain http", Settings{URL: "http://192.0.2.10:8080"}, []string{"WARNING: plain http to 192.0.2.10 (192.0.2.10, not loopback)"}},
		{"plain http, upper case", Settings{URL: "HTTP://192.0.2.10"}, []string{"WARNING: plain http to 192.0.2.10"}},
		{"insecure", Settings{URL: "https://192.0.2.10", Insecure: true}, []string{"WARNING: --insecure"}},
		{"shared password file", Settings{URL: "https://192.0.2.10", PasswordFile: shared}, []string{"is readable by other users", "chmod 600"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.s.PasswordFile != "" && runtime.GOOS == "windows" {
				t.Skip("no Unix permissions")
			}
			env, stderr := testEnv(map[string]string{"ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "pw"})
			if _, err := Open(env, &tt.s, zap.NewNop()); err != nil {
				t.Fatal(err)
			}
			got := stderr.String()
			if len(tt.want) == 0 && got != "" {
				t.Errorf("stderr = %q, want nothing", got)
			}
			for _, w := range tt.want {
				if n := strings.Count(got, w); n != 1 {
					t.Errorf("stderr says %q %d times, want once: %q", w, n, got)
				}
			}
		})
	}
}
