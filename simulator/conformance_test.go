package simulator_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// Transports of a conformance case.
const (
	viaClient   = ""             // enswitch.Client.Call: POST form to .../function/
	viaGetSemi  = "get;"         // GET, query pairs separated by ;
	viaGetAmp   = "get&"         // GET, query pairs separated by &
	viaPostBare = "post-noslash" // POST form without the trailing slash
)

// confMailboxes is the size of the generated world of each case: 1001 to
// 1020, odd numbers (1001, 1003, ...) for customer 100, even for 101.
const confMailboxes = 20

type wantEntry struct{ code, key string }

type confCase struct {
	name   string
	cfg    func(*simulator.Config)
	user   string // default admin
	pass   string // default the user's demo password
	fn     string // default mailboxes/update
	via    string
	params []batch.Param
	want   []wantEntry
	// rawWant is a substring of the raw body (raw transports only).
	rawWant string
	check   func(t *testing.T, sim *simulator.Server, env *enswitch.Envelope)
}

// extraWorld is the demo world plus a customer outside Acme's tree:
// customer 20 "Other Reseller" (parent 1) with mailbox 5001.
func extraWorld(c *simulator.Config) {
	st := simulator.Generate(10, 1)
	st.Customers = append(st.Customers, simulator.Customer{ID: 20, Name: "Other Reseller", Parent: 1})
	st.Mailboxes = append(st.Mailboxes, simulator.Mailbox{"mailbox": "5001", "customer": "20", "pin": "4321"})
	c.State = st
}

func field(t *testing.T, sim *simulator.Server, cust int, mb, name string) string {
	t.Helper()
	m, ok := sim.Mailbox(cust, mb)
	if !ok {
		t.Fatalf("mailbox %d/%s missing", cust, mb)
	}
	return m[name]
}

func forbid(ids ...int) func(*simulator.Config) {
	return func(c *simulator.Config) { c.ForbidCustomers = ids }
}

func order(s string) func(*simulator.Config) {
	return func(c *simulator.Config) {
		o, err := simulator.ParseCheckOrder(s)
		if err != nil {
			panic(err)
		}
		c.CheckOrder = o
	}
}

func pinDigits(lo, hi int) func(*simulator.Config) {
	return func(c *simulator.Config) { c.PINMinDigits, c.PINMaxDigits = lo, hi }
}

func wantMessage(want string) func(*testing.T, *simulator.Server, *enswitch.Envelope) {
	return func(t *testing.T, _ *simulator.Server, env *enswitch.Envelope) {
		t.Helper()
		if got := env.Responses[0].Message; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	}
}

func wantField(cust int, mb, name, want string) func(*testing.T, *simulator.Server, *enswitch.Envelope) {
	return func(t *testing.T, sim *simulator.Server, _ *enswitch.Envelope) {
		t.Helper()
		if got := field(t, sim, cust, mb, name); got != want {
			t.Errorf("after the call %d/%s %s = %q, want %q", cust, mb, name, got, want)
		}
	}
}

