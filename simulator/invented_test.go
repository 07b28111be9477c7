package simulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// Every invented rule holds by default and is gone when turned off: one
// request per rule that it decides, sent to a server with it and to one
// without it. The codes are the vendor's numbers, written out.
func TestInventedRules(t *testing.T) {
	const update = "mailboxes/update"
	form := func(kv ...string) string {
		v := []string{}
		for i := 0; i+1 < len(kv); i += 2 {
			v = append(v, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
		}
		return strings.Join(v, "&")
	}
	admin := form("auth_username", "admin", "auth_password", "admin-demo-pass")
	box := form("mailbox", "1001", "customer", "100")
	type answer struct {
		status int    // HTTP
		code   string // the first entry's; "" when status is not 200
		key    string
	}
	cases := []struct {
		rule     simulator.Rule
		fn       string
		ctype    string // "" means a form
		body     string
		world    func(*simulator.State) // changes the demo world
		on, off  answer
		checkOff func(t *testing.T, sim *simulator.Server, data json.RawMessage)
	}{
		{rule: simulator.RuleUnknownParam, fn: update, body: admin + "&" + box + "&bogus=1",
			on: answer{200, "400", "bogus"}, off: answer{200, "204", ""}},
		{rule: simulator.RuleDuplicateParam, fn: update, body: admin + "&" + box + "&description=first&description=second",
			on: answer{200, "400", "description"}, off: answer{200, "204", ""},
			checkOff: func(t *testing.T, sim *simulator.Server, _ json.RawMessage) {
				if m, _ := sim.Mailbox(100, "1001"); m["description"] != "second" {
					t.Errorf("description %q, want the last value sent", m["description"])
				}
			}},
		{rule: simulator.RuleLengthCap, fn: update, body: admin + "&" + box + "&" + form("description", strings.Repeat("é", 300)),
			on: answer{200, "400", "description"}, off: answer{200, "204", ""}},
		{rule: simulator.RuleTextCheck, fn: update, body: admin + "&" + box + "&" + form("description", "bell\x07"),
			on: answer{200, "400", "description"}, off: answer{200, "204", ""}},
		{rule: simulator.RuleTextCheck, fn: update, body: admin + "&" + box + "&description=%ff%fe",
			on: answer{200, "400", "description"}, off: answer{200, "204", ""}},
		{rule: simulator.RuleHTTP415, fn: update, ctype: "text/plain", body: admin + "&" + box,
			// Off, the body is not read: no credentials arrive.
			on: answer{415, "", ""}, off: answer{200, "401", ""}},
		{rule: simulator.RuleHTTP413, fn: update, body: admin + "&" + box + "&" + form("description", strings.Repeat("a", 1<<20)),
			on: answer{413, "", ""}, off: answer{200, "400", "description"}}, // the length cap still holds
		{rule: simulator.RuleRoles, fn: update, body: form("auth_username", "auditor", "auth_password", "auditor-demo-pass") + "&" + box + "&description=x",
			on: answer{200, "402", ""}, off: answer{200, "204", ""}},
		{rule: simulator.RuleRoles, fn: update, body: form("auth_username", "clerk", "auth_password", "clerk-pass", "mailbox", "1002", "customer", "101"),
			// A user-role user of the reseller: its own customer only,
			// unless roles are names only.
			world: func(st *simulator.State) {
				st.Users = append(st.Users, simulator.User{Username: "clerk", Password: "clerk-pass", Role: simulator.RoleUser, Customer: simulator.CustomerAcme})
			},
			on: answer{200, "404", "customer"}, off: answer{200, "204", ""}},
		{rule: simulator.RuleExtraColumns, fn: "mailboxes/get", body: admin + "&" + box,
			on: answer{200, "200", ""}, off: answer{200, "200", ""},
			checkOff: func(t *testing.T, _ *simulator.Server, data json.RawMessage) {
				if strings.Contains(string(data), `"id"`) || strings.Contains(string(data), `"created"`) {
					t.Errorf("get data %s has id or created", data)
				}
			}},
		{rule: simulator.RuleCustomer403, fn: update, body: form("auth_username", "acme", "auth_password", "acme-demo-pass", "mailbox", "9001", "customer", "102", "description", "x"),
			on: answer{200, "403", ""}, off: answer{200, "204", ""}},
		{rule: simulator.RuleExtraDTypes, fn: update, body: admin + "&" + box + "&dtype=queue",
			on: answer{200, "204", ""}, off: answer{200, "400", "dtype"}},
	}
	covered := map[simulator.Rule]bool{}
	for _, tc := range cases {
		covered[tc.rule] = true
		for _, off := range []bool{false, true} {
			name := string(tc.rule) + "/on"
			want := tc.on
			cfg := simulator.Config{Mailboxes: 4}
			if tc.world != nil {
				cfg.State = simulator.Generate(4, 0)
				tc.world(cfg.State)
			}
			if off {
				name, want = string(tc.rule)+"/off", tc.off
				cfg.NoInvented = []simulator.Rule{tc.rule}
			}
			t.Run(name, func(t *testing.T) {
				sim, ts := start(t, cfg)
				ctype := tc.ctype
				if ctype == "" {
					ctype = "application/x-www-form-urlencoded"
				}
				resp, err := http.Post(ts.URL+"/api/json/"+tc.fn+"/", ctype, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				got := answer{status: resp.StatusCode}
				var env struct {
					Responses []struct{ Code, Key string }
					Data      json.RawMessage
				}
				if resp.StatusCode == http.StatusOK {
					if err := json.Unmarshal(body, &env); err != nil || len(env.Responses) == 0 {
						t.Fatalf("body %s: %v", body, err)
					}
					got.code, got.key = env.Responses[0].Code, env.Responses[0].Key
				}
				if got != want {
					t.Fatalf("answered %+v, want %+v (%.200s)", got, want, body)
				}
				if off && tc.checkOff != nil {
					tc.checkOff(t, sim, env.Data)
				}
				if !off && tc.rule == simulator.RuleExtraColumns && (!strings.Contains(string(env.Data), `"id"`) || !strings.Contains(string(env.Data), `"created"`)) {
					t.Errorf("get data %s lacks id or created", env.Data)
				}
			})
		}
	}
	for _, r := range simulator.InventedRules() {
		if !covered[r] {
			t.Errorf("rule %s has no case", r)
		}
	}
}

func TestParseRules(t *testing.T) {
	all, err := simulator.ParseRules("all")
	if err != nil || !slices.Equal(all, simulator.InventedRules()) {
		t.Errorf("ParseRules(all) = %v, %v; want every rule", all, err)
	}
	if got, err := simulator.ParseRules(" roles, length-cap "); err != nil || !slices.Equal(got, []simulator.Rule{simulator.RuleRoles, simulator.RuleLengthCap}) {
		t.Errorf("ParseRules = %v, %v", got, err)
	}
	if got, err := simulator.ParseRules(""); err != nil || len(got) != 0 {
		t.Errorf("ParseRules(\"\") = %v, %v; want none", got, err)
	}
	if _, err := simulator.ParseRules("roles,bogus"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("ParseRules(bogus) = %v, want an error naming it", err)
	}
	if _, err := simulator.New(simulator.Config{NoInvented: []simulator.Rule{"bogus"}}); err == nil {
		t.Error("New accepted an unknown rule")
	}
}
