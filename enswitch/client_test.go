package enswitch_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

const adminPass = "admin-demo-pass"

func startSim(t *testing.T, cfg simulator.Config) (*simulator.Server, *httptest.Server) {
	t.Helper()
	if cfg.Mailboxes == 0 && cfg.State == nil {
		cfg.Mailboxes = 10
	}
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = sim.Close() }) // runs first: frees hangs so ts.Close does not wait
	return sim, ts
}

func newClient(t *testing.T, base, user, pass string, o enswitch.HTTPOptions) *enswitch.Client {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	hc := enswitch.NewHTTPClient(o)
	t.Cleanup(hc.CloseIdleConnections)
	c, err := enswitch.New(enswitch.Config{BaseURL: base, Username: user, Password: pass, HTTPClient: hc})
	if err != nil {
		t.Fatalf("enswitch.New: %v", err)
	}
	return c
}

func params(kv ...string) []batch.Param {
	var out []batch.Param
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, batch.Param{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

var row1001 = params("mailbox", "1001", "customer", "100", "description", "from the test")

func asBatchError(t *testing.T, err error) *batch.Error {
	t.Helper()
	var be *batch.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %v (%T) is not a *batch.Error", err, err)
	}
	return be
}

func TestClientAgainstSimulator(t *testing.T) {
	sim, ts := startSim(t, simulator.Config{Mailboxes: 20})
	c := newClient(t, ts.URL+"/", "acme", "acme-demo-pass", enswitch.HTTPOptions{})
	ctx := context.Background()

	resp, err := c.Update(ctx, row1001, true)
	if err != nil || resp.Code != enswitch.CodeValid {
		t.Fatalf("Update(validate) = %+v, %v; want 201", resp, err)
	}
	if got := sim.Stats().Applied; got != 0 {
		t.Fatalf("validation applied %d changes", got)
	}
	resp, err = c.Update(ctx, row1001, false)
	if err != nil || resp.Code != enswitch.CodeUpdated {
		t.Fatalf("Update = %+v, %v; want 204", resp, err)
	}
	m, err := c.Get(ctx, "1001", "100")
	if err != nil {
		t.Fatal(err)
	}
	if m.Text("description") != "from the test" || m.Text("mailbox") != "1001" {
		t.Errorf("Get = %v, want the new description", m)
	}
	list, err := c.List(ctx, "101")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 10 || list[0].Text("mailbox") != "1002" {
		t.Errorf("List(101) = %d mailboxes starting %q, want 10 starting 1002", len(list), list[0].Text("mailbox"))
	}
	_, err = c.Get(ctx, "9999", "100")
	if k := batch.KindOf(err); k != batch.KindNotFound {
		t.Errorf("Get(9999) kind %v (%v), want not found", k, err)
	}
	_, err = c.Update(ctx, params("mailbox", "1001", "customer", "100", "auth_password", "x"), false)
	if be := asBatchError(t, err); be.Kind != batch.KindInvalid || be.Key != "auth_password" {
		t.Errorf("credentials as a parameter: %v, want invalid [auth_password]", err)
	}
}

// TestFaultKinds drives every fault of the simulator through the client
// and checks the kind the engine will act on.
func TestFaultKinds(t *testing.T) {
	cases := []struct {
		name           string
		faults         simulator.Faults
		timeout        time.Duration
		warmup         bool // one request first, to empty the token bucket
		wantKind       batch.Kind
		wantCode       string
		wantThrottle   bool
		wantRetryAfter time.Duration
		wantMsg        string
	}{
		{name: "no fault", wantKind: batch.KindOther},
		{name: "latency", faults: simulator.Faults{Latency: 30 * time.Millisecond, Jitter: 10 * time.Millisecond}, wantKind: batch.KindOther},
		{name: "HTTP 500 with HTML", faults: simulator.Faults{ErrorRate: 1, ErrorCodes: []int{500}},
			wantKind: batch.KindTransient, wantCode: "500", wantMsg: "HTTP 500"},
		{name: "HTTP 502 with HTML", faults: simulator.Faults{ErrorRate: 1, ErrorCodes: []int{502}},
			wantKind: batch.KindTransient, wantCode: "502", wantMsg: "Bad Gateway"},
		{name: "HTTP 503 without Retry-After", faults: simulator.Faults{ErrorRate: 1, ErrorCodes: []int{503}},
			wantKind: batch.KindTransient, wantCode: "503", wantThrottle: true},
		{name: "connection reset", faults: simulator.Faults{ResetRate: 1}, wantKind: batch.KindTransient},
		{name: "hang until the client times out", faults: simulator.Faults{HangRate: 1}, timeout: 150 * time.Millisecond,
			wantKind: batch.KindTransient, wantMsg: "timeout"},
		{name: "hang shorter than the timeout", faults: simulator.Faults{HangRate: 1, HangFor: 30 * time.Millisecond}, wantKind: batch.KindOther},
		{name: "truncated JSON", faults: simulator.Faults{TruncateRate: 1},
			wantKind: batch.KindTransient, wantCode: "200", wantMsg: "decode envelope"},
		{name: "response lost after apply", faults: simulator.Faults{LostRate: 1}, wantKind: batch.KindTransient},
		{name: "429 with Retry-After", faults: simulator.Faults{RateLimit: 0.01, RetryAfter: 3 * time.Second}, warmup: true,
			wantKind: batch.KindTransient, wantCode: "429", wantThrottle: true, wantRetryAfter: 3 * time.Second},
		{name: "429 with the default Retry-After", faults: simulator.Faults{RateLimit: 0.01}, warmup: true,
			wantKind: batch.KindTransient, wantCode: "429", wantThrottle: true, wantRetryAfter: time.Second},
		{name: "redirect", faults: simulator.Faults{RedirectTo: "https://switch.example.com"},
			wantKind: batch.KindFatal, wantCode: "308", wantMsg: "https://switch.example.com/api/json/mailboxes/update/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, ts := startSim(t, simulator.Config{Faults: tc.faults})
			c := newClient(t, ts.URL, "admin", adminPass, enswitch.HTTPOptions{Timeout: tc.timeout})
			if tc.warmup {
				if _, err := c.Update(context.Background(), row1001, true); err != nil {
					t.Fatalf("warm-up: %v", err)
				}
			}
			resp, err := c.Update(context.Background(), row1001, false)
			if tc.wantKind == batch.KindOther {
				if err != nil || resp.Code != "204" {
					t.Fatalf("Update = %+v, %v; want 204", resp, err)
				}
				return
			}
			be := asBatchError(t, err)
			if be.Kind != tc.wantKind || be.Code != tc.wantCode {
				t.Errorf("error %v: kind %v code %q, want %v %q", err, be.Kind, be.Code, tc.wantKind, tc.wantCode)
			}
			if be.Throttle != tc.wantThrottle || be.RetryAfter != tc.wantRetryAfter {
				t.Errorf("error %v: throttle %v retry after %v, want %v %v", err, be.Throttle, be.RetryAfter, tc.wantThrottle, tc.wantRetryAfter)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q, want it to mention %q", err, tc.wantMsg)
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Errorf("error %v matches a context error although the caller's context is live", err)
			}
			if n := sim.Stats().Faults; len(n) == 0 && tc.name != "latency" {
				t.Errorf("simulator counted no fault: %v", n)
			}
		})
	}
}