func TestConformance(t *testing.T) {
	upd := func(kv ...string) []batch.Param {
		return ps(append([]string{"mailbox", "1001", "customer", "100"}, kv...)...)
	}
	ok204 := []wantEntry{{"204", ""}}
	bad := func(key string) []wantEntry { return []wantEntry{{"400", key}} }

	cases := []confCase{
		// Success, over every transport and envelope flavour.
		{name: "apply/204", params: upd("description", "Reception desk"), want: ok204,
			check: wantField(100, "1001", "description", "Reception desk")},
		{name: "validate/201 changes nothing", params: upd("description", "Not applied", "validation", "1"),
			want: []wantEntry{{"201", ""}}},
		{name: "validation=0 applies", params: upd("description", "Zero", "validation", "0"), want: ok204,
			check: wantField(100, "1001", "description", "Zero")},
		{name: "GET with ; separators", via: viaGetSemi, params: upd("description", "Semi colon"), want: ok204,
			check: wantField(100, "1001", "description", "Semi colon")},
		{name: "GET with & separators", via: viaGetAmp, params: upd("callerid", "+4420 7946 0000"), want: ok204,
			check: wantField(100, "1001", "callerid", "+4420 7946 0000")},
		{name: "POST without trailing slash", via: viaPostBare, params: upd("play", "newest"), want: ok204,
			check: wantField(100, "1001", "play", "newest")},
		{name: "string codes on the wire", via: viaGetAmp, params: upd("envelope", "1"), want: ok204,
			rawWant: `"responses":[{"code":"204","key":"","message":"OK"}]`},
		{name: "numeric codes on the wire", via: viaGetAmp, cfg: func(c *simulator.Config) { c.NumericCodes = true },
			params: upd("envelope", "1"), want: ok204, rawWant: `"code":204`},
		{name: "numeric codes decoded by the client", cfg: func(c *simulator.Config) { c.NumericCodes = true },
			params: upd("envelope", "0"), want: ok204},
		{name: "object responses on the wire", via: viaGetAmp, cfg: func(c *simulator.Config) { c.ObjectResponses = true },
			params: upd("saycid", "1"), want: ok204, rawWant: `"responses":{"code":"204"`},
		{name: "object responses and numeric codes decoded by the client", cfg: func(c *simulator.Config) { c.ObjectResponses, c.NumericCodes = true, true },
			params: upd("saycid", "yes"), want: bad("saycid")},
		{name: "object responses stay an array with several entries", via: viaGetAmp, cfg: func(c *simulator.Config) { c.ObjectResponses = true },
			params: upd("saycid", "yes", "panel", "no"), want: []wantEntry{{"400", "panel"}, {"400", "saycid"}}, rawWant: `"responses":[`},

		// 401 comes first.
		{name: "401 wrong password", pass: "wrong", params: upd(), want: []wantEntry{{"401", ""}}},
		{name: "401 unknown user", user: "mallory", pass: "x", params: upd(), want: []wantEntry{{"401", ""}}},
		{name: "401 no credentials", via: viaGetAmp, user: "-", params: upd(), want: []wantEntry{{"401", ""}}},
		{name: "401 before 400: bad password and bad field", pass: "wrong", params: upd("envelope", "yes", "bogus", "1"), want: []wantEntry{{"401", ""}}},
		{name: "401 on get", fn: "mailboxes/get", pass: "wrong", params: upd(), want: []wantEntry{{"401", ""}}},

		// 402: readonly may read, not write.
		{name: "402 readonly update", user: "auditor", params: upd("description", "x"), want: []wantEntry{{"402", ""}}},
		{name: "402 readonly validation", user: "auditor", params: upd("description", "x", "validation", "1"), want: []wantEntry{{"402", ""}}},
		{name: "402 before 403 and 400", user: "auditor", params: ps("mailbox", "9001", "customer", "102", "envelope", "yes"), want: []wantEntry{{"402", ""}}},
		{name: "readonly get allowed", user: "auditor", fn: "mailboxes/get", params: ps("mailbox", "1002", "customer", "101"), want: []wantEntry{{"200", ""}}},
		{name: "readonly list allowed", user: "auditor", fn: "mailboxes/list", params: ps("customer", "102"), want: []wantEntry{{"200", ""}},
			check: func(t *testing.T, _ *simulator.Server, env *enswitch.Envelope) {
				rows, err := enswitch.DecodeMailboxes(env.Data)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range rows {
					got = append(got, r.Text("mailbox"))
				}
				if want := []string{"9001", "9002", "9003"}; !reflect.DeepEqual(got, want) {
					t.Errorf("list 102 = %v, want %v", got, want)
				}
			}},

		// 403: the rate plan of customer 102.
		{name: "403 rate plan", params: ps("mailbox", "9001", "customer", "102", "description", "x"), want: []wantEntry{{"403", ""}}},
		{name: "403 on validation too", params: ps("mailbox", "9002", "customer", "102", "validation", "1"), want: []wantEntry{{"403", ""}}},
		{name: "403 before 400", user: "acme", params: ps("mailbox", "9003", "customer", "102", "pin", "975"), want: []wantEntry{{"403", ""}}},
		{name: "403 the user's own rate plan, on every customer it reaches", user: "acme", cfg: forbid(simulator.CustomerAcme),
			params: upd("description", "x"), want: []wantEntry{{"403", ""}}, check: wantMessage("Your rate plan (reseller, customer 10) does not allow mailbox updates")},
		{name: "403 per customer: another customer is fine", cfg: forbid(simulator.CustomerHotels),
			params: upd("description", "by admin"), want: ok204},
		{name: "403 per customer: that customer refuses", cfg: forbid(simulator.CustomerHotels),
			params: ps("mailbox", "1002", "customer", "101", "description", "x"), want: []wantEntry{{"403", ""}}},
		{name: "403 plans of parents do not pass down", cfg: forbid(simulator.CustomerAcme),
			params: upd("description", "by admin"), want: ok204},
		{name: "403 check order: 400 first when configured", user: "acme", cfg: order("401,402,400,403,404"),
			params: ps("mailbox", "9003", "customer", "102", "pin", "975"), want: bad("pin")},
		{name: "404 check order: 404 before 400 when configured", cfg: order("401,402,403,404,400"),
			params: ps("mailbox", "7777", "customer", "100", "envelope", "yes"), want: []wantEntry{{"404", "mailbox"}}},
		{name: "403 plan allows get", fn: "mailboxes/get", params: ps("mailbox", "9001", "customer", "102"), want: []wantEntry{{"200", ""}}},

		// 400: one per rule, key = parameter name.
		{name: "400 mailbox missing", params: ps("customer", "100", "description", "x"), want: bad("mailbox")},
		{name: "400 mailbox empty", params: ps("mailbox", "", "customer", "100"), want: bad("mailbox")},
		{name: "400 0/1 field", params: upd("envelope", "yes"), want: bad("envelope")},
		{name: "400 0/1 field with space", params: upd("temporary_active", " 1"), want: bad("temporary_active")},
		{name: "400 integer leading zero", params: upd("owner", "010"), want: bad("owner")},
		{name: "400 integer sign", params: upd("owner", "+5"), want: bad("owner")},
		{name: "400 customer not an integer", params: ps("mailbox", "1001", "customer", "abc"), want: bad("customer")},
		{name: "400 notify_email", params: upd("notify_email", "always"), want: bad("notify_email")},
		{name: "400 notify_for newer value on a 3.13 server", cfg: func(c *simulator.Config) { c.VersionCompat = "3.13" },
			params: upd("notify_for", "all"), want: bad("notify_for"),
			check: func(t *testing.T, _ *simulator.Server, env *enswitch.Envelope) {
				if m := env.Responses[0].Message; !strings.Contains(m, "newer") {
					t.Errorf("message = %q, want it to say newer servers take it", m)
				}
			}},
		{name: "204 notify_for text on a 4.4 server (the default)",
			params: upd("notify_for", "text"), want: ok204, check: wantField(100, "1001", "notify_for", "text")},
		{name: "400 notify_ltype", params: upd("notify_ltype", ""), want: bad("notify_ltype")},
		{name: "400 notify_message", params: upd("notify_message", "everyone"), want: bad("notify_message")},
		{name: "400 play", params: upd("play", "random"), want: bad("play")},
		{name: "400 dtype not in the list", params: upd("dtype", "fax"), want: bad("dtype")},
		{name: "204 dtype from a configured list", cfg: func(c *simulator.Config) { c.DTypes = []string{"", "fax"} },
			params: upd("dtype", "fax"), want: ok204, check: wantField(100, "1001", "dtype", "fax")},
		{name: "204 dtype hangup (documented default)", params: upd("dtype", "hangup"), want: ok204, check: wantField(100, "1001", "dtype", "hangup")},
		{name: "204 dtype forward", params: upd("dtype", "forward", "dnumber", "2001"), want: ok204},
		{name: "204 dtype peer", params: upd("dtype", "peer"), want: ok204},
		{name: "204 dtype phone", params: upd("dtype", "phone"), want: ok204},
		{name: "204 dtype sipuri", params: upd("dtype", "sipuri", "dnumber", "sip:desk@example.com"), want: ok204},
		{name: "204 notify_for all on 4.2", cfg: func(c *simulator.Config) { c.VersionCompat = "4.2" }, params: upd("notify_for", "all"), want: ok204},
		{name: "400 notify_for text on 4.1", cfg: func(c *simulator.Config) { c.VersionCompat = "4.1" }, params: upd("notify_for", "text"), want: bad("notify_for")},
		{name: "400 pin of 5 digits under --pin-digits 6-8", cfg: pinDigits(6, 8), params: upd("pin", "12345"), want: bad("pin")},
		{name: "204 pin of 8 digits under --pin-digits 6-8", cfg: pinDigits(6, 8), params: upd("pin", "12345678"), want: ok204},
		{name: "204 pager any text under --email-check any", cfg: func(c *simulator.Config) { c.EmailCheck = simulator.EmailAny },
			params: upd("pager", "not-an-email"), want: ok204},
		{name: "204 timezone any text under --timezones any", cfg: func(c *simulator.Config) { c.Timezones = simulator.TimezonesAny },
			params: upd("timezone", "Mars/Base"), want: ok204},
		{name: "400 pin too short", params: upd("pin", "975"), want: bad("pin")},
		{name: "400 pin not digits", params: upd("pin", "12ab9"), want: bad("pin")},
		{name: "400 pin too long", params: upd("pin", "12345678901"), want: bad("pin")},
		{name: "204 pin set", params: upd("pin", "90210"), want: ok204, check: wantField(100, "1001", "pin", "90210")},
		{name: "204 empty pin keeps the PIN", params: upd("pin", "", "description", "kept pin"), want: ok204,
			check: func(t *testing.T, sim *simulator.Server, _ *enswitch.Envelope) {
				want := simulator.Generate(confMailboxes, 0).Mailboxes[0]["pin"]
				if got := field(t, sim, 100, "1001", "pin"); got != want || want == "" {
					t.Errorf("pin = %q, want the generated %q", got, want)
				}
			}},
		{name: "400 pager not an email", params: upd("pager", "not-an-email"), want: bad("pager")},
		{name: "400 pager with a display name", params: upd("pager", "Ops <ops@example.com>"), want: bad("pager")},
		{name: "204 pager cleared", params: upd("pager", ""), want: ok204, check: wantField(100, "1001", "pager", "")},
		{name: "400 timezone unknown", params: upd("timezone", "Europe/Londn"), want: bad("timezone")},
		{name: "400 timezone Local", params: upd("timezone", "Local"), want: bad("timezone")},
		{name: "204 timezone empty", params: upd("timezone", ""), want: ok204, check: wantField(100, "1001", "timezone", "")},
		{name: "204 timezone IANA", params: upd("timezone", "Pacific/Auckland"), want: ok204, check: wantField(100, "1001", "timezone", "Pacific/Auckland")},
		{name: "400 invalid UTF-8", params: upd("description", "caf\xe9"), want: bad("description")},
		{name: "400 control characters", params: upd("callerid", "a\nb"), want: bad("callerid")},
		{name: "400 too long", params: upd("description", strings.Repeat("x", 256)), want: bad("description")},
		{name: "400 unknown parameter", params: upd("PIN", "1234"), want: bad("PIN"),
			check: func(t *testing.T, _ *simulator.Server, env *enswitch.Envelope) {
				if m := env.Responses[0].Message; !strings.Contains(m, "pin") {
					t.Errorf("message = %q, want a suggestion of pin", m)
				}
			}},
		{name: "400 parameter sent twice", params: upd("description", "a", "description", "b"), want: bad("description")},
		{name: "400 validation not 0/1", params: upd("validation", "2"), want: bad("validation")},
		{name: "400 every problem surfaced", via: viaGetSemi, params: upd("bogus", "1", "envelope", "yes", "play", "x", "pin", "975"),
			want: []wantEntry{{"400", "bogus"}, {"400", "envelope"}, {"400", "pin"}, {"400", "play"}}},
		{name: "400 every problem surfaced by the client", params: upd("owner", "x", "timezone", "Nowhere"),
			want: []wantEntry{{"400", "owner"}, {"400", "timezone"}}},
		{name: "400 before 404", params: ps("mailbox", "7777", "customer", "100", "envelope", "yes"), want: bad("envelope")},
		{name: "400 mailbox parameter on list", fn: "mailboxes/list", params: ps("mailbox", "1001"), want: bad("mailbox")},
		{name: "400 get without mailbox", fn: "mailboxes/get", params: ps("customer", "100"), want: bad("mailbox")},

		// 404 and the customer hierarchy.
		{name: "404 mailbox missing", params: ps("mailbox", "7777", "customer", "100"), want: []wantEntry{{"404", "mailbox"}}},
		{name: "404 customer missing", params: ps("mailbox", "1001", "customer", "999"), want: []wantEntry{{"404", "customer"}}},
		{name: "404 default customer is the user's", params: ps("mailbox", "1001"), want: []wantEntry{{"404", "mailbox"}}},
		{name: "reseller on a descendant", user: "acme", params: upd("description", "by acme"), want: ok204,
			check: wantField(100, "1001", "description", "by acme")},
		{name: "reseller on a non-descendant", user: "acme", cfg: extraWorld, params: ps("mailbox", "5001", "customer", "20", "description", "x"),
			want: []wantEntry{{"404", "customer"}}},
		{name: "administrator above both", cfg: extraWorld, params: ps("mailbox", "5001", "customer", "20", "description", "by admin"),
			want: ok204, check: wantField(20, "5001", "description", "by admin")},
		{name: "user on its own customer by default", user: "northwind", params: ps("mailbox", "1003", "notify_only", "1"), want: ok204,
			check: wantField(100, "1003", "notify_only", "1")},
		{name: "user on a sibling customer", user: "northwind", params: ps("mailbox", "1002", "customer", "101", "notify_only", "1"),
			want: []wantEntry{{"404", "customer"}}},
		{name: "residential on its own customer", user: "frontdesk", params: ps("mailbox", "1002", "panel", "1"), want: ok204,
			check: wantField(101, "1002", "panel", "1")},
		{name: "residential mailbox of another customer", user: "frontdesk", params: ps("mailbox", "1001"), want: []wantEntry{{"404", "mailbox"}}},

		// get and list.
		{name: "get", fn: "mailboxes/get", via: viaGetSemi, params: ps("mailbox", "1001", "customer", "100"), want: []wantEntry{{"200", ""}},
			check: func(t *testing.T, _ *simulator.Server, env *enswitch.Envelope) {
				m, err := enswitch.DecodeMailbox(env.Data)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range schema.Names() {
					if _, ok, _ := m.Value(f); !ok {
						t.Errorf("get data lacks %s", f)
					}
				}
				if m.Text("mailbox") != "1001" || m.Text("customer") != "100" || m.Text("pin") != "****" {
					t.Errorf("get data mailbox=%q customer=%q pin=%q, want 1001, 100, ****", m.Text("mailbox"), m.Text("customer"), m.Text("pin"))
				}
			}},
		{name: "get 404", fn: "mailboxes/get", params: ps("mailbox", "1002", "customer", "100"), want: []wantEntry{{"404", "mailbox"}}},
		{name: "list", fn: "mailboxes/list", user: "northwind", params: nil, want: []wantEntry{{"200", ""}},
			check: func(t *testing.T, _ *simulator.Server, env *enswitch.Envelope) {
				rows, err := enswitch.DecodeMailboxes(env.Data)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != confMailboxes/2 || rows[0].Text("mailbox") != "1001" || rows[len(rows)-1].Text("mailbox") != "1019" {
					t.Errorf("list: %d rows, want %d from 1001 to 1019", len(rows), confMailboxes/2)
				}
			}},
		{name: "list of a customer not visible", fn: "mailboxes/list", user: "northwind", params: ps("customer", "101"), want: bad("customer"),
			check: wantMessage("Invalid customer specified.")},
		{name: "list of a customer that does not exist", fn: "mailboxes/list", params: ps("customer", "999"), want: bad("customer"),
			check: wantMessage("Invalid customer specified.")},
		{name: "list of a customer that is no number", fn: "mailboxes/list", params: ps("customer", "acme"), want: bad("customer"),
			check: wantMessage("Invalid customer specified.")},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d conformance cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := simulator.Config{Mailboxes: confMailboxes}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			sim, ts := start(t, cfg)
			user, pass, fn := tc.user, tc.pass, tc.fn
			if user == "" {
				user = "admin"
			}
			if pass == "" {
				pass = demoPasswords[user]
			}
			if fn == "" {
				fn = "mailboxes/update"
			}
			before := sim.State()

			var env *enswitch.Envelope
			if tc.via == viaClient {
				c := newClient(t, ts.URL, user, pass, 0)
				var err error
				env, err = c.Call(context.Background(), fn, tc.params)
				if env == nil {
					t.Fatalf("Call: no envelope, err %v", err)
				}
				wantKind, known := vendorKinds[tc.want[0].code]
				if !known {
					t.Fatalf("code %s is not in vendorKinds", tc.want[0].code)
				}
				if got := batch.KindOf(err); got != wantKind || (err == nil) != (wantKind == batch.KindOther) {
					t.Errorf("Call error = %v (kind %v), want kind %v", err, got, wantKind)
				}
			} else {
				body := rawCall(t, ts.URL, tc.via, fn, user, pass, tc.params)
				if tc.rawWant != "" && !strings.Contains(body, tc.rawWant) {
					t.Errorf("raw body %s\nwant it to contain %s", body, tc.rawWant)
				}
				var err error
				if env, err = enswitch.DecodeEnvelope([]byte(body)); err != nil {
					t.Fatalf("DecodeEnvelope(%s): %v", body, err)
				}
			}

			var got []wantEntry
			for _, e := range env.Responses {
				got = append(got, wantEntry{e.Code, e.Key})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("responses = %v, want %v (%+v)", got, tc.want, env.Responses)
			}
			for _, e := range env.Responses {
				for _, p := range tc.params {
					if p.Name == "pin" && len(p.Value) >= 3 && strings.Contains(e.Message, p.Value) {
						t.Errorf("message %q echoes the PIN", e.Message)
					}
				}
			}
			if tc.want[0].code != "204" {
				if after := sim.State(); !reflect.DeepEqual(before, after) {
					t.Errorf("state changed on a %s answer", tc.want[0].code)
				}
				if n := len(sim.Audit()); n != 0 {
					t.Errorf("audit has %d entries after a %s answer, want 0", n, tc.want[0].code)
				}
			} else if n := len(sim.Audit()); n != 1 {
				t.Errorf("audit has %d entries after a 204, want 1", n)
			}
			if tc.check != nil {
				tc.check(t, sim, env)
			}
		})
	}
}

