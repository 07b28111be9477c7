package enswitch

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
)

// BenchmarkUpdate is one mailboxes/update through the client against a
// server that answers at once with a fixed envelope: the client's own cost
// per request (encoding, HTTP, decoding), which is what ensbulk-bench's
// throughput figure compares with a raw HTTP client.
func BenchmarkUpdate(b *testing.B) {
	srv := benchServer()
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Username: "admin", Password: "admin-demo-pass",
		HTTPClient: NewHTTPClient(HTTPOptions{Workers: 4})})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Update(ctx, benchParams, true)
			if err != nil || resp.Code != CodeValid {
				b.Errorf("Update = %+v, %v", resp, err)
				return
			}
		}
	})
}

// BenchmarkRawPost is BenchmarkUpdate's request made with net/http alone
// (the body prepared once, the answer read and dropped): the floor under
// BenchmarkUpdate, whose difference from it is the client's own cost.
func BenchmarkRawPost(b *testing.B) {
	srv := benchServer()
	defer srv.Close()
	hc := NewHTTPClient(HTTPOptions{Workers: 4})
	form := "auth_password=admin-demo-pass&auth_username=admin"
	for _, p := range benchParams {
		form += "&" + url.QueryEscape(p.Name) + "=" + url.QueryEscape(p.Value)
	}
	form += "&validation=1"
	endpoint := srv.URL + "/api/json/mailboxes/update/"
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

var benchParams = []batch.Param{
	{Name: "mailbox", Value: "100042"}, {Name: "customer", Value: "3"},
	{Name: "description", Value: "Reception, front desk 100042"}, {Name: "envelope", Value: "1"},
	{Name: "notify_email", Value: "owner_wav"}, {Name: "pager", Value: "vm100042@example.com"},
	{Name: "pin", Value: "4821"}, {Name: "timezone", Value: "Europe/London"},
}

// benchServer answers every request at once with a fixed envelope.
func benchServer() *httptest.Server {
	body := []byte(`{"responses":[{"code":"201","key":"","message":"Input is valid"}]}`)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}

// BenchmarkGet is one mailboxes/get through the client (the read before
// an update) against a server that answers at once with a mailbox of 40
// columns, as the simulator's: the client's cost per read, decoding
// included, beside BenchmarkRawGet's floor.
func BenchmarkGet(b *testing.B) {
	srv := benchGetServer()
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Username: "admin", Password: "admin-demo-pass",
		HTTPClient: NewHTTPClient(HTTPOptions{Workers: 4})})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m, err := c.Get(ctx, "100042", "3")
			if err != nil || m.Text("mailbox") != "100042" {
				b.Errorf("Get = %v, %v", m.Names(), err)
				return
			}
		}
	})
}

// BenchmarkRawGet is BenchmarkGet's request made with net/http alone, the
// answer read and dropped.
func BenchmarkRawGet(b *testing.B) {
	srv := benchGetServer()
	defer srv.Close()
	hc := NewHTTPClient(HTTPOptions{Workers: 4})
	form := "auth_password=admin-demo-pass&auth_username=admin&mailbox=100042&customer=3"
	endpoint := srv.URL + "/api/json/mailboxes/get/"
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// benchGetServer answers every request with one mailbox of 40 columns.
func benchGetServer() *httptest.Server {
	var data strings.Builder
	data.WriteString(`{"mailbox":"100042","customer":3,"description":"Reception, front desk 100042","envelope":1,` +
		`"notify_email":"owner_wav","pager":"vm100042@example.com","pin":"****","timezone":"Europe/London","email":null`)
	for i := range 31 {
		data.WriteString(`,"column_` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":"value ` + strings.Repeat("v", i%11) + `"`)
	}
	data.WriteString("}")
	body := []byte(`{"responses":[{"code":"200","key":"","message":"OK"}],"data":` + data.String() + `}`)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}
