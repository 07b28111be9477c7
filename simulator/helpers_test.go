package simulator_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// demoPasswords are the demo world's logins.
var demoPasswords = map[string]string{
	"admin":     "admin-demo-pass",
	"acme":      "acme-demo-pass",
	"northwind": "northwind-demo-pass",
	"frontdesk": "frontdesk-demo-pass",
	"auditor":   "auditor-demo-pass",
}

// start serves a new simulator on 127.0.0.1. Cleanup releases hangs
// before the listener closes.
func start(t *testing.T, cfg simulator.Config) (*simulator.Server, *httptest.Server) {
	t.Helper()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = sim.Close() })
	return sim, ts
}

// newClient returns a real enswitch client for url.
func newClient(t *testing.T, url, user, pass string, timeout time.Duration) *enswitch.Client {
	t.Helper()
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	hc := enswitch.NewHTTPClient(enswitch.HTTPOptions{Workers: 4, Timeout: timeout})
	t.Cleanup(hc.CloseIdleConnections)
	c, err := enswitch.New(enswitch.Config{BaseURL: url, Username: user, Password: pass, HTTPClient: hc})
	if err != nil {
		t.Fatalf("enswitch.New: %v", err)
	}
	return c
}

func ps(kv ...string) []batch.Param {
	out := make([]batch.Param, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, batch.Param{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// getJSON fetches a debug endpoint into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}

// waitFor polls cond until it holds or a second has passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
