package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// Security: the password and PINs never show, TLS is verified, redirects
// are not followed.

// canaryPassword has characters that every encoding changes (form, URL
// path, HTML, JSON), so a leak in any of those forms is caught too.
const canaryPassword = `Canary&pw=7f3a<"9c>%2B`

// canaryPINs are valid PINs that appear nowhere else in a run's output.
var canaryPINs = []string{"93571113", "86420531", "7531902468"}

// secretForms are the texts that must appear nowhere: the password in
// every encoding a server or a log might use, and the canary PINs.
func secretForms() map[string]string {
	js, _ := json.Marshal(canaryPassword)
	forms := map[string]string{
		"password":              canaryPassword,
		"password (form)":       url.QueryEscape(canaryPassword),
		"password (path)":       url.PathEscape(canaryPassword),
		"password (HTML)":       html.EscapeString(canaryPassword),
		"password (JSON)":       strings.Trim(string(js), `"`),
		"password (first half)": canaryPassword[:len(canaryPassword)/2],
		"token":                 jwtHeader,
	}
	for _, p := range canaryPINs {
		forms["PIN "+p] = p
	}
	return forms
}

// checkNoSecrets fails for every secret found in text.
func checkNoSecrets(t *testing.T, where, text string) {
	t.Helper()
	for name, s := range secretForms() {
		if strings.Contains(text, s) {
			i := strings.Index(text, s)
			t.Errorf("%s holds the %s: ...%s...", where, name, text[max(0, i-60):min(len(text), i+len(s)+20)])
		}
	}
}

// canaryWorld is the demo world whose admin has the canary password.
func canaryWorld(mailboxes int) *simulator.State {
	st := simulator.Generate(mailboxes, 1)
	for i := range st.Users {
		if st.Users[i].Username == "admin" {
			st.Users[i].Password = canaryPassword
		}
	}
	return st
}

// canaryCSV has canary PINs in rows that succeed and in rows refused
// locally or by the server for the PIN itself or for something else.
func canaryCSV() string {
	var b strings.Builder
	b.WriteString("mailbox,customer,pin,description,timezone,envelope\n")
	for i := range 30 { // applied
		fmt.Fprintf(&b, "%d,%d,%s,row %d,,\n", 1001+i, 100+i%2, canaryPINs[i%len(canaryPINs)], i+1)
	}
	fmt.Fprintf(&b, "1031,101,%s,bad zone,Europe/Londn,\n", canaryPINs[0])              // 400 timezone
	fmt.Fprintf(&b, "1032,100,%s1,too long,,\n", canaryPINs[2])                         // 400 pin: 11 digits
	fmt.Fprintf(&b, "1033,101,%sx,not digits,,\n", canaryPINs[0])                       // 400 pin
	fmt.Fprintf(&b, "1999,100,%s,missing mailbox,,\n", canaryPINs[1])                   // 404
	fmt.Fprintf(&b, "9001,102,%s,rate plan,,\n", canaryPINs[1])                         // 403
	fmt.Fprintf(&b, "1034,100,%s,bad flag,,2\n", canaryPINs[0])                         // local: envelope
	fmt.Fprintf(&b, "1035,101, %s,spaces,,\n", canaryPINs[1])                           // local: pin spaces
	fmt.Fprintf(&b, "1036,100,\"%s\n%s\",line break,,\n", canaryPINs[0], canaryPINs[1]) // local: line break in pin
	fmt.Fprintf(&b, "1037,101,%s\x00,nul,,\n", canaryPINs[2])                           // local: control character
	fmt.Fprintf(&b, "1038,100,%s,ragged\n", canaryPINs[0])                              // local: too few fields
	return b.String()
}

