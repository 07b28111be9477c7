package schema

import (
	"slices"
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

// TestFacts checks the accessors against the vendor's documented facts:
// the PIN is the one secret, "" keeps it, and the fields a switch keeps as
// NULL are the optional numbers and addresses.
func TestFacts(t *testing.T) {
	if got := Secrets(); len(got) != 1 || got[0] != "pin" {
		t.Errorf("Secrets() = %v, want [pin]", got)
	}
	for _, tc := range []struct {
		name               string
		secret, emptyKeeps bool
	}{
		{"pin", true, true},
		{"PIN", false, false}, // names are exact; callers fold
		{"description", false, false},
		{"auth_password", false, false}, // a credential, not a field
		{"nosuch", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsSecret(tc.name); got != tc.secret {
				t.Errorf("IsSecret = %v, want %v", got, tc.secret)
			}
			if got := EmptyKeeps(tc.name); got != tc.emptyKeeps {
				t.Errorf("EmptyKeeps = %v, want %v", got, tc.emptyKeeps)
			}
		})
	}
	if got, want := strings.Join(Nullables(), ","), "dnumber,notify_dnumber,pager"; got != want {
		t.Errorf("Nullables() = %s, want %s", got, want)
	}
}

func TestPlain(t *testing.T) {
	for _, tc := range []struct {
		name, v string
		want    bool
	}{
		{"pin", "0123", true},
		{"pin", "****", false}, // a mask
		{"pin", "", false},     // no PIN shown
		{"pin", "12 34", false},
		{"description", "****", true}, // only secrets are masked
		{"description", "", true},
	} {
		if got := Plain(tc.name, tc.v); got != tc.want {
			t.Errorf("Plain(%q, %q) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}

// TestFieldEntries keeps each entry of the table coherent, so that a
// field added with one entry cannot contradict itself.
func TestFieldEntries(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		t.Run(f.Name, func(t *testing.T) {
			switch {
			case f.EmptyKeeps && f.EmptyMeans == "":
				t.Error(`EmptyKeeps without EmptyMeans: say what "" does`)
			case f.Secret && f.Nullable:
				t.Error("secret and nullable: a secret's display is the PIN display setting's, never null")
			case f.Secret && !Plain(f.Name, strings.Repeat("1", max(f.Gen.Digits, 1))):
				t.Error("secret with no plain form: no value read would ever be trusted (give it a GenDigits hint)")
			case f.Required && f.Gen.Kind != GenKey:
				t.Error("required but generated: the world gives keys")
			case f.Gen.UnlessEmpty != "" && !seen[f.Gen.UnlessEmpty]:
				t.Errorf("UnlessEmpty %q is not a field generated before it", f.Gen.UnlessEmpty)
			case f.Gen.Kind == GenNumber && f.Gen.Span <= 0:
				t.Error("GenNumber with no Span")
			case (f.Gen.Kind == GenPick && f.Values == nil || f.Gen.Kind == GenLabel) && len(f.Gen.Choices) == 0:
				t.Error("nothing to pick from")
			}
			if f.Values != nil {
				for _, c := range f.Gen.Choices {
					if !slices.Contains(f.Values, c) && !slices.Contains(f.NewerValues, c) {
						t.Errorf("generator choice %q is not a documented value %v", c, f.Values)
					}
				}
			}
		})
		seen[f.Name] = true
	}
}
