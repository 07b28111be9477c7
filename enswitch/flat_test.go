package enswitch

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// flatSecrets are the secrets the fast path is checked with: none, and a
// password and a PIN as a request would have them.
func flatSecrets() []*secrets {
	return []*secrets{
		{},
		{res: []*secretPattern{secretRE("s3cret-pass")}, fields: []string{"4821"}},
	}
}

// flatTaken is data the fast path must take; flatDeclined data it must
// leave to the exact path. Both are checked against the exact path.
var flatTaken = []string{
	`{}`,
	" \t\r\n{ } \n",
	`{"id":7,"mailbox":"1001","customer":2,"pager":null,"callerid":"","owner":0,"balance":-1.5e3,"panel":true,"saycid":false}`,
	`{"a":-0,"b":0.0,"c":1E+2,"d":1e-2,"e":123456789012345678901234567890123456789,"f":-12.5e07}`,
	`{"a":"1","a":"2","b":null,"a":"3"}`,
	`{"name":"Ünïcödé, 日本語 and 🎉"}`,
	`{ "a" : "x" , "b" :1 ,"c":true}`,
	`{"pager":"echo s3cret-pass here","pin":"4821","note":"s3cret%2Dpass"}`,
	`{"pin":4821,"flag":true}`,
	`{"long":"` + strings.Repeat("x", 3000) + `"}`,
	`{"long":"` + strings.Repeat("y", 5000) + `","short":"z"}`,
	`{"big":"` + strings.Repeat("ab", 2*sharedTextMax) + `","n":1}`,
	"{\"a\":\"DEL \x7f and RLO \u202e\"}",
	`{"":""}`,
}

var flatDeclined = []string{
	``, ` `, `null`, `[]`, `"x"`, `1`, `true`, `{`, `{"a":1`, `{"a":1,}`, `{,}`,
	`{"a":1}x`, `{"a":1}{}`, `{"a" 1}`, `{"a":}`, `{a:1}`, `{'a':1}`, `{"a":1 "b":2}`,
	`{"a":"say \"hi\""}`, `{"a":"back\\slash"}`, `{"a":"\u00e9"}`, `{"\u0061":1}`, `{"a":"\/"}`,
	`{"a":{"b":1}}`, `{"a":[1,2]}`, `{"a":[]}`, `{"a":{}}`,
	"{\"a\":\"bad \xff byte\"}", "{\"\xc3\":1}", "{\"a\":\"tab\tinside\"}", "{\"a\x1b\":1}",
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":0x10}`, `{"a":1.5e+}`,
	`{"a":tru}`, `{"a":nul}`, `{"a":True}`, `{"a":NaN}`, `{"a":truex}`, `{"a":nullnull}`,
	`{"` + strings.Repeat("k", MaxKeyLen+1) + `":1}`,
	`{"` + strings.Repeat("k", MaxKeyLen+8) + `a":1,"` + strings.Repeat("k", MaxKeyLen+8) + `b":2}`,
	"{\"a\":1}\x00", "\ufeff{\"a\":1}", "{\"del \x7f\":1}",
}

// flatSecretKeys are data the fast path takes without secrets, and
// leaves to the exact path with flatSecrets' password and PIN: a key
// cleaning changes.
var flatSecretKeys = []string{`{"key with s3cret-pass":1}`, `{"pin 4821":"x","b":2}`}

// TestFlatMailbox checks that the fast path takes the common shapes, and
// leaves the rest, and that it decodes exactly as the exact path.
func TestFlatMailbox(t *testing.T) {
	for _, sec := range flatSecrets() {
		for _, data := range flatTaken {
			if _, ok := fastMailbox([]byte(data), sec); !ok {
				t.Errorf("fast path declined %q", firstOf(data))
			}
			checkFlat(t, []byte(data), sec)
		}
		for _, data := range flatDeclined {
			if _, ok := fastMailbox([]byte(data), sec); ok {
				t.Errorf("fast path took %q", firstOf(data))
			}
			checkFlat(t, []byte(data), sec)
		}
		for _, data := range flatSecretKeys {
			if _, ok := fastMailbox([]byte(data), sec); ok == (len(sec.res) > 0) {
				t.Errorf("fast path took %q: %v, with secrets %v", data, ok, len(sec.res) > 0)
			}
			checkFlat(t, []byte(data), sec)
		}
	}
}

