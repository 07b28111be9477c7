package enswitch

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

func TestDecodeEnvelope(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		want     []Entry
		wantData string
		wantErr  string
	}{
		{name: "string code", body: `{"responses":[{"code":"204","key":"","message":"OK"}]}`,
			want: []Entry{{"204", "", "OK"}}},
		{name: "numeric code", body: `{"responses":[{"code":204,"key":"","message":"OK"}]}`,
			want: []Entry{{"204", "", "OK"}}},
		{name: "numeric code written as a float", body: `{"responses":[{"code":204.0,"key":"","message":"OK"}]}`,
			want: []Entry{{"204", "", "OK"}}},
		{name: "numeric code in exponent form", body: `{"responses":[{"code":2.01e2}]}`,
			want: []Entry{{"201", "", ""}}},
		{name: "code with spaces", body: `{"responses":[{"code":" 400 ","key":"pin","message":"bad"}]}`,
			want: []Entry{{"400", "pin", "bad"}}},
		{name: "object responses", body: `{"responses":{"code":"201","key":"","message":"valid"}}`,
			want: []Entry{{"201", "", "valid"}}},
		{name: "several entries kept in order", body: `{"responses":[{"code":"400","key":"pin","message":"a"},{"code":"400","key":"play","message":"b"}]}`,
			want: []Entry{{"400", "pin", "a"}, {"400", "play", "b"}}},
		{name: "key as number, message null", body: `{"responses":[{"code":"400","key":7,"message":null}]}`,
			want: []Entry{{"400", "7", ""}}},
		{name: "missing key and message", body: `{"responses":[{"code":"204"}]}`,
			want: []Entry{{"204", "", ""}}},
		{name: "data kept raw", body: `{"responses":[{"code":"200"}],"data":{"mailbox":"1001"}}`,
			want: []Entry{{"200", "", ""}}, wantData: `{"mailbox":"1001"}`},
		{name: "unknown top-level fields ignored", body: `{"version":3,"responses":[{"code":"204"}]}`,
			want: []Entry{{"204", "", ""}}},
		{name: "truncated JSON", body: `{"responses":[{"code":"204","key":"","mes`, wantErr: "decode envelope"},
		{name: "truncated after the array", body: `{"responses":[{"code":"204"}]`, wantErr: "decode envelope"},
		{name: "HTML", body: `<html><body>Bad Gateway</body></html>`, wantErr: "decode envelope"},
		{name: "empty body", body: ``, wantErr: "decode envelope"},
		{name: "JSON array, not an object", body: `[{"code":"204"}]`, wantErr: "decode envelope"},
		{name: "no responses", body: `{"data":{}}`, wantErr: "no responses"},
		{name: "null responses", body: `{"responses":null}`, wantErr: "no responses"},
		{name: "empty responses", body: `{"responses":[]}`, wantErr: "empty responses"},
		{name: "responses a string", body: `{"responses":"204"}`, wantErr: "neither an array nor an object"},
		{name: "entry without code", body: `{"responses":[{"key":"","message":"OK"}]}`, wantErr: "without a code"},
		{name: "null code", body: `{"responses":[{"code":null}]}`, wantErr: "without a code"},
		{name: "boolean code", body: `{"responses":[{"code":true}]}`, wantErr: "neither string nor number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := DecodeEnvelope([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("DecodeEnvelope(%s) error = %v, want one containing %q", tc.body, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeEnvelope(%s): %v", tc.body, err)
			}
			if !reflect.DeepEqual(env.Responses, tc.want) {
				t.Errorf("responses = %+v, want %+v", env.Responses, tc.want)
			}
			if string(env.Data) != tc.wantData {
				t.Errorf("data = %s, want %s", env.Data, tc.wantData)
			}
		})
	}
}

