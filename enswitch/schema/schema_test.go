package schema

import (
	"strings"
	"testing"
)

func TestPlainInteger(t *testing.T) {
	for _, tc := range []struct {
		in         string
		plain, dig bool
	}{
		{"0", true, true},
		{"7", true, true},
		{"42", true, true},
		{strings.Repeat("9", MaxIntegerDigits), true, true},
		{strings.Repeat("9", MaxIntegerDigits+1), false, true},
		{"010", false, true},
		{"00", false, true},
		{"", false, false},
		{"-1", false, false},
		{"+1", false, false},
		{"1.9", false, false},
		{"1e3", false, false},
		{" 1", false, false},
		{"1 ", false, false},
		{"١", false, false}, // an Arabic-Indic one is not an ASCII digit
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := PlainInteger(tc.in); got != tc.plain {
				t.Errorf("PlainInteger(%q) = %v, want %v", tc.in, got, tc.plain)
			}
			if got := Digits(tc.in); got != tc.dig {
				t.Errorf("Digits(%q) = %v, want %v", tc.in, got, tc.dig)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"PIN", "pin"},
		{"Mailbox", "mailbox"},
		{"timezon", "timezone"},
		{"notify_emial", "notify_email"},
		{"colour", ""},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Closest(tc.in); got != tc.want {
				t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	names := Names()
	if names[0] != "mailbox" {
		t.Errorf("first field %q, want mailbox: it is sent first", names[0])
	}
	for i, name := range names {
		f, ok := Lookup(name)
		if !ok || f.Name != name || Index(name) != i {
			t.Errorf("Lookup(%q) = %v, %v; Index = %d, want the field at %d", name, f.Name, ok, Index(name), i)
		}
		if IsReserved(name) {
			t.Errorf("%s is both a field and reserved", name)
		}
	}
	for _, name := range Reserved() {
		if Index(name) >= 0 {
			t.Errorf("reserved %s is a field", name)
		}
	}
	if _, ok := Lookup("auth_password"); ok {
		t.Error("Lookup(auth_password) found a field")
	}
	fs := Fields()
	fs[0].Name = "changed"
	if Names()[0] != "mailbox" {
		t.Error("Fields returned the schema itself, not a copy")
	}
}
