// Package schema is the single source of facts about the parameters of
// the Enswitch API function mailboxes/update: their names in send order,
// their types, what an empty value means, which are secret, which a switch
// may hold as NULL, the version that has them, the simulator's default and
// how it makes a plausible value, the names data may never set, and the
// plain-integer rule. The reader, the engine, the client, the reports and
// the simulator take them from here, so a field is added or changed with
// one entry in this file (and its line in the README).
//
// It imports only the standard library, so that a package that needs the
// facts (the engine, the reader) does not pull in the HTTP client.
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
	// NewerValues are Enum values only servers from NewerSince accept.
	NewerValues []string
	// NewerSince is the first Enswitch version that accepts NewerValues.
	NewerSince string
	// EmptyMeans says what "" does for this field, "" when it is not allowed.
	EmptyMeans string
	// EmptyKeeps is set when "" leaves the current value as it is (the
	// field cannot be cleared): such a "" is no change, and is not sent.
	EmptyKeeps bool
	Required   bool
	// Secret fields' values never reach reports, logs, hashes in reports
	// or terminals: only that they are set or changed. A server may show
	// them masked, so a value read is trusted only in the field's own form
	// (see Plain).
	Secret bool
	// Nullable fields are the ones a switch keeps as NULL when they are
	// empty (optional numbers and addresses), and so the simulator's
	// default null columns. Whether a given switch does is not documented;
	// the simulator can play NULL for other fields too (--null-columns).
	Nullable bool
	// Since is the oldest Enswitch version known to have the field.
	Since string
	// Default is the value of a new mailbox: what the simulator fills in
	// for a field a state file leaves out.
	Default string
	// Gen says how a simulator makes a plausible value of the field.
	Gen Gen
}

// GenKind is the shape of the values a generator makes for a field.
type GenKind int

// Generator kinds. Each says which random draws it takes, so that a seed
// gives the same world on every machine (see Gen).
const (
	// GenDefault always gives the field's Default and draws nothing.
	GenDefault GenKind = iota
	// GenKey is a key the world gives (mailbox number, customer).
	GenKey
	// GenBit draws "0" or "1".
	GenBit
	// GenPick draws one of Choices (repeats weigh more), or of the
	// field's Values when Choices is nil.
	GenPick
	// GenLabel draws one of Choices and appends " " and the mailbox
	// number. Labels are drawn before every other field.
	GenLabel
	// GenDigits is Prefix and Digits random digits; when MaxDigits is
	// larger, the count is first drawn from Digits..MaxDigits.
	GenDigits
	// GenNumber is From plus a draw below Span, in decimal.
	GenNumber
	// GenTemplate is Template with "{mailbox}" replaced by the mailbox
	// number; it draws nothing.
	GenTemplate
)

// Gen is a hint for making a plausible value of a field. Fields are
// generated in send order, labels first; before its value a field with
// SetOneIn or DefaultOneIn draws once below that number, and gets its
// Default when the draw says so.
type Gen struct {
	Kind GenKind
	// Choices are what GenPick and GenLabel draw from.
	Choices []string
	// Prefix, Digits and MaxDigits shape GenDigits.
	Prefix            string
	Digits, MaxDigits int
	// From and Span shape GenNumber.
	From, Span int
	// Template is GenTemplate's text.
	Template string
	// SetOneIn > 1: only one value in SetOneIn is generated, the others
	// are Default.
	SetOneIn int
	// DefaultOneIn > 1: one value in DefaultOneIn is Default, the others
	// are generated.
	DefaultOneIn int
	// UnlessEmpty names a field generated earlier: when that one is
	// empty, this one is Default and draws nothing (no destination
	// number without a destination type).
	UnlessEmpty string
}

// documented is the oldest version of the vendor's JSON API pages read
// (3.13 to 4.4), all of which list every field below: which version added
// a field is not documented, so Since says "at least since 3.13".
const documented = "3.13"

// PIN is the mailbox's PIN parameter, for the few rules that are the
// PIN's own rather than a secret's (its length setting in the simulator).
// Secrecy and "" keeping the value are facts of the field: IsSecret and
// EmptyKeeps.
const PIN = "pin"

