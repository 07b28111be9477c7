package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// `ensbulk sim --tls` serves HTTPS with a certificate written to the file
// it prints, so that a run rehearses --ca-file and --insecure against it.
func TestSimTLS(t *testing.T) {
	t.Parallel()
	cert := filepath.Join(t.TempDir(), "sim.pem")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--tls", "--cert-file", cert, "--addr", "127.0.0.1:0", "--mailboxes", "20"},
			&Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	}()
	listening := regexp.MustCompile(`listening on (https://127\.0\.0\.1:\d+)\n`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("sim did not say where it listens:\n%s\n%s", out.String(), errb.String())
		}
	}
	if !strings.Contains(out.String(), "certificate: "+cert) {
		t.Errorf("sim does not print the certificate's path:\n%s", out.String())
	}
	env := map[string]string{"ENSWITCH_URL": url, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	for _, tc := range []struct {
		name  string
		flags []string
		code  int
	}{
		{"untrusted", nil, exitAborted},
		{"--ca-file", []string{"--ca-file", cert}, exitOK},
		{"--insecure", []string{"--insecure"}, exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := writeFile(t, "tls.csv", uniqueRows(6))
			res := runCLI(t, context.Background(), env, append([]string{"run", in, "--rate", "0", "--progress", "none"}, tc.flags...)...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.code, tail(res.stderr, 20))
			}
		})
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("sim: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
}

