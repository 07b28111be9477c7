package enswitch_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// clock is a settable clock for the client or the simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func tokenClient(t *testing.T, base, pass string, cfg enswitch.Config) *enswitch.Client {
	t.Helper()
	hc := enswitch.NewHTTPClient(enswitch.HTTPOptions{Timeout: 5 * time.Second, Workers: 8})
	t.Cleanup(hc.CloseIdleConnections)
	cfg.BaseURL, cfg.Username, cfg.Password, cfg.HTTPClient = base, "acme", pass, hc
	c, err := enswitch.New(cfg)
	if err != nil {
		t.Fatalf("enswitch.New: %v", err)
	}
	return c
}

// TestTokenLogin is the conformance table for login and token use: each
// mode against a server with and without tokens, twenty updates, and
// what the simulator saw.
func TestTokenLogin(t *testing.T) {
	const calls = 20
	cases := []struct {
		name     string
		mode     enswitch.AuthMode
		noTokens bool   // user/login answers without a token (as 4.0)
		noLogin  bool   // no user/login (as before 3.13)
		version  string // VersionCompat
		pass     string

		wantKind      batch.Kind // of every call's error; 0 = success
		wantInUse     enswitch.AuthMode
		wantLogins    int64 // at the simulator
		wantPassword  int64 // requests carrying auth_password
		wantToken     int64 // requests carrying auth_token
		wantNotices   int
		wantOwn       string
		wantPaceCalls int
	}{
		{name: "auto uses a token", mode: enswitch.AuthAuto, pass: "acme-demo-pass",
			wantInUse: enswitch.AuthToken, wantLogins: 1, wantPassword: 1, wantToken: calls, wantOwn: "10", wantPaceCalls: 1},
		{name: "token uses a token", mode: enswitch.AuthToken, pass: "acme-demo-pass",
			wantInUse: enswitch.AuthToken, wantLogins: 1, wantPassword: 1, wantToken: calls, wantOwn: "10", wantPaceCalls: 1},
		{name: "password never logs in", mode: enswitch.AuthPassword, pass: "acme-demo-pass",
			wantInUse: enswitch.AuthPassword, wantPassword: calls},
		{name: "zero Config is password", mode: "", pass: "acme-demo-pass",
			wantInUse: enswitch.AuthPassword, wantPassword: calls},
		{name: "auto falls back once on a server without user/login", mode: enswitch.AuthAuto, noLogin: true, pass: "acme-demo-pass",
			wantInUse: enswitch.AuthPassword, wantPassword: calls, wantNotices: 1, wantPaceCalls: 1},
		{name: "auto falls back once on a login without tokens", mode: enswitch.AuthAuto, noTokens: true, pass: "acme-demo-pass",
			wantInUse: enswitch.AuthPassword, wantLogins: 1, wantPassword: calls + 1, wantNotices: 1, wantPaceCalls: 1},
		{name: "auto falls back once on 3.12 (no user/login)", mode: enswitch.AuthAuto, version: "3.12", pass: "acme-demo-pass",
			wantInUse: enswitch.AuthPassword, wantPassword: calls, wantNotices: 1, wantPaceCalls: 1},
		{name: "auto falls back once on 3.13 (login without token)", mode: enswitch.AuthAuto, version: "3.13", pass: "acme-demo-pass",
			wantInUse: enswitch.AuthPassword, wantLogins: 1, wantPassword: calls + 1, wantNotices: 1, wantPaceCalls: 1},
		{name: "auto falls back once on 4.0 (login without token)", mode: enswitch.AuthAuto, version: "4.0", pass: "acme-demo-pass",
			wantInUse: enswitch.AuthPassword, wantLogins: 1, wantPassword: calls + 1, wantNotices: 1, wantPaceCalls: 1},
		{name: "auto uses a token on 4.1", mode: enswitch.AuthAuto, version: "4.1", pass: "acme-demo-pass",
			wantInUse: enswitch.AuthToken, wantLogins: 1, wantPassword: 1, wantToken: calls, wantOwn: "10", wantPaceCalls: 1},
		{name: "token refuses a server without user/login", mode: enswitch.AuthToken, noLogin: true, pass: "acme-demo-pass",
			wantKind: batch.KindFatal, wantInUse: enswitch.AuthToken, wantPaceCalls: 1},
		{name: "token refuses a login without tokens", mode: enswitch.AuthToken, version: "4.0", pass: "acme-demo-pass",
			wantKind: batch.KindFatal, wantInUse: enswitch.AuthToken, wantLogins: 1, wantPassword: 1, wantPaceCalls: 1},
		{name: "auto with a wrong password", mode: enswitch.AuthAuto, pass: "wrong",
			wantKind: batch.KindUnauthorized, wantInUse: enswitch.AuthAuto, wantLogins: 1, wantPassword: 1, wantPaceCalls: 1},
		{name: "password with a wrong password", mode: enswitch.AuthPassword, pass: "wrong",
			wantKind: batch.KindUnauthorized, wantInUse: enswitch.AuthPassword, wantPassword: calls},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim, ts := startSim(t, simulator.Config{Mailboxes: 20, VersionCompat: tc.version,
				Auth: simulator.AuthConfig{NoTokens: tc.noTokens, NoLogin: tc.noLogin}})
			var notices []string
			var paced atomic.Int32
			c := tokenClient(t, ts.URL, tc.pass, enswitch.Config{Auth: tc.mode,
				Notice: func(m string) { notices = append(notices, m) },
				Pace:   func(context.Context) error { paced.Add(1); return nil }})
			for i := 0; i < calls; i++ {
				_, err := c.Update(context.Background(), row1001, true)
				if got := batch.KindOf(err); got != tc.wantKind {
					t.Fatalf("call %d: kind %v (%v), want %v", i, got, err, tc.wantKind)
				}
			}
			st := sim.AuthStats()
			if st.Logins != tc.wantLogins || st.PasswordRequests != tc.wantPassword || st.TokenRequests != tc.wantToken {
				t.Errorf("simulator saw %+v; want logins %d, password %d, token %d", st, tc.wantLogins, tc.wantPassword, tc.wantToken)
			}
			if got := c.AuthInUse(); got != tc.wantInUse {
				t.Errorf("AuthInUse = %q, want %q", got, tc.wantInUse)
			}
			if len(notices) != tc.wantNotices {
				t.Errorf("notices %q, want %d", notices, tc.wantNotices)
			}
			if own, _ := c.OwnCustomer(); own != tc.wantOwn {
				t.Errorf("OwnCustomer = %q, want %q", own, tc.wantOwn)
			}
			if got := int(paced.Load()); got != tc.wantPaceCalls {
				t.Errorf("Pace called %d times, want %d (once per login)", got, tc.wantPaceCalls)
			}
		})
	}
}

