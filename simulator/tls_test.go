package simulator_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// TestSelfSignedCert: the real client trusts the simulator's certificate
// when given its PEM as the CA pool, refuses it otherwise, and reaches it
// with Insecure.
func TestSelfSignedCert(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Mailboxes: 4})
	if err != nil {
		t.Fatal(err)
	}
	cert, certPEM, err := simulator.SelfSignedCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(sim)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	ts.StartTLS()
	t.Cleanup(ts.Close)
	if !strings.HasPrefix(ts.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", ts.URL)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("the PEM holds no certificate")
	}
	cases := []struct {
		name     string
		opts     enswitch.HTTPOptions
		wantKind batch.Kind
	}{
		{"CA file", enswitch.HTTPOptions{CAPool: pool}, batch.KindOther},
		{"system roots", enswitch.HTTPOptions{}, batch.KindFatal},
		{"insecure", enswitch.HTTPOptions{Insecure: true}, batch.KindOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Timeout = 5 * time.Second
			hc := enswitch.NewHTTPClient(tc.opts)
			t.Cleanup(hc.CloseIdleConnections)
			c, err := enswitch.New(enswitch.Config{BaseURL: ts.URL, Username: "admin", Password: demoPasswords["admin"], HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			m, err := c.Get(context.Background(), "1001", "100")
			if got := batch.KindOf(err); got != tc.wantKind {
				t.Fatalf("Get error %v (kind %v), want kind %v", err, got, tc.wantKind)
			}
			if err == nil && m.Text("mailbox") != "1001" {
				t.Errorf("Get = %v", m.Names())
			}
			if err != nil && !strings.Contains(err.Error(), "use a CA file with the server's CA") {
				t.Errorf("error %q does not say to use a CA file (the command names its flag: cmd/ensbulk's security test)", err)
			}
		})
	}
}
