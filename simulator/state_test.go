package simulator_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/simulator"
)

func dump(t *testing.T, st *simulator.State) []byte {
	t.Helper()
	sim, err := simulator.New(simulator.Config{State: st})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sim.DumpState(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := dump(t, simulator.Generate(200, 42)), dump(t, simulator.Generate(200, 42))
	if !bytes.Equal(a, b) {
		t.Error("Generate(200, 42) twice gave different states")
	}
	if c := dump(t, simulator.Generate(200, 43)); bytes.Equal(a, c) {
		t.Error("seeds 42 and 43 gave the same state")
	}
}

func TestDemoWorld(t *testing.T) {
	st := simulator.Generate(simulator.DefaultMailboxes, 7)
	wantCustomers := []struct {
		id, parent int
		name       string
		forbidden  bool
	}{
		{1, 0, "Switch Operator", false},
		{10, 1, "Acme Voice", false},
		{100, 10, "Northwind Dental", false},
		{101, 10, "Blue Fjord Hotels", false},
		{102, 10, "Legacy Plan Ltd", true},
	}
	if len(st.Customers) != len(wantCustomers) {
		t.Fatalf("%d customers, want %d", len(st.Customers), len(wantCustomers))
	}
	for i, w := range wantCustomers {
		c := st.Customers[i]
		if c.ID != w.id || c.Parent != w.parent || c.Name != w.name || c.MailboxUpdatesForbidden != w.forbidden {
			t.Errorf("customer %d = %+v, want %+v", i, c, w)
		}
	}
	wantUsers := []simulator.User{
		{Username: "admin", Password: "admin-demo-pass", Role: simulator.RoleAdministrator, Customer: 1},
		{Username: "acme", Password: "acme-demo-pass", Role: simulator.RoleReseller, Customer: 10},
		{Username: "northwind", Password: "northwind-demo-pass", Role: simulator.RoleUser, Customer: 100},
		{Username: "frontdesk", Password: "frontdesk-demo-pass", Role: simulator.RoleResidential, Customer: 101},
		{Username: "auditor", Password: "auditor-demo-pass", Role: simulator.RoleReadonly, Customer: 10},
	}
	if !reflect.DeepEqual(st.Users, wantUsers) {
		t.Errorf("users = %+v\nwant %+v", st.Users, wantUsers)
	}
	if got, want := len(st.Mailboxes), simulator.DefaultMailboxes+3; got != want {
		t.Fatalf("%d mailboxes, want %d", got, want)
	}
	zones := []string{"Europe/London", "Europe/Oslo", "America/New_York", "Europe/Berlin", "Australia/Sydney"}
	for i, m := range st.Mailboxes {
		wantMB, wantCust := strconv.Itoa(1001+i), "100"
		if i%2 == 1 {
			wantCust = "101"
		}
		if i >= simulator.DefaultMailboxes {
			wantMB, wantCust = strconv.Itoa(9001+i-simulator.DefaultMailboxes), "102"
		}
		if m["mailbox"] != wantMB || m["customer"] != wantCust {
			t.Errorf("mailbox %d = %s/%s, want %s/%s", i, m["customer"], m["mailbox"], wantCust, wantMB)
		}
		if len(m) != len(schema.Names()) {
			t.Errorf("mailbox %s has %d fields, want every one of the schema's %d", wantMB, len(m), len(schema.Names()))
		}
		if p := m["pin"]; len(p) < 4 || len(p) > 6 {
			t.Errorf("mailbox %s pin has %d digits, want 4-6", wantMB, len(p))
		}
		if !slices.Contains(zones, m["timezone"]) {
			t.Errorf("mailbox %s timezone %q, want one of %v", wantMB, m["timezone"], zones)
		}
	}
	sim, err := simulator.New(simulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(sim.State().Mailboxes); got != simulator.DefaultMailboxes+3 {
		t.Errorf("New(Config{}) serves %d mailboxes, want %d", got, simulator.DefaultMailboxes+3)
	}
	if got := sim.Users(); !reflect.DeepEqual(got, wantUsers) {
		t.Errorf("Users() = %+v, want the demo users", got)
	}
}

// TestGeneratedValuesPassValidation sends every generated mailbox's own
// values back with validation=1: the world must be valid by the server's
// own request rules.
func TestGeneratedValuesPassValidation(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 40, Seed: 99})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)
	for _, m := range sim.State().Mailboxes {
		if m["customer"] == "102" {
			continue // 403 by rate plan
		}
		var kv []string
		for _, f := range schema.Names() {
			kv = append(kv, f, m[f])
		}
		resp, err := c.Update(context.Background(), ps(kv...), true)
		if err != nil || resp.Code != "201" {
			t.Errorf("mailbox %s: validation = %+v, %v; want 201", m["mailbox"], resp, err)
		}
	}
}

func TestDumpLoadRoundTrip(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 20, Seed: 5})
	c := newClient(t, ts.URL, "acme", demoPasswords["acme"], 0)
	if _, err := c.Update(context.Background(), ps("mailbox", "1004", "customer", "101", "description", "changed", "pin", "555666"), false); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := sim.DumpState(&first); err != nil {
		t.Fatal(err)
	}
	st, err := simulator.LoadState(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatalf("LoadState(dump): %v", err)
	}
	if got := dump(t, st); !bytes.Equal(got, first.Bytes()) {
		t.Errorf("dump of the loaded dump differs:\n%s\nwant\n%s", got, first.Bytes())
	}
	if !strings.Contains(first.String(), `"pin": "555666"`) {
		t.Error("DumpState does not hold the real PIN; a dump must reload faithfully")
	}
}

