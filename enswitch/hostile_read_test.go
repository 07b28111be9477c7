package enswitch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// A hostile server's get and list data are kept as update answers are:
// a 2 MiB description of terminal escape sequences, the password and the
// request's token echoed into columns, and a column name that is an
// escape sequence itself all come back bounded, inert and redacted, and
// a column altered so is not offered as the mailbox's old value.
func TestHostileGetAndListData(t *testing.T) {
	const pass = "acme-demo-pass"
	sim, err := simulator.New(simulator.Config{Mailboxes: 20})
	if err != nil {
		t.Fatal(err)
	}
	escapes := strings.Repeat("\x1b[2J\x1b]0;pwned\x07\x1b[31mred\x1b[0m\r\u202e", 2<<20/30)
	var answered int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn := strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/json/"), "/")
		if fn != "mailboxes/get" && fn != "mailboxes/list" {
			sim.ServeHTTP(w, r) // logins: the real thing
			return
		}
		_ = r.ParseForm()
		tok := r.PostFormValue("auth_token")
		row := map[string]any{
			"mailbox":            "1001",
			"customer":           100,
			"description":        escapes,
			"pager":              "echo " + pass + " and " + tok,
			"callerid":           "call " + url.QueryEscape(pass),
			"timezone":           "Europe/Oslo",
			"\x1b[31mnew\x1b[0m": "x",
		}
		var data any = row
		if fn == "mailboxes/list" {
			// Two rows, each within the client's bound on one mailbox:
			// JSON writes each ESC as six bytes.
			half := maps.Clone(row)
			half["description"] = escapes[:len(escapes)/3]
			data = []any{half, half}
		}
		answered++
		_ = json.NewEncoder(w).Encode(map[string]any{"responses": []any{map[string]any{"code": "200", "key": "", "message": "OK"}}, "data": data})
	}))
	t.Cleanup(ts.Close)
	// Megabytes of escapes take a while to decode under -race on a busy
	// machine; the timeout is not what this test is about.
	hc := enswitch.NewHTTPClient(enswitch.HTTPOptions{Timeout: time.Minute, Workers: 8})
	t.Cleanup(hc.CloseIdleConnections)
	c, err := enswitch.New(enswitch.Config{BaseURL: ts.URL, Username: "acme", Password: pass, HTTPClient: hc, Auth: enswitch.AuthToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	m, err := c.Get(ctx, "1001", "100")
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx, "100")
	if err != nil {
		t.Fatal(err)
	}
	if answered != 2 || len(list) != 2 {
		t.Fatalf("hostile server answered %d calls, list has %d rows; want 2 and 2", answered, len(list))
	}
	for i, box := range append([]enswitch.Mailbox{m}, list...) {
		t.Run(fmt.Sprint("mailbox ", i), func(t *testing.T) {
			for _, name := range box.Names() {
				v, _ := box.Column(name)
				for _, s := range []string{name, v.Text} {
					if len(s) > enswitch.MaxValueLen+64 {
						t.Errorf("column %q: %d bytes kept, want at most about %d", firstBytes(name), len(s), enswitch.MaxValueLen)
					}
					for _, r := range s {
						if r < 0x20 || r == 0x7f || r == '\u202e' {
							t.Errorf("column %q holds control character %U: %q", firstBytes(name), r, firstBytes(s))
							break
						}
					}
					for _, secret := range []string{pass, url.QueryEscape(pass), "eyJ"} {
						if strings.Contains(s, secret) {
							t.Errorf("column %q holds a secret (%q): %q", firstBytes(name), secret, firstBytes(s))
						}
					}
				}
			}
			for _, tc := range []struct {
				name, text string
				altered    bool
			}{
				{"mailbox", "1001", false},
				{"customer", "100", false},
				{"timezone", "Europe/Oslo", false},
				{"pager", "echo [REDACTED] and [REDACTED]", true},
				{"callerid", "call [REDACTED]", true},
			} {
				v, ok := box.Column(tc.name)
				if !ok || v.Text != tc.text || v.Altered != tc.altered {
					t.Errorf("%s = %q (altered %v, present %v), want %q (altered %v)", tc.name, v.Text, v.Altered, ok, tc.text, tc.altered)
				}
			}
			d, _ := box.Column("description")
			if !d.Altered || !strings.HasPrefix(d.Text, `\x1b[2J\x1b]0;pwned\a`) || !strings.Contains(d.Text, "more bytes)") {
				t.Errorf("description = %q (altered %v), want the escapes written out, cut with a note", firstBytes(d.Text), d.Altered)
			}
			if _, ok := box.Column(`\x1b[31mnew\x1b[0m`); !ok {
				t.Errorf("the escape-sequence column name is not kept inert: %q", box.Names())
			}
			vals := enswitch.Values(box)
			for _, name := range []string{"description", "pager", "callerid"} {
				if v, ok := vals[name]; ok {
					t.Errorf("Values offers the altered %s as the old value: %q", name, firstBytes(v.Text))
				}
			}
			if vals["mailbox"].Text != "1001" || vals["timezone"].Text != "Europe/Oslo" {
				t.Errorf("Values = %v, want the unaltered mailbox and timezone", vals)
			}
		})
	}
}

func firstBytes(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