// TestFlatMailboxValues states what the fast path keeps of some columns.
func TestFlatMailboxValues(t *testing.T) {
	sec := flatSecrets()[1]
	data := `{"a":"1","a":"2","n":-1.50e3,"z":null,"t":true,"f":false,"s":"","pager":"echo s3cret-pass","pin":4821,` +
		`"long":"` + strings.Repeat("x", MaxValueLen+1) + `"}`
	m, ok := fastMailbox([]byte(data), sec)
	if !ok {
		t.Fatal("fast path declined")
	}
	for _, tc := range []struct {
		name string
		want Value
	}{
		{"a", Value{Text: "2", Kind: ValueString}},
		{"n", Value{Text: "-1.50e3", Kind: ValueNumber}},
		{"z", Value{Kind: ValueNull}},
		{"t", Value{Text: "1", Kind: ValueBool}},
		{"f", Value{Text: "0", Kind: ValueBool}},
		{"s", Value{Kind: ValueString}},
		{"pager", Value{Text: "echo " + redacted, Kind: ValueString, Altered: true}},
		{"pin", Value{Text: redacted, Kind: ValueNumber, Altered: true}},
		{"long", Value{Text: strings.Repeat("x", MaxValueLen) + "...(1 more bytes)", Kind: ValueString, Altered: true}},
	} {
		if got, _ := m.Column(tc.name); got != tc.want {
			t.Errorf("%s = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if m.Len() != 9 {
		t.Errorf("Len = %d, want 9", m.Len())
	}
}

// TestFlatMailboxSimulator checks the fast path takes what the simulator
// answers to get and list, and decodes it as the exact path does.
func TestFlatMailboxSimulator(t *testing.T) {
	for _, data := range simulatorMailboxes(t) {
		if _, ok := fastMailbox(data, &secrets{}); !ok {
			t.Errorf("fast path declined the simulator's %s", firstOf(string(data)))
		}
		for _, sec := range flatSecrets() {
			checkFlat(t, data, sec)
		}
	}
}

func FuzzMailboxDecode(f *testing.F) {
	for _, data := range slices.Concat(flatTaken, flatDeclined, flatSecretKeys, []string{string(benchGetData())}) {
		f.Add([]byte(data))
	}
	for _, data := range simulatorMailboxes(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sec := range flatSecrets() {
			checkFlat(t, data, sec)
		}
	})
}

// checkFlat checks that decodeMailbox gives for data what the exact path
// gives: the same columns when the fast path takes it, and an error or
// not as the exact path when it does not.
func checkFlat(t *testing.T, data []byte, sec *secrets) {
	t.Helper()
	exact, exactErr := decodeMailboxExact(data, sec)
	fast, ok := fastMailbox(data, sec)
	if ok {
		if exactErr != nil {
			t.Fatalf("%q: fast path took it, exact path says %v", data, exactErr)
		}
		if !reflect.DeepEqual(fast.cols, exact.cols) {
			t.Fatalf("%q: fast path %+v, exact path %+v", data, fast.cols, exact.cols)
		}
	}
	got, err := decodeMailbox(data, sec)
	if (err == nil) != (exactErr == nil) {
		t.Fatalf("%q: decodeMailbox error %v, exact path %v", data, err, exactErr)
	}
	if got.Len() != exact.Len() {
		t.Fatalf("%q: decodeMailbox has %d columns, exact path %d", data, got.Len(), exact.Len())
	}
}

// simulatorMailboxes are the data of the simulator's answers to get and
// the elements of its answer to list.
func simulatorMailboxes(t testing.TB) [][]byte {
	t.Helper()
	sim, err := simulator.New(simulator.Config{Mailboxes: 5, NullColumns: []string{"pager"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	defer ts.Close()
	call := func(fn string, form url.Values) json.RawMessage {
		form.Set("auth_username", "admin")
		form.Set("auth_password", "admin-demo-pass")
		resp, err := http.PostForm(ts.URL+"/api/json/"+fn+"/", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var env struct{ Data json.RawMessage }
		if err := json.Unmarshal(body, &env); err != nil || env.Data == nil {
			t.Fatalf("%s: %v (body %s)", fn, err, firstOf(string(body)))
		}
		return env.Data
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(call("mailboxes/list", url.Values{"customer": {"100"}}), &rows); err != nil || len(rows) == 0 {
		t.Fatalf("list: %v, %d rows", err, len(rows))
	}
	var out [][]byte
	for _, r := range rows {
		out = append(out, r)
	}
	var first struct{ Mailbox json.RawMessage }
	if err := json.Unmarshal(rows[0], &first); err != nil {
		t.Fatal(err)
	}
	return append(out, call("mailboxes/get", url.Values{"customer": {"100"}, "mailbox": {looseString(first.Mailbox)}}))
}

func firstOf(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
