package simulator_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// TestGetListTyping: mailboxes/get and mailboxes/list rows, read by the
// real client, are typed as the vendor documents them (numbers as JSON
// numbers, NULL as null) and carry read-only columns beyond the update
// parameters; the PIN and NULL policies change what they show.
func TestGetListTyping(t *testing.T) {
	type col struct {
		name    string
		present bool
		kind    enswitch.ValueKind
		text    string // checked unless "*"
	}
	setup := []string{"pager", "", "dnumber", "", "description", "", "owner", "5123", "envelope", "1", "pin", "4815162"}
	cases := []struct {
		name string
		cfg  func(*simulator.Config)
		want []col
	}{
		{"defaults", nil, []col{
			{"mailbox", true, enswitch.ValueString, "1001"},
			{"customer", true, enswitch.ValueNumber, "100"},
			{"owner", true, enswitch.ValueNumber, "5123"},
			{"envelope", true, enswitch.ValueNumber, "1"},
			{"description", true, enswitch.ValueString, ""},
			{"pager", true, enswitch.ValueNull, ""},
			{"dnumber", true, enswitch.ValueNull, ""},
			{"pin", true, enswitch.ValueString, "****"},
			{"timezone", true, enswitch.ValueString, "*"},
			{"id", true, enswitch.ValueNumber, "1"},
			{"created", true, enswitch.ValueString, "*"},
		}},
		{"PIN plain", func(c *simulator.Config) { c.PINDisplay = simulator.PINPlain }, []col{
			{"pin", true, enswitch.ValueString, "4815162"},
		}},
		{"PIN absent", func(c *simulator.Config) { c.PINDisplay = simulator.PINAbsent }, []col{
			{"pin", false, enswitch.ValueString, ""},
			{"mailbox", true, enswitch.ValueString, "1001"},
		}},
		{"no NULL columns", func(c *simulator.Config) { c.NullColumns = []string{} }, []col{
			{"pager", true, enswitch.ValueString, ""},
			{"dnumber", true, enswitch.ValueString, ""},
		}},
		{"description as a NULL column", func(c *simulator.Config) { c.NullColumns = []string{"description"} }, []col{
			{"description", true, enswitch.ValueNull, ""},
			{"pager", true, enswitch.ValueString, ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := simulator.Config{Mailboxes: 6}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			_, ts := start(t, cfg)
			c := newClient(t, ts.URL, "acme", demoPasswords["acme"], 0)
			ctx := context.Background()
			if _, err := c.Update(ctx, ps(append([]string{"mailbox", "1001", "customer", "100"}, setup...)...), false); err != nil {
				t.Fatal(err)
			}
			got, err := c.Get(ctx, "1001", "100")
			if err != nil {
				t.Fatal(err)
			}
			list, err := c.List(ctx, "100")
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 3 || list[0].Text("mailbox") != "1001" {
				t.Fatalf("List(100) = %d rows starting %q, want 3 starting 1001", len(list), list[0].Text("mailbox"))
			}
			for _, m := range []struct {
				via string
				m   enswitch.Mailbox
			}{{"get", got}, {"list", list[0]}} {
				for _, w := range tc.want {
					v, present := m.m.Column(w.name)
					switch {
					case present != w.present:
						t.Errorf("%s: %s present = %v, want %v", m.via, w.name, present, w.present)
					case present && v.Kind != w.kind:
						t.Errorf("%s: %s is a %v (%q), want a %v", m.via, w.name, v.Kind, v.Text, w.kind)
					case present && w.text != "*" && v.Text != w.text:
						t.Errorf("%s: %s = %q, want %q", m.via, w.name, v.Text, w.text)
					}
				}
			}
			if g, l := got.Names(), list[0].Names(); strings.Join(g, ",") != strings.Join(l, ",") {
				t.Errorf("get columns %v, list columns %v: want the same", g, l)
			}
		})
	}
}

// TestGetWire: the bytes on the wire, as a client other than ours sees
// them.
func TestGetWire(t *testing.T) {
	_, ts := start(t, simulator.Config{Mailboxes: 4})
	body := rawCall(t, ts.URL, viaGetAmp, "mailboxes/get", "admin", demoPasswords["admin"], ps("mailbox", "1002", "customer", "101"))
	for _, re := range []string{
		`"data":\{"id":2,"mailbox":"1002","customer":101,`,
		`"envelope":[01],`,
		`"pin":"\*\*\*\*"`,
		`"created":"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"\}`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("body does not match %s:\n%s", re, body)
		}
	}
}

// TestPolicyRejected: a policy that makes no sense stops New.
func TestPolicyRejected(t *testing.T) {
	cases := map[string]simulator.Config{
		"version 2.9":               {VersionCompat: "2.9"},
		"version 5.0":               {VersionCompat: "5.0"},
		"version text":              {VersionCompat: "latest"},
		"PIN display":               {PINDisplay: "hashed"},
		"PIN digits reversed":       {PINMinDigits: 8, PINMaxDigits: 4},
		"email check":               {EmailCheck: "mx"},
		"time zones":                {Timezones: "posix"},
		"check order without 401":   {CheckOrder: []string{"402", "403", "400", "404"}},
		"check order 401 not first": {CheckOrder: []string{"402", "401", "403", "400", "404"}},
		"check order repeats":       {CheckOrder: []string{"401", "402", "402", "400", "404"}},
		"null mailbox":              {NullColumns: []string{"mailbox"}},
		"null unknown column":       {NullColumns: []string{"fax"}},
		"forbid unknown customer":   {ForbidCustomers: []int{77}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			cfg.Mailboxes = 2
			if _, err := simulator.New(cfg); err == nil {
				t.Errorf("New accepted %+v", cfg)
			}
		})
	}
	if _, err := simulator.ParseCheckOrder("401,404,400,403,402"); err != nil {
		t.Errorf("ParseCheckOrder of a permutation: %v", err)
	}
	if lo, hi, err := simulator.ParsePINDigits("6-8"); lo != 6 || hi != 8 || err != nil {
		t.Errorf("ParsePINDigits(6-8) = %d, %d, %v", lo, hi, err)
	}
}