// startSimCommand runs `ensbulk sim` with args on a free loopback port
// until the test ends, and returns its URL and what it printed up to the
// list of users.
func startSimCommand(t *testing.T, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"sim", "--addr", "127.0.0.1:0", "--mailboxes", "20"}, args...),
			&Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("sim did not stop")
		}
	})
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)\n`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "users ") {
			return m[1], out.String()
		}
		if time.Now().After(deadline) {
			t.Fatalf("sim did not start:\n%s\n%s", out.String(), errb.String())
		}
	}
}

// login posts user/login with token=1 as the demo admin and returns the
// envelope's code and data, or the HTTP status of an answer that is not
// 200 (an unknown function).
func login(t *testing.T, url string) (string, map[string]any) {
	t.Helper()
	form := neturl.Values{"auth_username": {"admin"}, "auth_password": {"admin-demo-pass"}, "token": {"1"}}
	resp, err := http.PostForm(url+"/api/json/user/login/", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprint(resp.StatusCode), nil
	}
	var env struct {
		Responses []struct {
			Code any `json:"code"`
		} `json:"responses"`
		Data map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if len(env.Responses) == 0 {
		t.Fatal("login: no responses")
	}
	return fmt.Sprint(env.Responses[0].Code), env.Data
}

// The token flags of `ensbulk sim` reach its user/login, and its startup
// lines say what it plays; a run with --auth auto works against each.
func TestSimTokenFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		line    string
		code    string
		token   bool    // auth_token present
		expiry  float64 // auth_token_expiry; 0: none
		expires bool    // auth_token_expires present
	}{
		{"default", nil, "tokens: user/login issues tokens that expire after 1h0m0s", "200", true, 3600, true},
		{"token-ttl", []string{"--token-ttl", "5s"}, "tokens: user/login issues tokens that expire after 5s", "200", true, 5, true},
		{"never expire", []string{"--token-ttl", "0"}, "tokens: user/login issues tokens that never expire", "200", true, 0, false},
		{"no tokens", []string{"--no-tokens"}, "tokens: none (a server before Enswitch 4.1: user/login answers without a token", "200", false, 0, false},
		{"version 4.0", []string{"--version-compat", "4.0"}, "tokens: none (a server before Enswitch 4.1: user/login answers without a token", "200", false, 0, false},
		{"version 3.13", []string{"--version-compat", "3.13"}, "tokens: none (a server before Enswitch 4.1: user/login answers without a token", "200", false, 0, false},
		{"no login", []string{"--no-login"}, "tokens: none (a server before Enswitch 3.13: user/login is unknown", "404", false, 0, false},
		{"version 3.12", []string{"--version-compat", "3.12"}, "tokens: none (a server before Enswitch 3.13: user/login is unknown", "404", false, 0, false},
		{"version 4.1", []string{"--version-compat", "4.1"}, "tokens: user/login issues tokens that expire after 1h0m0s", "200", true, 3600, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, out := startSimCommand(t, tc.args...)
			if !strings.Contains(out, "\n"+tc.line) {
				t.Errorf("startup lines lack %q:\n%s", tc.line, out)
			}
			code, data := login(t, url)
			if code != tc.code {
				t.Fatalf("user/login answered %s, want %s", code, tc.code)
			}
			if _, ok := data["auth_token"].(string); ok != tc.token {
				t.Errorf("login data has auth_token: %v, want %v (%v)", ok, tc.token, data)
			}
			if tc.code == "200" {
				if got, _ := data["auth_token_expiry"].(float64); tc.expiry != 0 && got != tc.expiry {
					t.Errorf("auth_token_expiry %v, want %v", data["auth_token_expiry"], tc.expiry)
				}
				if _, ok := data["auth_token_expires"]; ok != tc.expires {
					t.Errorf("auth_token_expires present: %v, want %v (%v)", ok, tc.expires, data)
				}
			}
			in := writeFile(t, "tok.csv", uniqueRows(4))
			env := map[string]string{"ENSWITCH_URL": url, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
			if res := runCLI(t, context.Background(), env, "run", in, "--rate", "0", "--progress", "none", "--auth", "auto"); res.code != exitOK {
				t.Fatalf("run: exit %d\n%s", res.code, tail(res.stderr, 20))
			}
		})
	}
	t.Run("negative ttl", func(t *testing.T) {
		res := runCLI(t, context.Background(), nil, "sim", "--token-ttl", "-1s", "--addr", "127.0.0.1:0")
		if res.code != exitUsage || !strings.Contains(res.stderr, "--token-ttl -1s") {
			t.Errorf("exit %d, want %d naming --token-ttl:\n%s", res.code, exitUsage, res.stderr)
		}
	})
}

// docs/simulator.md lists every flag `ensbulk sim --help` shows, and no
// flag sim does not have; it and the help name every invented rule that
// --no-invented turns off.
func TestSimFlagsDocumented(t *testing.T) {
	t.Parallel()
	res := runCLI(t, context.Background(), nil, "sim", "--help")
	if res.code != exitOK {
		t.Fatalf("sim --help: exit %d\n%s", res.code, res.stderr)
	}
	help, flags, ok := strings.Cut(res.stdout, "\nFlags:\n")
	if !ok {
		t.Fatalf("sim --help has no Flags section:\n%s", res.stdout)
	}
	flags, _, _ = strings.Cut(flags, "\nGlobal Flags:")
	have := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z][a-z-]*)`).FindAllStringSubmatch(flags, -1) {
		if m[1] != "help" {
			have[m[1]] = true
		}
	}
	if len(have) < 20 {
		t.Fatalf("found %d flags in sim --help, want every one:\n%s", len(have), flags)
	}
	b, err := os.ReadFile("../../docs/simulator.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("`--([a-z][a-z-]*)").FindAllStringSubmatch(doc, -1) {
		listed[m[1]] = true
	}
	for f := range have {
		if !listed[f] {
			t.Errorf("docs/simulator.md does not list --%s", f)
		}
	}
	for f := range listed {
		if !have[f] {
			t.Errorf("docs/simulator.md lists --%s, which sim does not have", f)
		}
	}
	for _, r := range simulator.InventedRules() {
		if !strings.Contains(doc, "`--no-invented "+string(r)+"`") {
			t.Errorf("docs/simulator.md's table of invented rules lacks %s", r)
		}
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(string(r)) + `\s`).MatchString(help) {
			t.Errorf("sim --help does not explain invented rule %s", r)
		}
	}
}

// A user with two-factor login (sim --two-factor-user) on a 4.4 server:
// user/login answers 202, and a run with --auth auto or token aborts
// with exit 3 before sending anything, saying what it is and what to do;
// it never falls back to sending the password with every call.
func TestSimTwoFactorUser(t *testing.T) {
	url, out := startSimCommand(t, "--two-factor-user", "admin")
	if !strings.Contains(out, "(two-factor login)") {
		t.Errorf("the user list does not mark the two-factor user:\n%s", out)
	}
	if code, _ := login(t, url); code != "202" {
		t.Fatalf("user/login answered %s, want 202", code)
	}
	env := map[string]string{"ENSWITCH_URL": url, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	for _, mode := range []string{"auto", "token"} {
		t.Run(mode, func(t *testing.T) {
			in := writeFile(t, "tf.csv", uniqueRows(4))
			res := runCLI(t, context.Background(), env, "run", in, "--rate", "0", "--progress", "none", "--auth", mode)
			if res.code != exitAborted {
				t.Fatalf("exit %d, want %d\n%s", res.code, exitAborted, tail(res.stderr, 20))
			}
			for _, want := range []string{"two-factor login", "use an API user without two-factor login", "no row was sent"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, tail(res.stderr, 20))
				}
			}
			if strings.Contains(res.stderr, "the password is sent with every request") {
				t.Errorf("fell back to the password:\n%s", tail(res.stderr, 20))
			}
		})
	}
	res := runCLI(t, context.Background(), env, "export", "--customer", "100")
	if res.code != exitAborted || !strings.Contains(res.stderr, "use an API user without two-factor login") {
		t.Errorf("export: exit %d, want %d saying what to do:\n%s", res.code, exitAborted, tail(res.stderr, 20))
	}
	stats := simStats(t, url)
	if fns, _ := stats["by_function"].(map[string]any); stats["validated"] != float64(0) || stats["applied"] != float64(0) || fns["mailboxes/update"] != nil || fns["mailboxes/list"] != nil {
		t.Errorf("simulator validated %v, applied %v; want nothing sent", stats["validated"], stats["applied"])
	}
}

// simStats reads a simulator's /__stats.
func simStats(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url + "/__stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
