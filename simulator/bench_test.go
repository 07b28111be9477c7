package simulator_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// BenchmarkUpdateAudit measures one applied update through the handler
// (no network), on a server whose audit log is empty and on one already
// holding its limit: the two must cost the same, or a rehearsal of
// millions of rows slows down once the log is full.
func BenchmarkUpdateAudit(b *testing.B) {
	const limit = 100000
	for _, bc := range []struct {
		name    string
		prefill int
	}{
		{"empty", 0},
		{"full", limit + 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sim, err := simulator.New(simulator.Config{Mailboxes: 64, AuditLimit: limit})
			if err != nil {
				b.Fatal(err)
			}
			update := func(i int) {
				body := "auth_username=admin&auth_password=admin-demo-pass&customer=100&mailbox=" +
					strconv.Itoa(1001+2*(i%32)) + "&description=d" + strconv.Itoa(i)
				req := httptest.NewRequest(http.MethodPost, "/api/json/mailboxes/update/", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				sim.ServeHTTP(w, req)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"204"`) {
					b.Fatalf("update %d: %d %s", i, w.Code, w.Body)
				}
			}
			for i := range bc.prefill {
				update(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				update(i)
			}
		})
	}
}