// vendorKinds is the vendor's table of response codes, written out here
// as literals and not taken from package enswitch: what the client makes
// of each code the simulator answers is checked against the vendor's
// numbers, so a code wrong in either table fails (KindOther: success).
var vendorKinds = map[string]batch.Kind{
	"200": batch.KindOther,
	"201": batch.KindOther,
	"204": batch.KindOther,
	"400": batch.KindInvalid,
	"401": batch.KindUnauthorized,
	"402": batch.KindForbidden,
	"403": batch.KindForbidden,
	"404": batch.KindNotFound,
}

// rawCall sends one call without the client, as curl or an older tool
// would, and returns the body of the HTTP 200 answer. user "-" sends no
// credentials.
func rawCall(t *testing.T, base, via, fn, user, pass string, params []batch.Param) string {
	t.Helper()
	var pairs []string
	if user != "-" {
		pairs = append(pairs, "auth_username="+url.QueryEscape(user), "auth_password="+url.QueryEscape(pass))
	}
	for _, p := range params {
		pairs = append(pairs, url.QueryEscape(p.Name)+"="+url.QueryEscape(p.Value))
	}
	var resp *http.Response
	var err error
	switch via {
	case viaGetSemi:
		resp, err = http.Get(base + "/api/json/" + fn + "/?" + strings.Join(pairs, ";"))
	case viaGetAmp:
		resp, err = http.Get(base + "/api/json/" + fn + "?" + strings.Join(pairs, "&"))
	case viaPostBare:
		resp, err = http.Post(base+"/api/json/"+fn, "application/x-www-form-urlencoded", strings.NewReader(strings.Join(pairs, "&")))
	default:
		t.Fatalf("unknown transport %q", via)
	}
	if err != nil {
		t.Fatalf("%s: %v", via, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", via, resp.StatusCode, body)
	}
	return string(body)
}

// TestHTTPLevel covers answers outside the envelope.
func TestHTTPLevel(t *testing.T) {
	_, ts := start(t, simulator.Config{Mailboxes: 4})
	cases := []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"unknown function", "POST", "/api/json/mailboxes/delete/", "application/x-www-form-urlencoded", "", http.StatusNotFound},
		{"unknown path", "GET", "/index.html", "", "", http.StatusNotFound},
		{"PUT", "PUT", "/api/json/mailboxes/update/", "application/x-www-form-urlencoded", "", http.StatusMethodNotAllowed},
		{"multipart", "POST", "/api/json/mailboxes/update/", "multipart/form-data; boundary=x", "--x--", http.StatusUnsupportedMediaType},
		{"body too large", "POST", "/api/json/mailboxes/update/", "application/x-www-form-urlencoded", strings.Repeat("a", 1<<20+1), http.StatusRequestEntityTooLarge},
		{"stats", "GET", "/__stats", "", "", http.StatusOK},
		{"state with slash", "GET", "/__state/", "", "", http.StatusOK},
		{"audit", "GET", "/__audit", "", "", http.StatusOK},
		{"stats refuses POST", "POST", "/__stats", "", "", http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
			}
		})
	}
}