// fields is the schema, in the order parameters are sent and reported.
var fields = []Field{
	{Name: "mailbox", Type: String, Required: true, Since: documented, Gen: Gen{Kind: GenKey}},
	{Name: "customer", Type: Integer, Since: documented, Gen: Gen{Kind: GenKey}},
	{Name: "callerid", Type: String, EmptyMeans: "unknown caller ID", Since: documented,
		Gen: Gen{Kind: GenDigits, Prefix: "+4420", Digits: 7, DefaultOneIn: 3}},
	{Name: "description", Type: String, EmptyMeans: "no description", Since: documented,
		Gen: Gen{Kind: GenLabel, Choices: []string{"Reception", "Front desk", "Dr. Hansen", "Dr. Okafor", "Billing",
			"Night porter", "Housekeeping", "Sales", "Support", "Conference room", "Bar", "Spa"}}},
	{Name: "dtype", Type: Enum, EmptyMeans: "no destination", Since: documented,
		Gen: Gen{Kind: GenPick, Choices: []string{"", "", "mailbox", "phone", "queue"}}},
	{Name: "dnumber", Type: String, EmptyMeans: "no destination", Nullable: true, Since: documented,
		Gen: Gen{Kind: GenNumber, From: 2000, Span: 1000, UnlessEmpty: "dtype"}},
	{Name: "envelope", Type: Bool01, Since: documented, Default: "0", Gen: Gen{Kind: GenBit}},
	{Name: "notify_dnumber", Type: String, EmptyMeans: "no notification calls", Nullable: true, Since: documented,
		Gen: Gen{Kind: GenDigits, Prefix: "+447700", Digits: 6, SetOneIn: 4}},
	{Name: "notify_email", Type: Enum, Values: []string{"owner", "owner_wav", ""}, EmptyMeans: "no notification email", Since: documented,
		Gen: Gen{Kind: GenPick}},
	{Name: "notify_for", Type: Enum, Values: []string{"voicemail", "fax", "voicemail_fax", ""}, NewerValues: []string{"all", "text"}, NewerSince: "4.2",
		EmptyMeans: "nothing", Since: documented, Gen: Gen{Kind: GenPick}},
	{Name: "notify_ltype", Type: Enum, Values: []string{"voicemailbox", "voicemailboxpin", "voicemaillogin"}, Since: documented,
		Default: "voicemailbox", Gen: Gen{Kind: GenPick}},
	{Name: "notify_message", Type: Enum, Values: []string{"owner", ""}, EmptyMeans: "no message notification", Since: documented,
		Gen: Gen{Kind: GenPick}},
	{Name: "notify_only", Type: Bool01, Since: documented, Default: "0", Gen: Gen{Kind: GenBit}},
	{Name: "owner", Type: Integer, Since: documented, Default: "0", Gen: Gen{Kind: GenNumber, From: 5000, Span: 5000, SetOneIn: 2}},
	{Name: "pager", Type: String, EmptyMeans: "no secondary email", Nullable: true, Since: documented,
		Gen: Gen{Kind: GenTemplate, Template: "vm-{mailbox}@example.net", SetOneIn: 3}},
	{Name: "pager_attach", Type: Bool01, Since: documented, Default: "0", Gen: Gen{Kind: GenBit}},
	{Name: "panel", Type: Bool01, Since: documented, Default: "0", Gen: Gen{Kind: GenBit}},
	// A new mailbox's PIN is not documented; the simulator's is none ("").
	{Name: PIN, Type: String, EmptyMeans: "keep the current PIN", EmptyKeeps: true, Secret: true, Since: documented,
		Gen: Gen{Kind: GenDigits, Digits: 4, MaxDigits: 6}},
	{Name: "play", Type: Enum, Values: []string{"oldest", "newest"}, Since: documented, Default: "oldest", Gen: Gen{Kind: GenPick}},
	{Name: "saycid", Type: Bool01, Since: documented, Default: "0", Gen: Gen{Kind: GenBit}},
	{Name: "sayduration", Type: Bool01, Since: documented, Default: "0", Gen: Gen{Kind: GenBit}},
	{Name: "temporary_active", Type: Bool01, Since: documented, Default: "0", Gen: Gen{Kind: GenBit}},
	// What "" does to a timezone is not documented, so it is not refused
	// here: it is sent, and the server judges it like any other zone.
	{Name: "timezone", Type: String, EmptyMeans: "not documented: the server decides", Since: documented, Default: "Europe/London",
		Gen: Gen{Kind: GenPick, Choices: []string{"Europe/London", "Europe/Oslo", "America/New_York", "Europe/Berlin", "Australia/Sydney"}}},
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

// IsSecret reports whether name is a field whose values must never be
// shown (reports, logs, terminals, report hashes). Names are exact: a
// caller that accepts case variants folds them first.
func IsSecret(name string) bool {
	for i := range fields {
		if fields[i].Secret && fields[i].Name == name {
			return true
		}
	}
	return false
}

// Secrets returns the names of the secret fields in send order.
func Secrets() []string {
	var out []string
	for _, f := range fields {
		if f.Secret {
			out = append(out, f.Name)
		}
	}
	return out
}

// EmptyKeeps reports whether "" for field name leaves the current value
// (so it is no change, and is not sent).
func EmptyKeeps(name string) bool {
	for i := range fields {
		if fields[i].EmptyKeeps && fields[i].Name == name {
			return true
		}
	}
	return false
}

// Nullables returns the names of the fields a switch keeps as NULL when
// empty, in send order.
func Nullables() []string {
	var out []string
	for _, f := range fields {
		if f.Nullable {
			out = append(out, f.Name)
		}
	}
	return out
}

// Plain reports whether v, as mailboxes/get or list wrote field name, is
// the value itself. Every value of a field that is not secret is; a
// server may show a secret masked ("****") or empty, so only a value in
// the secret's own form counts (a PIN's digits). A secret of no known
// form is never taken as plain: restoring a mask would be wrong.
func Plain(name, v string) bool {
	f, ok := Lookup(name)
	if !ok || !f.Secret {
		return true
	}
	if f.Gen.Kind == GenDigits && f.Gen.Prefix == "" {
		return Digits(v)
	}
	return false
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
		if d := Distance(lower, n); d < bestD {
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

// Distance is the Levenshtein distance between a and b (bytes): what
// the did-you-mean of a column, a key or a flag measures.
func Distance(a, b string) int {
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
