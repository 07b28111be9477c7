package enswitch_test

import (
	"encoding/json"
	"testing"

	"github.com/ensbulk/ensbulk/enswitch"
)

// TestDecodeMailbox: what servers write in get data, and what the client
// keeps of it. NULL, "" and an absent column stay three answers.
func TestDecodeMailbox(t *testing.T) {
	data := `{"id":7,"mailbox":"1001","customer":2,"pager":null,"callerid":"","description":"Front \"desk\"",
		"owner":0,"balance":-1.5e3,"panel":true,"saycid":false,"extra":{"a":[1]},"tags":["x"]}`
	m, err := enswitch.DecodeMailbox(json.RawMessage(data))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		text          string
		present, null bool
		kind          enswitch.ValueKind
	}{
		{"mailbox", "1001", true, false, enswitch.ValueString},
		{"customer", "2", true, false, enswitch.ValueNumber},
		{"pager", "", true, true, enswitch.ValueNull},
		{"callerid", "", true, false, enswitch.ValueString},
		{"dnumber", "", false, false, enswitch.ValueString},
		{"description", `Front "desk"`, true, false, enswitch.ValueString},
		{"owner", "0", true, false, enswitch.ValueNumber},
		{"balance", "-1.5e3", true, false, enswitch.ValueNumber},
		{"panel", "1", true, false, enswitch.ValueBool},
		{"saycid", "0", true, false, enswitch.ValueBool},
		{"extra", `{"a":[1]}`, true, false, enswitch.ValueOther},
		{"tags", `["x"]`, true, false, enswitch.ValueOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text, present, null := m.Value(tc.name)
			if text != tc.text || present != tc.present || null != tc.null {
				t.Errorf("Value(%s) = %q, %v, %v; want %q, %v, %v", tc.name, text, present, null, tc.text, tc.present, tc.null)
			}
			if v, _ := m.Column(tc.name); v.Kind != tc.kind {
				t.Errorf("kind of %s = %v, want %v", tc.name, v.Kind, tc.kind)
			}
			if got := m.Text(tc.name); got != tc.text {
				t.Errorf("Text(%s) = %q, want %q", tc.name, got, tc.text)
			}
		})
	}
	if m.Len() != 12 {
		t.Errorf("Len = %d, want 12 (every column kept, unknown ones too)", m.Len())
	}
}

func TestDecodeMailboxRejects(t *testing.T) {
	for _, data := range []string{``, `null`, `[]`, `"x"`, `{"a":1`} {
		if _, err := enswitch.DecodeMailbox(json.RawMessage(data)); err == nil {
			t.Errorf("DecodeMailbox(%s) accepted", data)
		}
	}
	for _, data := range []string{`null`, `{}`, `[null]`, `[{"a":1},3]`} {
		if _, err := enswitch.DecodeMailboxes(json.RawMessage(data)); err == nil {
			t.Errorf("DecodeMailboxes(%s) accepted", data)
		}
	}
	if rows, err := enswitch.DecodeMailboxes(json.RawMessage(`[]`)); err != nil || len(rows) != 0 {
		t.Errorf("DecodeMailboxes([]) = %v, %v; want no rows", rows, err)
	}
}
