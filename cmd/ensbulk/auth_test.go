package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
)

// jwtHeader begins every token the simulator issues: a token that leaks
// whole or from its start shows it.
const jwtHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// A run whose tokens expire every few hundred requests applies and
// validates every row exactly once, renews its token many times, and sends
// the password only in the logins. The simulator's tokens live on a clock
// that moves 1ms each time it is read (each issue and each check): their
// life is counted in requests, so the run meets expired tokens however
// fast or slow the machine is.
func TestTokenRunExpiringTokens(t *testing.T) {
	t.Parallel()
	const rows = 1000
	const ttl = 200 * time.Millisecond // 200 reads of the clock
	var ticks atomic.Int64
	clock := func() time.Time { return time.Unix(1_000_000, 0).Add(time.Duration(ticks.Add(1)) * time.Millisecond) }
	sim := startSim(t, simulator.Config{Mailboxes: rows, Auth: simulator.AuthConfig{TokenTTL: ttl, Now: clock}})
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	st := sim.State()
	for i, m := range st.Mailboxes[:rows] {
		fmt.Fprintf(&b, "%s,%s,token run %d\n", m["mailbox"], m["customer"], i)
	}
	in := writeFile(t, "tokens.csv", b.String())
	rep := filepath.Join(t.TempDir(), "tokens.report.csv")
	env := simEnv(sim)
	env["ENSWITCH_AUTH"] = "token"
	res := runCLI(t, context.Background(), env, "run", in, "--report", rep, "--rate", "0", "--workers", "16")
	if res.code != exitOK {
		t.Fatalf("exit %d: %v\n%s", res.code, res.err, tail(res.stderr, 20))
	}
	s, a := sim.Stats(), sim.AuthStats()
	if s.Applied != rows || s.Validated != rows {
		t.Errorf("applied %d, validated %d; want %d each (nothing lost, nothing repeated)", s.Applied, s.Validated, rows)
	}
	if a.PasswordRequests != a.Logins || a.TokenRequests < 2*rows {
		t.Errorf("simulator saw %+v: the password must go only with the logins, the token with every call", a)
	}
	// Every token dies after at most 200 reads of the clock, and each
	// request reads it at least once: 2 calls a row (a read, the update;
	// validation too) need at least that many / 200 tokens.
	if want := 2 * rows / 200; a.Logins < int64(want) || a.TokensRefused == 0 {
		t.Errorf("%d logins, %d tokens refused for %d token requests of tokens living 200 requests: want at least %d logins and refusals met (renewed, not merely lucky)", a.Logins, a.TokensRefused, a.TokenRequests, want)
	}
	if n := countRecords(t, rep); n != rows {
		t.Errorf("report has %d lines, want %d", n, rows)
	}
	t.Logf("%d rows: %d logins, %d tokens refused", rows, a.Logins, a.TokensRefused)
}

// A server that echoes the request and sends huge, terminal-hostile texts
// leaves in the report and on stderr neither the PIN nor the password nor
// raw control characters, and nothing larger than the bound.
func TestHostileServerText(t *testing.T) {
	t.Parallel()
	const pin = "90000000"
	const password = "pw/with+odd=chars"
	bigKey := strings.Repeat("k", 2<<20)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "user/login") {
			http.NotFound(w, r) // an older server: the password is sent with each request
			return
		}
		body, _ := io.ReadAll(r.Body)
		// The echo leaves '/' unescaped, as PHP's and Perl's encoders do.
		echo := strings.ReplaceAll(string(body), "%2F", "/")
		fmt.Fprintf(w, `{"responses":[{"code":"400","key":"%s","message":"\u001b]0;pwned\u0007\u001b[2J bad request: %s"}]}`, bigKey, echo)
	}))
	t.Cleanup(ts.Close)
	in := writeFile(t, "hostile.csv", "mailbox,customer,pin\n1001,100,"+pin+"\n1002,100,"+pin+"\n")
	rep := filepath.Join(t.TempDir(), "hostile.report.csv")
	env := map[string]string{"ENSWITCH_URL": ts.URL, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": password}
	res := runCLI(t, context.Background(), env, "run", in, "--report", rep, "--rate", "0", "--log-level", "debug")
	if res.code != exitRows {
		t.Fatalf("exit %d: %v\n%s", res.code, res.err, tail(res.stderr, 20))
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"report": string(b), "stderr": res.stderr, "stdout": res.stdout} {
		for _, s := range []string{pin, password, "pw%2Fwith", "pw/with%2Bodd", "\x1b", "\a"} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds %q", where, s)
			}
		}
	}
	if len(b) > 16<<10 {
		t.Errorf("report is %d bytes for 2 rows: server text not bounded", len(b))
	}
	if !strings.Contains(string(b), "[REDACTED]") || !strings.Contains(string(b), `\x1b`) {
		t.Errorf("report does not show the echo redacted and escaped:\n%.600s", b)
	}
	if !strings.Contains(res.stderr, "does not issue tokens") {
		t.Errorf("the fallback to the password was not logged:\n%s", tail(res.stderr, 20))
	}
}

// A URL carrying user:pass@ is refused without being shown.
func TestURLUserinfoNeverShown(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"https://admin:Secr3tUI@switch.example.com", "http://admin:Secr3tUI@host/%zz"} {
		env := map[string]string{"ENSWITCH_URL": u, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "x"}
		res := runCLI(t, context.Background(), env, "run", writeFile(t, "a.csv", "mailbox\n1001\n"), "--log-level", "debug")
		if res.code != exitUsage {
			t.Errorf("%s: exit %d, want %d", u, res.code, exitUsage)
		}
		if strings.Contains(res.stderr+res.stdout, "Secr3tUI") {
			t.Errorf("%s: output shows the userinfo:\n%s", u, res.stderr)
		}
	}
}

// rowRequests counts the requests made for rows: all but the logins.
func rowRequests(st simulator.Stats) int64 {
	return st.Requests - st.ByFunction["user/login"]
}
