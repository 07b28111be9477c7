package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ensbulk/ensbulk/internal/profile"
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

// profileTestFlags is a FlagSet with the connection, pace and auth flags of run
// and validate, under their real names and defaults.
type connFlagValues struct {
	url, user, passwordFile, caFile, auth string
	insecure                              bool
	rate                                  float64
	workers                               int
	timeout                               time.Duration
}

func profileTestFlags(v *connFlagValues) *pflag.FlagSet {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.StringVar(&v.url, "url", "", "")
	fs.StringVar(&v.user, "user", "", "")
	fs.StringVar(&v.passwordFile, "password-file", "", "")
	fs.StringVar(&v.caFile, "ca-file", "", "")
	fs.BoolVar(&v.insecure, "insecure", false, "")
	fs.Float64Var(&v.rate, "rate", 10, "")
	fs.IntVar(&v.workers, "workers", 8, "")
	fs.DurationVar(&v.timeout, "timeout", 30*time.Second, "")
	fs.StringVar(&v.auth, "auth", "auto", "")
	return fs
}

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

func TestProfilePrecedence(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, fullConfig, 0o600)
	p, err := loadProfile(profileOptions{config: path, profile: "prod"}, envOf(map[string]string{"HOME": "/home/op"}), noUserConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	profileOnly := connFlagValues{
		url: "https://switch.example.com", user: "bulk", passwordFile: "/etc/ensbulk/prod.password",
		caFile: filepath.Join("/home/op", "ca.pem"), auth: "token", rate: 5, workers: 4, timeout: 45 * time.Second,
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		prof    *profile.Profile
		want    connFlagValues
		wantErr []string
	}{
		{name: "default without profile", want: connFlagValues{auth: "auto", rate: 10, workers: 8, timeout: 30 * time.Second}},
		{name: "profile over default", prof: p, want: profileOnly},
		{name: "flag over profile", prof: p,
			args: []string{"--url", "https://other", "--user", "u", "--password-file", "/pw", "--ca-file", "/ca", "--insecure",
				"--rate", "1.5", "--workers", "2", "--timeout", "5s", "--auth", "password"},
			want: connFlagValues{url: "https://other", user: "u", passwordFile: "/pw", caFile: "/ca", insecure: true,
				rate: 1.5, workers: 2, timeout: 5 * time.Second, auth: "password"}},
		{name: "env over profile: auth", prof: p, env: map[string]string{"ENSWITCH_AUTH": "password"},
			want: func() connFlagValues { v := profileOnly; v.auth = "auto"; return v }()},
		{name: "env agreeing with profile", prof: p, env: map[string]string{"ENSWITCH_URL": "https://switch.example.com/", "ENSWITCH_USER": "bulk"},
			want: func() connFlagValues { v := profileOnly; v.url, v.user = "", ""; return v }()},
		{name: "empty env var is unset", prof: p, env: map[string]string{"ENSWITCH_URL": ""}, want: profileOnly},
		{name: "env url disagreeing with profile", prof: p, env: map[string]string{"ENSWITCH_URL": "https://a.example.com"},
			wantErr: []string{path, `profile "prod"`, "url:", "ENSWITCH_URL=https://a.example.com", "--url"}},
		{name: "env user disagreeing with profile", prof: p, env: map[string]string{"ENSWITCH_USER": "root"},
			wantErr: []string{"user:", "ENSWITCH_USER=root"}},
		{name: "env password against profile password_file", prof: p, env: map[string]string{"ENSWITCH_PASSWORD": "pw"},
			wantErr: []string{"password_file:", "ENSWITCH_PASSWORD is set", "--password-file"}},
		{name: "flag settles a disagreement", prof: p, args: []string{"--url", "https://a.example.com"},
			env:  map[string]string{"ENSWITCH_URL": "https://a.example.com"},
			want: func() connFlagValues { v := profileOnly; v.url = "https://a.example.com"; return v }()},
		{name: "flag settles the password", prof: p, args: []string{"--password-file", "/pw"},
			env:  map[string]string{"ENSWITCH_PASSWORD": "pw"},
			want: func() connFlagValues { v := profileOnly; v.passwordFile = "/pw"; return v }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got connFlagValues
			fs := profileTestFlags(&got)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := applyProfile(fs, tt.prof, envOf(tt.env))
			if tt.wantErr != nil {
				checkProfileErr(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("applyProfile: %v", err)
			}
			if got != tt.want {
				t.Errorf("flags = %+v\nwant    %+v", got, tt.want)
			}
		})
	}
}

func TestProfileApplyFlagSets(t *testing.T) {
	dir := t.TempDir()
	bad := writeConfig(t, dir, "[profiles.a]\nurl = \"https://x\"\ntimeout = \"soon\"\nauth = \"token\"\nrate = 3\n", 0o600)
	p, err := loadProfile(profileOptions{config: bad, profile: "a"}, envOf(nil), noUserConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("bad value names file and key", func(t *testing.T) {
		var v connFlagValues
		checkProfileErr(t, applyProfile(profileTestFlags(&v), p, envOf(nil)), bad, `profile "a"`, "timeout:", "soon")
	})
	t.Run("connection command without the flag", func(t *testing.T) {
		fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
		fs.String("url", "", "")
		fs.String("timeout", "", "")
		fs.Float64("rate", 10, "")
		checkProfileErr(t, applyProfile(fs, p, envOf(nil)), bad, "auth:", "no --auth flag")
	})
	t.Run("command without connection flags", func(t *testing.T) {
		fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
		rate := fs.Float64("rate", 40, "")
		if err := applyProfile(fs, p, envOf(nil)); err != nil {
			t.Fatalf("applyProfile: %v", err)
		}
		if *rate != 40 {
			t.Errorf("demo --rate = %v, want 40 (a profile paces switches, not the demo's simulator)", *rate)
		}
	})
	t.Run("nil profile", func(t *testing.T) {
		var v connFlagValues
		if err := applyProfile(profileTestFlags(&v), nil, envOf(nil)); err != nil {
			t.Fatalf("applyProfile: %v", err)
		}
	})
}

// checkProfileErr wants a *profile.Error whose message holds every part.
func checkProfileErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want an error with %q", parts)
	}
	var pe *profile.Error
	if !errors.As(err, &pe) {
		t.Errorf("err = %T %v, want a *profile.Error", err, err)
	}
	for _, s := range parts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q\nlacks %q", err, s)
		}
	}
}

// Without a user config dir, a profile named and no --config is an error
// that says which flag helps.
func TestProfileWithoutConfigDirNamesTheFlag(t *testing.T) {
	_, err := loadProfile(profileOptions{profile: "prod"}, envOf(nil), noUserConfigDir)
	checkProfileErr(t, err, `profile "prod"`, "no config file", "pass --config PATH")
	if exitCodeOf(err) != exitUsage {
		t.Errorf("exit %d, want %d", exitCodeOf(err), exitUsage)
	}
}