func TestLoadStateMinimalWithDefaults(t *testing.T) {
	const file = `{
	  "customers": [{"id": 1, "name": "Root"}, {"id": 2, "name": "Shop", "parent": 1}],
	  "users": [{"username": "u", "password": "p", "role": "user", "customer": 2}],
	  "mailboxes": [{"mailbox": "200", "customer": 2, "pin": "1234"}]
	}`
	st, err := simulator.LoadState(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	m := st.Mailboxes[0]
	for name, want := range map[string]string{"customer": "2", "play": "oldest", "timezone": "Europe/London", "envelope": "0", "owner": "0", "notify_ltype": "voicemailbox", "description": ""} {
		if m[name] != want {
			t.Errorf("%s = %q, want %q", name, m[name], want)
		}
	}
}

func TestLoadStateErrors(t *testing.T) {
	base := func(mailbox string) string {
		return `{"customers":[{"id":1,"name":"R"},{"id":2,"name":"C","parent":1}],
		"users":[{"username":"u","password":"p","role":"user","customer":2}],
		"mailboxes":[` + mailbox + `]}`
	}
	cases := []struct{ name, file, want string }{
		{"not JSON", `customers:`, "invalid character"},
		{"unknown top-level field", `{"customers":[],"mailboxes":[],"extra":1}`, "unknown field"},
		{"trailing data", base(`{"mailbox":"1","customer":"2"}`) + `{}`, "trailing data"},
		{"unknown mailbox field", base(`{"mailbox":"1","customer":"2","pinn":"1234"}`), `did you mean "pin"`},
		{"missing customer", base(`{"mailbox":"1"}`), "customer is required"},
		{"bad pin", base(`{"mailbox":"1","customer":"2","pin":"12"}`), "pin"},
		{"bad timezone", base(`{"mailbox":"1","customer":"2","timezone":"Mars/Base"}`), "time zone"},
		{"bad 0/1", base(`{"mailbox":"1","customer":"2","panel":"yes"}`), "panel"},
		{"unknown customer", base(`{"mailbox":"1","customer":"3"}`), "customer 3 does not exist"},
		{"duplicate mailbox", base(`{"mailbox":"1","customer":"2"},{"mailbox":"1","customer":"2"}`), "listed twice"},
		{"bool value", base(`{"mailbox":"1","customer":"2","panel":true}`), "want a string or a number"},
		{"bad role", `{"customers":[{"id":1,"name":"R"}],"users":[{"username":"u","password":"p","role":"god","customer":1}],"mailboxes":[]}`, "unknown role"},
		{"duplicate user", `{"customers":[{"id":1,"name":"R"}],"users":[{"username":"u","password":"p","role":"user","customer":1},{"username":"u","password":"p","role":"user","customer":1}],"mailboxes":[]}`, "listed twice"},
		{"user without password", `{"customers":[{"id":1,"name":"R"}],"users":[{"username":"u","role":"user","customer":1}],"mailboxes":[]}`, "no password"},
		{"missing parent", `{"customers":[{"id":1,"name":"R","parent":9}],"mailboxes":[]}`, "parent 9 does not exist"},
		{"cycle", `{"customers":[{"id":1,"name":"A","parent":2},{"id":2,"name":"B","parent":1}],"mailboxes":[]}`, "loops"},
		{"duplicate customer", `{"customers":[{"id":1,"name":"A"},{"id":1,"name":"B"}],"mailboxes":[]}`, "listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := simulator.LoadState(strings.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadState error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestNewRejectsInvalidState(t *testing.T) {
	st := simulator.Generate(2, 1)
	st.Mailboxes[0]["pin"] = "abc"
	if _, err := simulator.New(simulator.Config{State: st}); err == nil {
		t.Error("New accepted a mailbox with PIN abc")
	}
	if st.Mailboxes[0]["pin"] != "abc" {
		t.Error("New changed the caller's state")
	}
}

// TestStateEndpointMasks checks that /__state shows no PIN and no user.
func TestStateEndpointMasks(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 6})
	resp, err := http.Get(ts.URL + "/__state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var st simulator.State
	getJSON(t, ts.URL+"/__state", &st)
	if len(st.Users) != 0 || strings.Contains(string(body), "password") {
		t.Error("/__state shows users or passwords")
	}
	if got, want := len(st.Mailboxes), 9; got != want {
		t.Fatalf("/__state has %d mailboxes, want %d", got, want)
	}
	for _, m := range st.Mailboxes {
		if m["pin"] != "****" {
			t.Errorf("/__state mailbox %s pin = %q, want ****", m["mailbox"], m["pin"])
		}
		real, _ := sim.Mailbox(mustAtoi(t, m["customer"]), m["mailbox"])
		if strings.Contains(string(body), `"`+real["pin"]+`"`) {
			t.Errorf("/__state body holds mailbox %s's PIN", m["mailbox"])
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