// The canary password and PINs appear nowhere: not in the running
// binary's argv, stdout, stderr at debug level, the report, its sidecar,
// the summary JSON or any other file the run leaves, even when the server
// echoes requests in its error pages.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{State: canaryWorld(60), Faults: simulator.Faults{
		Latency: 20 * time.Millisecond, ErrorRate: 0.2, EchoBody: true}})
	inDir, outDir, pwDir := t.TempDir(), t.TempDir(), t.TempDir()
	in := filepath.Join(inDir, "pins.csv")
	if err := os.WriteFile(in, []byte(canaryCSV()), 0o644); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(pwDir, "password")
	if err := os.WriteFile(pwFile, []byte(canaryPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(outDir, "pins.report.csv")
	summary := filepath.Join(outDir, "summary.json")
	env := map[string]string{"ENSWITCH_URL": sim.URL, "ENSWITCH_USER": "admin"}
	p := startEnsbulk(t, env, "run", in, "--password-file", pwFile, "--report", rep, "--summary-json", summary,
		"--log-level", "debug", "--rate", "0", "--workers", "2", "--max-attempts", "10", "--progress", "json", "--progress-interval", "50ms")

	// argv of the running process, read while it talks to the server.
	waitFor(t, 20*time.Second, "the run to send requests", func() bool { return sim.Stats().Requests >= 4 })
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read argv of the running binary: %v", err)
	}
	if !strings.Contains(string(cmdline), "--password-file") {
		t.Fatalf("argv %q is not the running run's", cmdline)
	}
	checkNoSecrets(t, "argv", strings.ReplaceAll(string(cmdline), "\x00", " "))

	code, _ := p.wait(t, 60*time.Second)
	if code != exitRows {
		t.Fatalf("exit %d, want %d (some rows are refused)\nstderr:\n%s", code, exitRows, tail(p.stderr.String(), 30))
	}
	if st := sim.Stats(); st.Faults[simulator.FaultError] == 0 {
		t.Error("no error page echoed a request: the test proves less than it says")
	}
	if a := sim.AuthStats(); a.TokenRequests == 0 || a.PasswordRequests != a.Logins {
		t.Errorf("simulator saw %+v: want a token run, the password only in logins", a)
	}
	checkNoSecrets(t, "stdout", p.stdout.String())
	checkNoSecrets(t, "stderr", p.stderr.String())
	if !strings.Contains(p.stderr.String(), "\tDEBUG\trequest\t") || !strings.Contains(p.stderr.String(), "\tINFO\t") {
		t.Error("stderr holds no info and per-request debug lines: nothing was checked")
	}

	// Every file the run left: report, sidecar, summary, anything else.
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(outDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		seen[e.Name()] = true
		checkNoSecrets(t, e.Name(), string(b))
	}
	for _, want := range []string{"pins.report.csv", "pins.report.csv.meta.json", "summary.json"} {
		if !seen[want] {
			t.Errorf("%s was not written: nothing checked there (files: %v)", want, seen)
		}
	}
	if rows := countRecords(t, rep); rows != 40 {
		t.Errorf("report has %d lines, want 40", rows)
	}
	// Nothing beside the input either.
	if entries, _ := os.ReadDir(inDir); len(entries) != 1 {
		t.Errorf("files beside the input: %v, want only the input", entries)
	}
	// The refused rows were refused for the reasons planned, so their
	// messages were really produced and checked.
	got := latest(t, rep)
	for row, want := range map[int]string{31: "timezone", 32: "pin", 33: "pin", 34: "mailbox", 35: "", 36: "envelope", 37: "pin", 38: "pin", 39: "pin", 40: ""} {
		if got[row].Status != "invalid" && got[row].Status != "failed" || got[row].Key != want {
			t.Errorf("row %d: %s key %q (%s), want refused for %s", row, got[row].Status, got[row].Key, got[row].Message, want)
		}
	}
}

// The same for JSONL, whose values arrive typed: a PIN as a number, in
// an object, under a misspelt or upper-case key, on a broken line.
func TestSecretsNeverLeakJSONL(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{State: canaryWorld(20)})
	pin := canaryPINs[0]
	lines := []string{
		fmt.Sprintf(`{"mailbox":"1001","customer":"100","pin":%q}`, pin),
		fmt.Sprintf(`{"mailbox":"1002","customer":"101","pin":%s}`, pin),
		fmt.Sprintf(`{"mailbox":"1003","customer":"100","pin":{"value":%q}}`, pin),
		fmt.Sprintf(`{"mailbox":"1004","customer":"101","PIN":%q}`, pin),
		fmt.Sprintf(`{"mailbox":"1005","customer":"100","pn":%q}`, pin),
		fmt.Sprintf(`{"mailbox":"1006","customer":"101","pin":%q`, pin),
		fmt.Sprintf(`{"mailbox":"1007","customer":"100","pin":%q} %s`, pin, pin),
		fmt.Sprintf(`{"mailbox":"1008","customer":"101","pin":%q,"pin":%q}`, pin, canaryPINs[1]),
		fmt.Sprintf(`{"mailbox":"1009","customer":"100","pin":[%q]}`, pin),
	}
	in := writeFile(t, "pins.jsonl", strings.Join(lines, "\n")+"\n")
	env := simEnv(sim)
	env["ENSWITCH_PASSWORD"] = canaryPassword
	summary := filepath.Join(filepath.Dir(in), "summary.json")
	res := runCLI(t, context.Background(), env, "run", in, "--rate", "0", "--log-level", "debug", "--summary-json", summary)
	if res.code != exitRows {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitRows, res.stderr)
	}
	rep := in + ".report.csv"
	checkNoSecrets(t, "stdout", res.stdout)
	checkNoSecrets(t, "stderr", res.stderr)
	entries, err := os.ReadDir(filepath.Dir(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "pins.jsonl" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(in), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		checkNoSecrets(t, e.Name(), string(b))
	}
	got := latest(t, rep)
	if len(got) != len(lines) || got[1].Status != "ok" {
		t.Errorf("report: %d rows, row 1 %s; want %d rows, row 1 ok", len(got), got[1].Status, len(lines))
	}
	for row := 2; row <= 9; row++ {
		if got[row].Status != "invalid" {
			t.Errorf("row %d: %s (%s), want invalid", row, got[row].Status, got[row].Message)
		}
	}
}

