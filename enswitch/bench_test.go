package enswitch

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
)

// BenchmarkUpdate is one mailboxes/update through the client against a
// server that answers at once with a fixed envelope: the client's own cost
// per request (encoding, HTTP, decoding), which is what ensbulk-bench's
// throughput figure compares with a raw HTTP client.
func BenchmarkUpdate(b *testing.B) {
	body := []byte(`{"responses":[{"code":"201","key":"","message":"Input is valid"}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Username: "admin", Password: "admin-demo-pass",
		HTTPClient: NewHTTPClient(HTTPOptions{Workers: 4})})
	if err != nil {
		b.Fatal(err)
	}
	params := []batch.Param{
		{Name: "mailbox", Value: "100042"}, {Name: "customer", Value: "3"},
		{Name: "description", Value: "Reception, front desk 100042"}, {Name: "envelope", Value: "1"},
		{Name: "notify_email", Value: "owner_wav"}, {Name: "pager", Value: "vm100042@example.com"},
		{Name: "pin", Value: "4821"}, {Name: "timezone", Value: "Europe/London"},
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Update(ctx, params, true)
			if err != nil || resp.Code != CodeValid {
				b.Errorf("Update = %+v, %v", resp, err)
				return
			}
		}
	})
}
