// Package schema is the list of parameters of the Enswitch API function
// mailboxes/update: their names in send order, their types, what an empty
// value means, the names data may never set, and the plain-integer rule.
// The reader, the client and the simulator take them from here, so a field
// is added or changed in this one file.
//
// It imports only the standard library, so that a package that needs the
// names (the reader) does not pull in the HTTP client.
package schema

// FieldType is how a mailbox parameter's value is written.
type FieldType int

// Field types.
const (
	// String is free text; "" has a meaning given by the field (often
	// "none").
	String FieldType = iota
	// Bool01 accepts exactly "0" or "1".
	Bool01
	// Integer is a plain decimal id, as PlainInteger defines it.
	Integer
	// Enum is a string from a set the server judges (sets differ between
	// server versions, so clients do not check them).
	Enum
)

// String returns the type as messages name it.
func (t FieldType) String() string {
	switch t {
	case Bool01:
		return "0/1"
	case Integer:
		return "integer"
	case Enum:
		return "enum"
	}
	return "string"
}

// Field describes one parameter of mailboxes/update.
type Field struct {
	Name string
	Type FieldType
	// Values are the values documented by the vendor for an Enum (the
	// simulator enforces them; clients leave them to the server).
	Values []string
	// NewerValues are Enum values only newer server versions accept.
	NewerValues []string
	// EmptyMeans says what "" does for this field, "" when it is not allowed.
	EmptyMeans string
	Required   bool
}

// fields is the schema, in the order parameters are sent and reported.
var fields = []Field{
	{Name: "mailbox", Type: String, Required: true},
	{Name: "customer", Type: Integer},
	{Name: "callerid", Type: String, EmptyMeans: "unknown caller ID"},
	{Name: "description", Type: String, EmptyMeans: "no description"},
	{Name: "dtype", Type: Enum, EmptyMeans: "no destination"},
	{Name: "dnumber", Type: String, EmptyMeans: "no destination"},
	{Name: "envelope", Type: Bool01},
	{Name: "notify_dnumber", Type: String, EmptyMeans: "no notification calls"},
	{Name: "notify_email", Type: Enum, Values: []string{"owner", "owner_wav", ""}, EmptyMeans: "no notification email"},
	{Name: "notify_for", Type: Enum, Values: []string{"voicemail", "fax", "voicemail_fax", ""}, NewerValues: []string{"all", "text"}, EmptyMeans: "nothing"},
	{Name: "notify_ltype", Type: Enum, Values: []string{"voicemailbox", "voicemailboxpin", "voicemaillogin"}},
	{Name: "notify_message", Type: Enum, Values: []string{"owner", ""}, EmptyMeans: "no message notification"},
	{Name: "notify_only", Type: Bool01},
	{Name: "owner", Type: Integer},
	{Name: "pager", Type: String, EmptyMeans: "no secondary email"},
	{Name: "pager_attach", Type: Bool01},
	{Name: "panel", Type: Bool01},
	{Name: "pin", Type: String, EmptyMeans: "keep the current PIN"},
	{Name: "play", Type: Enum, Values: []string{"oldest", "newest"}},
	{Name: "saycid", Type: Bool01},
	{Name: "sayduration", Type: Bool01},
	{Name: "temporary_active", Type: Bool01},
	// What "" does to a timezone is not documented, so it is not refused
	// here: it is sent, and the server judges it like any other zone.
	{Name: "timezone", Type: String, EmptyMeans: "not documented: the server decides"},
}

// reserved are parameters that must never come from a data file:
// credentials, and the validation switch the engine owns.
var reserved = []string{"auth_username", "auth_password", "validation"}

// Fields returns the mailbox fields in send order. The slice is a copy.
func Fields() []Field {
	out := make([]Field, len(fields))
	copy(out, fields)
	return out
}

// Lookup returns the field with this exact name.
func Lookup(name string) (Field, bool) {
	if i := Index(name); i >= 0 {
		return fields[i], true
	}
	return Field{}, false
}

// Index returns the position of the field in send order, -1 if unknown.
func Index(name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// IsReserved reports whether name is a parameter that data may not set.
func IsReserved(name string) bool {
	for _, r := range reserved {
		if r == name {
			return true
		}
	}
	return false
}

// Reserved returns the names data may not set. The slice is a copy.
func Reserved() []string {
	return append([]string(nil), reserved...)
}

// Names returns every field name in send order.
func Names() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}

// MaxIntegerDigits is the most digits PlainInteger accepts: any such id
// fits an int64 on any server.
const MaxIntegerDigits = 18

// PlainInteger reports whether s is an Integer value written the one plain
// way: "0", or at most MaxIntegerDigits digits without a leading zero. No
// sign, decimal point, exponent or spaces, so that "010" and "1.9" are
// refused rather than read as 8 or 1.
func PlainInteger(s string) bool {
	if len(s) > MaxIntegerDigits || (len(s) > 1 && s[0] == '0') {
		return false
	}
	return Digits(s)
}

// Digits reports whether s is one or more ASCII digits, leading zeros
// allowed (as in a PIN or a mailbox number).
func Digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Closest returns the field name nearest to name (case-insensitive edit
// distance), for "did you mean" messages; "" when nothing is close.
func Closest(name string) string {
	return Nearest(name, Names())
}

// Nearest returns the entry of names nearest to name by edit distance
// (ASCII case folded), or "" when none is within max(2, len(name)/3)
// edits: a did-you-mean for any list of names (fields, config keys).
func Nearest(name string, names []string) string {
	lower := toLower(name)
	best, bestD := "", max(2, len(name)/3)+1
	for _, n := range names {
		if d := distance(lower, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// toLower folds ASCII only: field names are ASCII, and a byte-wise fold
// keeps distance's byte offsets meaningful for any input.
func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// distance is the Levenshtein distance between a and b (bytes).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