// TestOverload503: MaxConcurrent refuses with 503 and Retry-After, which
// the client reports as a throttle. The first request is held by the hang
// fault (the refusal comes before faults), so no timing is involved.
func TestOverload503(t *testing.T) {
	sim, ts := startSim(t, simulator.Config{Faults: simulator.Faults{MaxConcurrent: 1, HangRate: 1, RetryAfter: 2 * time.Second}})
	c := newClient(t, ts.URL, "admin", adminPass, enswitch.HTTPOptions{Workers: 2})
	var wg sync.WaitGroup
	var firstErr error
	wg.Go(func() { _, firstErr = c.Update(context.Background(), row1001, true) })
	deadline := time.Now().Add(2 * time.Second)
	for sim.Stats().InFlight != 1 {
		if time.Now().After(deadline) {
			t.Fatal("first request never arrived")
		}
		time.Sleep(2 * time.Millisecond)
	}
	_, err := c.Update(context.Background(), row1001, true)
	_ = sim.Close() // release the first
	wg.Wait()
	if firstErr != nil {
		t.Errorf("first request: %v", firstErr)
	}
	be := asBatchError(t, err)
	if be.Kind != batch.KindTransient || be.Code != "503" || !be.Throttle || be.RetryAfter != 2*time.Second {
		t.Errorf("second request: %v (throttle %v, retry after %v); want transient 503, throttle, 2s", err, be.Throttle, be.RetryAfter)
	}
}