// tlsSim serves a simulator over TLS with httptest's self-signed
// certificate, and writes that certificate to a PEM file.
func tlsSim(t *testing.T) (*simulator.Server, *httptest.Server, string) {
	t.Helper()
	sim, err := simulator.New(simulator.Config{Seed: 1, Mailboxes: 20})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(sim)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	ts.StartTLS()
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	t.Cleanup(func() { _ = sim.Close() })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return sim, ts, ca
}

// TLS is verified by default: a self-signed server is refused (exit 3,
// nothing reaches it), trusted with --ca-file, and reached with
// --insecure only after a loud warning.
func TestTLSVerifiedByDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flags func(ca string) []string
		code  int
		say   []string
	}{
		{"untrusted", func(string) []string { return nil }, exitAborted, []string{"TLS certificate not trusted", "--ca-file"}},
		{"--ca-file", func(ca string) []string { return []string{"--ca-file", ca} }, exitOK, nil},
		{"--insecure", func(string) []string { return []string{"--insecure"} }, exitOK, []string{"WARNING", "--insecure", "NOT verified"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, ts, ca := tlsSim(t)
			initial := sim.State()
			in := writeFile(t, "tls.csv", uniqueRows(10))
			env := map[string]string{"ENSWITCH_URL": ts.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
			res := runCLI(t, context.Background(), env, append([]string{"run", in, "--rate", "0", "--progress", "none"}, tt.flags(ca)...)...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", res.code, tt.code, tail(res.stderr, 20))
			}
			for _, s := range tt.say {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr does not say %q:\n%s", s, tail(res.stderr, 20))
				}
			}
			rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
			if tt.code == exitOK {
				if n := countRecords(t, rep); n != 10 {
					t.Errorf("report has %d lines, want 10", n)
				}
			} else if _, err := os.Lstat(rep); err == nil {
				t.Errorf("report left by a run the preflight stopped")
			}
			st := sim.Stats()
			if tt.code == exitOK {
				checkState(t, &testSim{Server: sim}, expectState(t, initial, in, rep))
			} else if st.Requests != 0 {
				t.Errorf("%d requests reached a server whose certificate is not trusted", st.Requests)
			}
		})
	}
}

// A redirect is not followed: the run aborts (exit 3) saying so, and the
// redirect's target never hears from it (the POST body holds the password).
func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	target := startSim(t, simulator.Config{Seed: 1, Mailboxes: 20})
	sim := startSim(t, simulator.Config{Seed: 1, Mailboxes: 20, Faults: simulator.Faults{RedirectTo: target.URL}})
	in := writeFile(t, "redirect.csv", uniqueRows(20))
	const workers = 4
	res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0", "--workers", fmt.Sprint(workers), "--progress", "none")
	if res.code != exitAborted {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitAborted, tail(res.stderr, 20))
	}
	if !strings.Contains(res.stderr, "redirect") || !strings.Contains(res.stderr, "--url") {
		t.Errorf("stderr does not say a redirect was refused and what to do:\n%s", tail(res.stderr, 20))
	}
	if n := target.Stats().Requests; n != 0 {
		t.Errorf("the redirect target received %d requests, want 0", n)
	}
	if n := sim.Stats().Requests; n > workers {
		t.Errorf("%d requests to a redirecting server, want at most one per worker (%d)", n, workers)
	}
	// The preflight met the redirect: no row was sent, no report left.
	rep := strings.TrimSuffix(in, ".csv") + ".report.csv"
	if _, err := os.Lstat(rep); err == nil {
		t.Errorf("report left by a run the preflight stopped")
	}
}
