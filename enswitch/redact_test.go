package enswitch

import (
	"strings"
	"testing"
)

func TestRedactAnyEncoding(t *testing.T) {
	const pw = `a/b c&d"é`
	forms := map[string]string{
		"plain":                      pw,
		"form, '/' left unescaped":   `a/b+c%26d%22%C3%A9`,
		"percent, lower-case hex":    `a%2fb%20c%26d%22%c3%a9`,
		"every byte percent-encoded": `%61%2F%62%20%63%26%64%22%C3%A9`,
		"HTML numeric entities":      `a&#47;b c&#x26;d&#34;&#233;`,
		"HTML named entities":        `a/b c&amp;d&quot;é`,
		"JSON \\u escapes":           `a\/b c\u0026d\"\u00e9`,
	}
	for name, f := range forms {
		t.Run(name, func(t *testing.T) {
			if got := redact("x="+f+";", pw); got != "x=[REDACTED];" {
				t.Errorf("redact(%q) = %q", f, got)
			}
		})
	}
}

func TestRedactPINInEcho(t *testing.T) {
	sec := &secrets{fields: []string{"90000000"}}
	for _, in := range []string{
		"bad request: auth_token=x&mailbox=1001&pin=90000000&validation=1",
		"pin=%39%30%30%30%30%30%30%30",
		`{"pin":"\u0039\u0030000000"}`,
	} {
		if got := sec.redact(in); strings.Contains(got, "90000000") || !strings.Contains(got, redacted) {
			t.Errorf("redact(%q) = %q", in, got)
		}
	}
	if got := sec.redact("OK"); got != "OK" {
		t.Errorf("redact(OK) = %q", got)
	}
}

// TestRedactEverySecretField: a row's secrets are each redacted, so a
// second secret field in the schema is hidden as the PIN is.
func TestRedactEverySecretField(t *testing.T) {
	sec := &secrets{fields: []string{"90000000", "71111117"}}
	in := "bad request: pin=90000000&other=71111117"
	got := sec.redact(in)
	if strings.Contains(got, "90000000") || strings.Contains(got, "71111117") {
		t.Errorf("redact(%q) = %q, want both values redacted", in, got)
	}
}

func TestInert(t *testing.T) {
	cases := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"plain kept", "Mailbox 1001 not found", 100, "Mailbox 1001 not found"},
		{"ESC and BEL escaped", "\x1b[31mred\a", 100, `\x1b[31mred\a`},
		{"newline cannot forge a log line", "ok\nlevel=error fake", 100, `ok\nlevel=error fake`},
		{"C1 and bidi override escaped", "a\u009bb\u202ec", 100, `a\u009bb\u202ec`},
		{"invalid UTF-8 shown as bytes", "a\xffb", 100, `a\xffb`},
		{"cut with a note", strings.Repeat("k", 2<<20), 128, strings.Repeat("k", 128) + "...(2097024 more bytes)"},
		{"cut never splits an escape", strings.Repeat("k", 126) + "\x1b", 128, strings.Repeat("k", 126) + "...(1 more bytes)"},
		{"unicode kept", "Boîte vocale", 100, "Boîte vocale"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Inert(tc.in, tc.limit); got != tc.want {
				t.Errorf("Inert = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"https://admin:s3cret@switch.example.com/base": "https://switch.example.com/base",
		"http://admin:s3cret@host/%zz":                 "http://host/%zz",
		"https://host/?auth_password=s3cret#x":         "https://host/",
		"admin:s3cret@host":                            "host",
		"https://u:p%ZZ@host\x1b]0;title\a/":           "https://host\\x1b]0;title\\a/",
		"https://switch.example.com":                   "https://switch.example.com",
	}
	for in, want := range cases {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanSecretAcrossTheCut(t *testing.T) {
	sec := &secrets{fields: []string{"90000000"}}
	for _, pad := range []int{0, 1, 60, 125, 127, 128, 129, 200} {
		in := strings.Repeat("a", pad) + "%39%30%30%30%30%30%30%30" + strings.Repeat("b", 1<<20)
		got := sec.clean(in, 128)
		if strings.Contains(got, "%39%30") || strings.Contains(got, "9000") || len(got) > 128+40 {
			t.Errorf("pad %d: clean = %q", pad, got)
		}
	}
}