// TestResetOverHTTP2: on HTTP/2 the reset is a stream reset, still
// transient.
func TestResetOverHTTP2(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Mailboxes: 4, Faults: simulator.Faults{ResetRate: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(sim)
	ts.EnableHTTP2 = true
	ts.Config.ErrorLog = nil
	ts.StartTLS()
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	c := newClient(t, ts.URL, "admin", adminPass, enswitch.HTTPOptions{CAPool: pool})
	_, err = c.Update(context.Background(), row1001, false)
	if k := batch.KindOf(err); k != batch.KindTransient {
		t.Errorf("reset over HTTP/2: %v (kind %v), want transient", err, k)
	}
}

func TestTLS(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Mailboxes: 4})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(sim)
	t.Cleanup(ts.Close)

	t.Run("self-signed without the CA is fatal", func(t *testing.T) {
		c := newClient(t, ts.URL, "admin", adminPass, enswitch.HTTPOptions{})
		_, err := c.Update(context.Background(), row1001, true)
		if be := asBatchError(t, err); be.Kind != batch.KindFatal || !strings.Contains(be.Message, "certificate") {
			t.Errorf("error %v, want fatal about the certificate", err)
		}
	})
	t.Run("with the CA in HTTPOptions", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AddCert(ts.Certificate())
		c := newClient(t, ts.URL, "admin", adminPass, enswitch.HTTPOptions{CAPool: pool})
		if resp, err := c.Update(context.Background(), row1001, true); err != nil || resp.Code != "201" {
			t.Errorf("Update = %+v, %v; want 201", resp, err)
		}
	})
	t.Run("insecure", func(t *testing.T) {
		c := newClient(t, ts.URL, "admin", adminPass, enswitch.HTTPOptions{Insecure: true})
		if _, err := c.Update(context.Background(), row1001, true); err != nil {
			t.Errorf("Update with Insecure: %v", err)
		}
	})
	t.Run("plain HTTP to a TLS port is transient", func(t *testing.T) {
		c := newClient(t, strings.Replace(ts.URL, "https:", "http:", 1), "admin", adminPass, enswitch.HTTPOptions{})
		if _, err := c.Update(context.Background(), row1001, true); batch.KindOf(err) != batch.KindTransient {
			t.Errorf("error %v, want transient", err)
		}
	})
}