// TestTokenExpiry drives expiry and renewal with injected clocks: the
// client renews a few seconds before the expiry it was told; when its
// clock lags the server's, the server's 401 makes it log in again once.
func TestTokenExpiry(t *testing.T) {
	simClock, clientClock := newClock(), newClock()
	sim, ts := startSim(t, simulator.Config{Mailboxes: 20, Auth: simulator.AuthConfig{TokenTTL: time.Minute, Now: simClock.Now}})
	c := tokenClient(t, ts.URL, "acme-demo-pass", enswitch.Config{Auth: enswitch.AuthAuto, Now: clientClock.Now})
	ctx := context.Background()
	steps := []struct {
		name                    string
		sim, client             time.Duration // clock moves before the call
		wantLogins, wantRefused int64
	}{
		{"first call logs in", 0, 0, 1, 0},
		{"well before expiry: same token", 50 * time.Second, 50 * time.Second, 1, 0},
		{"inside the leeway: renewed before the call", 6 * time.Second, 6 * time.Second, 2, 0},
		{"new token lives a full minute", 50 * time.Second, 50 * time.Second, 2, 0},
		{"client clock behind: 401, one login, call repeated", 10 * time.Minute, 0, 3, 1},
		{"fresh again", time.Second, time.Second, 3, 1},
	}
	for _, s := range steps {
		simClock.Advance(s.sim)
		clientClock.Advance(s.client)
		resp, err := c.Update(ctx, row1001, false)
		if err != nil || resp.Code != enswitch.CodeUpdated {
			t.Fatalf("%s: Update = %+v, %v; want 204", s.name, resp, err)
		}
		st := sim.AuthStats()
		if st.Logins != s.wantLogins || st.TokensRefused != s.wantRefused {
			t.Fatalf("%s: simulator saw %+v; want logins %d, refused %d", s.name, st, s.wantLogins, s.wantRefused)
		}
	}
	if st := sim.AuthStats(); st.PasswordRequests != st.Logins {
		t.Errorf("password sent in %d requests, logins %d: only logins may carry it", st.PasswordRequests, st.Logins)
	}
	if got := sim.Stats().Applied; got != int64(len(steps)) {
		t.Errorf("applied %d, want %d (a refused call is repeated, never doubled)", got, len(steps))
	}
}