func TestEnvelopeErr(t *testing.T) {
	cases := []struct {
		name      string
		entries   []Entry
		wantKind  batch.Kind // KindOther: no error
		wantCode  string
		wantMsg   string
		throttled bool
	}{
		{name: "204", entries: []Entry{{"204", "", "OK"}}},
		{name: "201", entries: []Entry{{"201", "", "valid"}}},
		{name: "200", entries: []Entry{{"200", "", "OK"}}},
		{name: "400 keeps key and message", entries: []Entry{{"400", "pin", "too short"}}, wantKind: batch.KindInvalid, wantCode: "400", wantMsg: "too short"},
		{name: "401", entries: []Entry{{"401", "", "denied"}}, wantKind: batch.KindUnauthorized, wantCode: "401"},
		{name: "402", entries: []Entry{{"402", "", "role"}}, wantKind: batch.KindForbidden, wantCode: "402"},
		{name: "403", entries: []Entry{{"403", "", "plan"}}, wantKind: batch.KindForbidden, wantCode: "403"},
		{name: "404", entries: []Entry{{"404", "mailbox", "gone"}}, wantKind: batch.KindNotFound, wantCode: "404"},
		{name: "unknown code is transient", entries: []Entry{{"500", "", "oops"}}, wantKind: batch.KindTransient, wantCode: "500"},
		{name: "429 in the body throttles", entries: []Entry{{"429", "", "slow down"}}, wantKind: batch.KindTransient, wantCode: "429", throttled: true},
		{name: "worst kind wins, every message kept", entries: []Entry{{"404", "mailbox", "gone"}, {"400", "pin", "short"}, {"400", "play", "bad"}},
			wantKind: batch.KindInvalid, wantCode: "400", wantMsg: "404 mailbox: gone; 400 pin: short; 400 play: bad"},
		{name: "a success beside a failure is a failure", entries: []Entry{{"204", "", "OK"}, {"401", "", "no"}}, wantKind: batch.KindUnauthorized, wantCode: "401"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Envelope{Responses: tc.entries}).Err()
			if tc.wantKind == batch.KindOther {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			var be *batch.Error
			if !errors.As(err, &be) {
				t.Fatalf("Err() = %v, want a *batch.Error", err)
			}
			if be.Kind != tc.wantKind || be.Code != tc.wantCode || be.Throttle != tc.throttled {
				t.Errorf("Err() = kind %v code %s throttle %v, want %v %s %v", be.Kind, be.Code, be.Throttle, tc.wantKind, tc.wantCode, tc.throttled)
			}
			if tc.wantMsg != "" && be.Message != tc.wantMsg {
				t.Errorf("message = %q, want %q", be.Message, tc.wantMsg)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second},
		{"Sat, 01 Mar 2025 11:59:00 GMT", 0}, // in the past
	}
	for _, tc := range cases {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	const pw = `canary PW&"7f3a9<é>`
	forms := []string{
		pw,
		`canary+PW%26%227f3a9%3C%C3%A9%3E`,    // form-encoded
		`canary%20PW&%227f3a9%3C%C3%A9%3E`,    // path-encoded
		`canary PW&amp;&#34;7f3a9&lt;é&gt;`,   // HTML-escaped
		`canary PW\u0026\"7f3a9\u003cé\u003e`, // JSON, Go's HTML-safe escaping
		`canary PW&\"7f3a9<é>`,                // JSON, plain escaping
	}
	for _, f := range forms {
		got := redact("before "+f+" after", pw)
		if got != "before [REDACTED] after" {
			t.Errorf("redact(%q) = %q", f, got)
		}
	}
	if got := redact("nothing here", ""); got != "nothing here" {
		t.Errorf("redact with no password = %q", got)
	}
}

func TestSnippet(t *testing.T) {
	cases := []struct{ name, body, pw, want string }{
		{"empty", "", "", "(empty body)"},
		{"whitespace folded", "<h1>Bad\n\n  Gateway</h1>", "", `"<h1>Bad Gateway</h1>"`},
		{"long cut", strings.Repeat("x", 200), "", `"` + strings.Repeat("x", 120) + `..."`},
		{"password removed before the cut", strings.Repeat("x", 115) + "secret-pass", "secret-pass", `"` + strings.Repeat("x", 115) + `[REDA..."`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := snippet([]byte(tc.body), tc.pw); got != tc.want {
				t.Errorf("snippet = %s, want %s", got, tc.want)
			}
		})
	}
}