// TestContextErrors: a cancelled or expired caller context stays visible
// through errors.Is; a client timeout does not pretend to be one.
func TestContextErrors(t *testing.T) {
	_, ts := startSim(t, simulator.Config{Faults: simulator.Faults{HangRate: 1}})
	c := newClient(t, ts.URL, "admin", adminPass, enswitch.HTTPOptions{Timeout: 5 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	_, err := c.Update(ctx, row1001, false)
	if !errors.Is(err, context.DeadlineExceeded) || batch.KindOf(err) != batch.KindTransient {
		t.Errorf("expired context: %v, want transient matching context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.Update(ctx, row1001, false)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}
}

// TestPasswordNeverInErrors: whatever a server sends back, the client's
// error text does not hold the password in any encoding.
func TestPasswordNeverInErrors(t *testing.T) {
	const canary = "canary-PW-7f3a9"
	const odd = `canary PW&"7f3a9<é>` // needs every kind of escaping
	echoHandlers := map[string]http.HandlerFunc{
		"HTML 500 echoing the form": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(500)
			fmt.Fprintf(w, "<html><pre>%s</pre></html>", b)
		},
		"HTML 500 echoing the decoded password escaped": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			w.WriteHeader(500)
			fmt.Fprintf(w, "<p>user=%s pass=%s</p>", r.PostFormValue("auth_username"), htmlEscape(r.PostFormValue("auth_password")))
		},
		"200 non-JSON echo": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			fmt.Fprintf(w, "debug: password is %s", r.PostFormValue("auth_password"))
		},
		"JSON message quoting the password": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			pw := r.PostFormValue("auth_password")
			fmt.Fprintf(w, `{"responses":[{"code":"401","key":%q,"message":%q}]}`, pw, "bad password "+pw)
		},
		"truncated JSON after the password": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			fmt.Fprintf(w, `{"responses":[{"code":"400","message":%q`, r.PostFormValue("auth_password"))
		},
		"redirect with the password in the Location": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			http.Redirect(w, r, "https://elsewhere.example/?p="+url.QueryEscape(r.PostFormValue("auth_password")), http.StatusFound)
		},
	}
	type server struct {
		name string
		url  string
	}
	var servers []server
	for name, h := range echoHandlers {
		ts := httptest.NewServer(h)
		t.Cleanup(ts.Close)
		servers = append(servers, server{name, ts.URL})
	}
	_, simTS := startSim(t, simulator.Config{Faults: simulator.Faults{ErrorRate: 1, EchoBody: true}})
	servers = append(servers, server{"simulator EchoBody fault", simTS.URL})

	for _, pw := range []string{canary, odd} {
		for _, srv := range servers {
			t.Run(srv.name+"/"+pw, func(t *testing.T) {
				c := newClient(t, srv.url, "admin", pw, enswitch.HTTPOptions{})
				for _, call := range []func() error{
					func() error { _, err := c.Update(context.Background(), row1001, false); return err },
					func() error { _, err := c.Get(context.Background(), "1001", "100"); return err },
					func() error { _, err := c.List(context.Background(), "100"); return err },
				} {
					err := call()
					if err == nil {
						t.Fatal("no error")
					}
					for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
						for _, form := range []string{pw, url.QueryEscape(pw), "canary"} {
							if strings.Contains(text, form) {
								t.Errorf("error text holds the password (%q): %s", form, text)
							}
						}
					}
				}
			})
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name string
		cfg  enswitch.Config
		want string
	}{
		{"no URL", enswitch.Config{Username: "u"}, "no server URL"},
		{"ftp scheme", enswitch.Config{BaseURL: "ftp://switch.example.com", Username: "u"}, "scheme"},
		{"no scheme", enswitch.Config{BaseURL: "switch.example.com", Username: "u"}, "scheme"},
		{"no host", enswitch.Config{BaseURL: "https://", Username: "u"}, "no host"},
		{"credentials in URL", enswitch.Config{BaseURL: "https://u:p@switch.example.com", Username: "u"}, "credentials"},
		{"query", enswitch.Config{BaseURL: "https://switch.example.com/?x=1", Username: "u"}, "query"},
		{"no username", enswitch.Config{BaseURL: "https://switch.example.com"}, "no username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enswitch.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBasePath: a server mounted under a path prefix.
func TestBasePath(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Mailboxes: 4})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/enswitch/", http.StripPrefix("/enswitch", sim))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c := newClient(t, ts.URL+"/enswitch/", "admin", adminPass, enswitch.HTTPOptions{})
	if resp, err := c.Update(context.Background(), row1001, true); err != nil || resp.Code != "201" {
		t.Errorf("Update under /enswitch = %+v, %v; want 201", resp, err)
	}
}

// Update passes on the entry that is not the phase's success code, so the
// engine sees a 204 to a validation even beside a 201.
func TestUpdatePassesOnTheSurprise(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"responses":[{"code":"201","message":"Input is valid"},{"code":"204","message":"OK"}]}`)
	}))
	defer ts.Close()
	c := newClient(t, ts.URL+"/", "acme", "acme-demo-pass", enswitch.HTTPOptions{})
	for _, validate := range []bool{true, false} {
		resp, err := c.Update(context.Background(), row1001, validate)
		want := enswitch.CodeUpdated
		if !validate {
			want = enswitch.CodeValid
		}
		if err != nil || resp.Code != want {
			t.Errorf("Update(validate=%v) = %+v, %v; want code %s", validate, resp, err, want)
		}
	}
}