// TestTokenRenewalOn401: a token the server stops accepting (a restart
// with a new key) costs one login, shared by every caller at that moment.
func TestTokenRenewalOn401(t *testing.T) {
	sim, ts := startSim(t, simulator.Config{Mailboxes: 20})
	c := tokenClient(t, ts.URL, "acme-demo-pass", enswitch.Config{Auth: enswitch.AuthToken})
	ctx := context.Background()
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	sim.RevokeTokens()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Update(ctx, row1001, true); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update after revocation: %v", err)
	}
	// Concurrent callers refused together share a login; one that saw
	// its 401 after the renewal uses the new token without logging in.
	if st := sim.AuthStats(); st.Logins < 2 || st.Logins > 3 || st.PasswordRequests != st.Logins {
		t.Errorf("simulator saw %+v; want 2 logins (at most 3), the password only in them", st)
	}
}

// TestRenewalLogin401IsUnauthorized: when the login that renews a token is
// refused, the call fails as a wrong password does.
func TestRenewalLogin401IsUnauthorized(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Mailboxes: 20})
	if err != nil {
		t.Fatal(err)
	}
	var logins atomic.Int32
	// The real simulator decides; from the second login on, the password
	// it receives is no longer the user's (as when it is changed during
	// a run).
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "user/login") && logins.Add(1) > 1 {
			b, _ := io.ReadAll(r.Body)
			b = bytes.Replace(b, []byte("auth_password="+url.QueryEscape("acme-demo-pass")), []byte("auth_password=changed"), 1)
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	c := tokenClient(t, ts.URL, "acme-demo-pass", enswitch.Config{Auth: enswitch.AuthAuto})
	ctx := context.Background()
	if _, err := c.Update(ctx, row1001, true); err != nil {
		t.Fatal(err)
	}
	sim.RevokeTokens()
	_, err = c.Update(ctx, row1001, true)
	be := asBatchError(t, err)
	if be.Kind != batch.KindUnauthorized || !strings.Contains(be.Message, "user/login") {
		t.Errorf("error %v; want unauthorized from user/login", err)
	}
}

// TestTokenNeverInErrors extends the password canary to the token: a
// server that echoes the request (in a 400, a 500 page, a non-JSON
// answer) never gets the token, the password or the row's PIN into an
// error text, in any encoding.
func TestTokenNeverInErrors(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Mailboxes: 20})
	if err != nil {
		t.Fatal(err)
	}
	const pin = "90000000"
	var tokens sync.Map
	echo := map[string]func(w http.ResponseWriter, body string){
		"400 echoing the body": func(w http.ResponseWriter, body string) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"responses":[{"code":"400","key":"pin","message":`+jsonQuote("bad request: "+body)+`}]}`)
		},
		"500 page echoing the body": func(w http.ResponseWriter, body string) {
			w.WriteHeader(500)
			io.WriteString(w, "<pre>"+body+"</pre>")
		},
		"200 echoing decoded values with '/' unescaped": func(w http.ResponseWriter, body string) {
			v, _ := url.ParseQuery(body)
			io.WriteString(w, "debug token="+strings.ReplaceAll(url.QueryEscape(v.Get("auth_token")), "%2F", "/")+
				" pin="+v.Get("pin"))
		},
	}
	for name, h := range echo {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.Path, "user/login") {
					rec := httptest.NewRecorder()
					sim.ServeHTTP(rec, r)
					tokens.Store(rec.Body.String(), true)
					w.WriteHeader(rec.Code)
					_, _ = w.Write(rec.Body.Bytes())
					return
				}
				b, _ := io.ReadAll(r.Body)
				h(w, string(b))
			}))
			t.Cleanup(ts.Close)
			c := tokenClient(t, ts.URL, "acme-demo-pass", enswitch.Config{Auth: enswitch.AuthAuto})
			_, err := c.Update(context.Background(), params("mailbox", "1001", "pin", pin), true)
			if err == nil {
				t.Fatal("no error")
			}
			text := err.Error()
			var tok string
			tokens.Range(func(k, _ any) bool {
				if i := strings.Index(k.(string), `"auth_token":"`); i >= 0 {
					tok = strings.SplitN(k.(string)[i+len(`"auth_token":"`):], `"`, 2)[0]
				}
				return true
			})
			if tok == "" {
				t.Fatal("no token seen")
			}
			for _, secret := range []string{tok, url.QueryEscape(tok), tok[:20], tok[len(tok)-20:], pin, "acme-demo-pass"} {
				if strings.Contains(text, secret) {
					t.Errorf("error text holds a secret (%q): %s", secret, text)
				}
			}
			if !strings.Contains(text, "[REDACTED]") {
				t.Errorf("error text %q: want the echo kept, redacted", text)
			}
		})
	}
}

func jsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20:
			b.WriteString(`\u00` + string("0123456789abcdef"[r>>4]) + string("0123456789abcdef"[r&15]))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestServerTextBoundedAndInert: a server's code, key and message reach
// the caller cut to a bound, with control characters escaped.
func TestServerTextBoundedAndInert(t *testing.T) {
	bigKey := strings.Repeat("k", 2<<20)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"responses":[{"code":"400","key":"`+bigKey+`","message":"\u001b]0;owned\u0007\u001b[2Jbad\r\nlevel=fatal"}]}`)
	}))
	t.Cleanup(ts.Close)
	c := tokenClient(t, ts.URL, "acme-demo-pass", enswitch.Config{})
	_, err := c.Update(context.Background(), row1001, true)
	be := asBatchError(t, err)
	if be.Kind != batch.KindInvalid {
		t.Fatalf("kind %v, want invalid", be.Kind)
	}
	if len(be.Key) > enswitch.MaxKeyLen+32 {
		t.Errorf("key is %d bytes; want at most about %d", len(be.Key), enswitch.MaxKeyLen)
	}
	if strings.ContainsAny(be.Message+be.Key, "\x1b\a\r\n") {
		t.Errorf("control characters reached the caller: %q", be.Message)
	}
	if want := `\x1b]0;owned\a\x1b[2Jbad\r\nlevel=fatal`; be.Message != want {
		t.Errorf("message %q, want %q", be.Message, want)
	}
}

// A token refused again after a renewal (the newer token one another
// worker got a while ago, expired since) is renewed once more, then the
// call goes through; a server that refuses every token costs a bounded
// number of logins, then the 401.
func TestTokenRefusedAfterRenewal(t *testing.T) {
	for _, tc := range []struct {
		name       string
		refuse     int64 // token requests refused first
		wantErr    bool
		wantLogins int64
	}{
		{"refused once", 1, false, 2},
		{"refused again after the renewal", 2, false, 3},
		{"refused every time", 1 << 30, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, err := simulator.New(simulator.Config{Mailboxes: 20})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sim.Close() })
			var refused atomic.Int64
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				if form, _ := url.ParseQuery(string(body)); form.Get("auth_token") != "" && refused.Add(1) <= tc.refuse {
					io.WriteString(w, `{"responses":[{"code":"401","key":"","message":"Authentication failed"}]}`)
					return
				}
				sim.ServeHTTP(w, r)
			}))
			t.Cleanup(ts.Close)
			c := tokenClient(t, ts.URL, "acme-demo-pass", enswitch.Config{Auth: enswitch.AuthToken})
			resp, err := c.Update(context.Background(), row1001, false)
			if tc.wantErr {
				if batch.KindOf(err) != batch.KindUnauthorized {
					t.Fatalf("Update = %+v, %v; want a 401", resp, err)
				}
			} else if err != nil || resp.Code != enswitch.CodeUpdated {
				t.Fatalf("Update = %+v, %v; want 204", resp, err)
			}
			if got := sim.AuthStats().Logins; got != tc.wantLogins {
				t.Errorf("logins %d, want %d", got, tc.wantLogins)
			}
		})
	}
}
