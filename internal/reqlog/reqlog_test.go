package reqlog

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// A request logged at debug level names the API function, its
// parameters with every secret redacted, and the HTTP status; the
// request the server receives is untouched.
func TestWrapRedactsSecrets(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		got = r.PostForm
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	core, logs := observer.New(zap.DebugLevel)
	hc := &http.Client{Transport: Wrap(srv.Client().Transport, zap.New(core))}
	form := url.Values{"auth_username": {"admin"}, "auth_password": {"s3cret"}, "PIN": {"4321"}, "auth_token": {"t0ken-x"}, "mailbox": {"1001"}}
	resp, err := hc.PostForm(srv.URL+"/api/json/mailboxes/update/", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("auth_password") != "s3cret" || got.Get("PIN") != "4321" {
		t.Errorf("server received %v, want the request as sent", got)
	}
	if logs.Len() != 1 {
		t.Fatalf("%d log entries, want 1", logs.Len())
	}
	f := logs.All()[0].ContextMap()
	params, _ := f["params"].(string)
	for _, secret := range []string{"s3cret", "4321", "t0ken-x"} {
		if strings.Contains(params, secret) {
			t.Errorf("params %q hold the secret %q", params, secret)
		}
	}
	if want := "PIN=REDACTED auth_password=REDACTED auth_token=REDACTED auth_username=admin mailbox=1001"; params != want {
		t.Errorf("params = %q, want %q", params, want)
	}
	if f["function"] != "mailboxes/update" || f["http"] != int64(http.StatusTeapot) {
		t.Errorf("fields = %v, want function mailboxes/update and http 418", f)
	}
}

// Below debug level the transport is returned as it is: no copy of the
// body is read for nothing.
func TestWrapBelowDebugIsTheTransport(t *testing.T) {
	core, _ := observer.New(zap.InfoLevel)
	next := http.DefaultTransport
	if got := Wrap(next, zap.New(core)); got != next {
		t.Errorf("Wrap at info level = %T, want the transport itself", got)
	}
}
