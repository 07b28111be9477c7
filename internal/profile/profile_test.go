package profile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeConfig writes a config file of the given mode into dir.
func writeConfig(t *testing.T, dir, body string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

// envOf returns a getenv over m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// noUserConfigDir makes sure no test reads the real home.
func noUserConfigDir() (string, error) { return "", errors.New("no user config dir in tests") }

const fullConfig = `# two switches
default_profile = "lab"

[profiles.lab]
url = "http://127.0.0.1:8080"
user = "admin"
password_file = "lab.password"

[profiles.prod]
url = "https://switch.example.com"
user = "bulk"
password_file = "/etc/ensbulk/prod.password"
ca_file = "~/ca.pem"
insecure = false
rate = 5
workers = 4
timeout = "45s"
auth = "token"
`

func TestProfileLoad(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, fullConfig, 0o600)
	home := map[string]string{"HOME": dir}
	tests := []struct {
		name    string
		opts    Options
		env     map[string]string
		want    string // profile name; "" = no profile
		wantErr []string
	}{
		{name: "default profile", opts: Options{Config: path}, want: "lab"},
		{name: "flag names profile", opts: Options{Config: path, Name: "prod"}, env: home, want: "prod"},
		{name: "env names profile", opts: Options{Config: path}, env: map[string]string{"ENSBULK_PROFILE": "prod", "HOME": dir}, want: "prod"},
		{name: "flag beats env", opts: Options{Config: path, Name: "lab"}, env: map[string]string{"ENSBULK_PROFILE": "prod"}, want: "lab"},
		{name: "ENSBULK_CONFIG", env: map[string]string{"ENSBULK_CONFIG": path, "ENSBULK_PROFILE": "prod", "HOME": dir}, want: "prod"},
		{name: "--config beats ENSBULK_CONFIG", opts: Options{Config: path}, env: map[string]string{"ENSBULK_CONFIG": "/nonexistent/c.toml"}, want: "lab"},
		{name: "no file, no profile: none", want: ""},
		{name: "unknown profile lists names", opts: Options{Config: path, Name: "stage"},
			wantErr: []string{path, `profile "stage"`, "no such profile", "lab, prod"}},
		{name: "profile but no config file", opts: Options{Name: "prod"},
			wantErr: []string{`profile "prod"`, "no config file"}}, // ErrNoConfigDir: cmd adds the flag that helps
		{name: "explicit config missing", opts: Options{Config: filepath.Join(dir, "none.toml")},
			wantErr: []string{"none.toml", "does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load(tt.opts, envOf(tt.env), noUserConfigDir)
			if tt.wantErr != nil {
				checkProfileErr(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := ""
			if p != nil {
				got = p.Name
			}
			if got != tt.want {
				t.Errorf("profile = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProfileParseValues(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, fullConfig, 0o600)
	env := envOf(map[string]string{"HOME": "/home/op"})
	p, err := Load(Options{Config: path, Name: "prod"}, env, noUserConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"url":           "https://switch.example.com",
		"user":          "bulk",
		"password_file": "/etc/ensbulk/prod.password",
		"ca_file":       filepath.Join("/home/op", "ca.pem"),
		"insecure":      "false",
		"rate":          "5",
		"workers":       "4",
		"timeout":       "45s",
		"auth":          "token",
	}
	for _, k := range Keys() {
		got, ok := p.Value(k)
		if !ok || got != want[k] {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, want[k])
		}
	}
	lab, err := Load(Options{Config: path}, env, noUserConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *lab.PasswordFile, filepath.Join(dir, "lab.password"); got != want {
		t.Errorf("relative password_file = %q, want %q (relative to the config file)", got, want)
	}
	if lab.Rate != nil {
		t.Errorf("lab rate = %v, want unset", *lab.Rate)
	}
}

func TestProfileBadFile(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{name: "unknown key with line and suggestion",
			body: "[profiles.a]\nurl = \"https://x\"\n\nworkrs = 4\n",
			want: []string{":4:", `profile "a"`, `unknown key "workrs"`, `did you mean "workers"`}},
		{name: "unknown top-level key",
			body: "default_profil = \"a\"\n[profiles.a]\n",
			want: []string{":1:", `unknown key "default_profil"`, `did you mean "default_profile"`}},
		{name: "singular profile table",
			body: "[profile.a]\nurl = \"https://x\"\n",
			want: []string{":1:", `unknown key "profile"`, `did you mean "profiles"`}},
		{name: "nested table in a profile",
			body: "[profiles.a]\nurl = \"https://x\"\n[profiles.a.tls]\nca = \"x\"\n",
			want: []string{":3:", `profile "a"`, `unknown key "tls"`, "valid keys: url, user"}},
		{name: "wrong type names the key and line",
			body: "[profiles.a]\nurl = \"https://x\"\nrate = \"fast\"\n",
			want: []string{":3:", `profile "a"`, "rate: want a number"}},
		{name: "integer wanted",
			body: "[profiles.a]\nworkers = 2.5\n",
			want: []string{":2:", "workers: want an integer"}},
		{name: "syntax error has a line",
			body: "[profiles.a]\nurl = \n",
			want: []string{":2:"}},
		{name: "default names a missing profile",
			body: "default_profile = \"b\"\n[profiles.a]\n",
			want: []string{`profile "b"`, "default_profile names no such profile", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, t.TempDir(), tt.body, 0o600)
			_, err := Load(Options{Config: path}, envOf(nil), noUserConfigDir)
			checkProfileErr(t, err, append([]string{path}, tt.want...)...)
		})
	}
}

func TestProfileSecrets(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{name: "password key", body: "[profiles.a]\nurl = \"https://x\"\npassword = \"hunter2\"\n",
			want: []string{":3:", `"password" holds a secret`, "password_file"}},
		{name: "token key", body: "[profiles.a]\ntoken = \"abc\"\n", want: []string{":2:", `"token" holds a secret`}},
		{name: "pin key", body: "[profiles.a]\nPIN = \"1234\"\n", want: []string{`"PIN" holds a secret`}},
		{name: "top-level password", body: "password = \"x\"\n", want: []string{":1:", "holds a secret"}},
		{name: "secret reported before a typo", body: "[profiles.a]\nwrkers = 1\nauth_password = \"x\"\n",
			want: []string{":3:", "holds a secret"}},
		{name: "password in url of another profile", body: "default_profile = \"a\"\n[profiles.a]\nurl = \"https://x\"\n[profiles.b]\nurl = \"https://u:pw@x\"\n",
			want: []string{`profile "b"`, "url: the URL holds a password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 0600: a secret is refused even in a private file.
			path := writeConfig(t, t.TempDir(), tt.body, 0o600)
			_, err := Load(Options{Config: path}, envOf(nil), noUserConfigDir)
			checkProfileErr(t, err, append([]string{path}, tt.want...)...)
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}

func TestProfileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not checked on Windows")
	}
	const otherUID = 54321
	tests := []struct {
		name       string
		mode       os.FileMode
		foreignPW  bool // the password file belongs to another uid
		needsChown bool
		want       []string // nil: accepted
	}{
		{name: "private, own password file", mode: 0o600},
		{name: "readable, own password file", mode: 0o644},
		{name: "private, foreign password file", mode: 0o600, foreignPW: true, needsChown: true},
		{name: "readable, foreign password file", mode: 0o640, foreignPW: true, needsChown: true,
			want: []string{"password_file", "readable by others", "owned by uid 54321"}},
		{name: "group-writable", mode: 0o620, want: []string{"writable by group or others", "chmod 600"}},
		{name: "world-writable", mode: 0o602, want: []string{"writable by group or others"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needsChown && os.Getuid() != 0 {
				t.Skip("needs root to give a file to another uid")
			}
			dir := t.TempDir()
			pw := filepath.Join(dir, "pw")
			if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.foreignPW {
				if err := os.Chown(pw, otherUID, otherUID); err != nil {
					t.Fatal(err)
				}
			}
			path := writeConfig(t, dir, "[profiles.a]\nurl = \"https://x\"\npassword_file = \"pw\"\n", tt.mode)
			p, err := Load(Options{Config: path, Name: "a"}, envOf(nil), noUserConfigDir)
			if tt.want == nil {
				if err != nil || p == nil {
					t.Fatalf("Load = %v, %v; want the profile", p, err)
				}
				return
			}
			checkProfileErr(t, err, append([]string{path}, tt.want...)...)
		})
	}
}

// checkProfileErr wants an *Error whose message holds every part.
func checkProfileErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want an error with %q", parts)
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Errorf("err = %T %v, want an *Error", err, err)
	}
	for _, s := range parts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q\nlacks %q", err, s)
		}
	}
}
