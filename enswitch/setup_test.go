package enswitch_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/testkit"
	"github.com/ensbulk/ensbulk/simulator"
)

// SetupOf names the mistake a failed request proves, and only then: an
// answer from an Enswitch API or a passing fault proves none.
func TestSetupOf(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	serve := func(h http.Handler, tls bool) string {
		ts := httptest.NewUnstartedServer(h)
		ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are the point
		if tls {
			ts.StartTLS()
		} else {
			ts.Start()
		}
		t.Cleanup(ts.Close)
		return ts.URL
	}
	page := func(status int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		})
	}

	type setupCase struct {
		name string
		url  string
		want enswitch.Setup
	}
	tests := []setupCase{
		{"unknown host", "http://nonexistent.invalid", enswitch.SetupUnknownHost},
		{"https to plain", strings.Replace(serve(sim, false), "http:", "https:", 1), enswitch.SetupHTTPSOnHTTP},
		{"http to TLS", strings.Replace(serve(sim, true), "https:", "http:", 1), enswitch.SetupHTTPOnHTTPS},
		{"wrong path", serve(sim, false) + "/api/json", enswitch.SetupWrongPath},
		{"html 200", serve(page(200, "\n  <html><body>Sign in</body></html>"), false), enswitch.SetupNotAPI},
		{"mailbox 404 answered", serve(sim, false), enswitch.SetupNone},
		{"truncated envelope", serve(page(200, `{"responses":[{"co`), false), enswitch.SetupNone},
		{"empty 200", serve(page(200, ""), false), enswitch.SetupNone},
		{"5xx page", serve(page(502, "<html>Bad Gateway</html>"), false), enswitch.SetupNone},
		{"400 page on plain http", serve(page(400, "<html>Bad Request</html>"), false), enswitch.SetupNone},
	}
	// The closed port stays bound, never listening, to the test's end: a
	// port freed at once was once taken by one of the servers above
	// ("closed port" then reached a server).
	closed := "http://" + testkit.ClosedPort(t)
	tests = append([]setupCase{{"closed port", closed, enswitch.SetupRefused}}, tests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := enswitch.New(enswitch.Config{BaseURL: tc.url, Username: "admin", Password: adminPass,
				HTTPClient: enswitch.NewHTTPClient(enswitch.HTTPOptions{Insecure: true})})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.Get(context.Background(), "99999", "")
			if err == nil {
				t.Fatal("no error")
			}
			if got := enswitch.SetupOf(err); got != tc.want {
				t.Errorf("SetupOf(%v) = %d, want %d", err, got, tc.want)
			}
		})
	}
}

// A URL without scheme is refused before anything is sent, saying how
// to write it.
func TestURLWithoutScheme(t *testing.T) {
	for _, u := range []string{"127.0.0.1:8080", "switch.example.com:8443", "switch.example.com"} {
		_, err := enswitch.New(enswitch.Config{BaseURL: u, Username: "admin"})
		if err == nil || !strings.Contains(err.Error(), "has no scheme") || !strings.Contains(err.Error(), "https://"+u) {
			t.Errorf("New(%q) = %v, want a refusal that says https://%s", u, err, u)
		}
	}
}
