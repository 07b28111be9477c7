package simulator

import (
	"fmt"
	"github.com/ensbulk/ensbulk/batch/schema"
	"slices"
	"strconv"
	"strings"
)

// The vendor's pages leave some rules open: the PIN and e-mail formats,
// which time zones exist, the order of the checks, whether get and list
// show the PIN, which columns read back as NULL. The simulator's answers
// to those are its own policy, each a Config field (and a flag of
// ensbulk sim) so that a rehearsal can play the switch it stands in for.

// DefaultVersion is the Enswitch version the simulator plays unless
// Config.VersionCompat says otherwise.
const DefaultVersion = "4.4"

// tokensFrom is the first version whose user/login issues tokens.
var tokensFrom = version{4, 1}

// version is an Enswitch release, major.minor.
type version struct{ major, minor int }

func parseVersion(s string) (version, error) {
	if s == "" {
		s = DefaultVersion
	}
	a, b, ok := strings.Cut(s, ".")
	maj, err1 := strconv.Atoi(a)
	mnr, err2 := strconv.Atoi(b)
	v := version{maj, mnr}
	if !ok || err1 != nil || err2 != nil || mnr < 0 || v.less(version{3, 0}) || (version{4, 4}).less(v) {
		return version{}, fmt.Errorf("version %q: want one from 3.0 to 4.4, such as 3.13 or 4.4", s)
	}
	return v, nil
}

// hasLogin reports whether the version has the function user/login
// (Enswitch 3.13 and later; before, it is an unknown function).
func (v version) hasLogin() bool { return !v.less(version{3, 13}) }

// hasTokens reports whether the version's user/login issues tokens (4.1
// and later; from 3.13 to 4.0 it answers a login without one).
func (v version) hasTokens() bool { return !v.less(tokensFrom) }

// hasTwoFactor reports whether the version's user/login answers 202 to a
// user with two-factor login (4.4).
func (v version) hasTwoFactor() bool { return !v.less(version{4, 4}) }

func (v version) less(w version) bool {
	return v.major < w.major || v.major == w.major && v.minor < w.minor
}

func (v version) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

// PINDisplay is how mailboxes/get and mailboxes/list show a PIN.
type PINDisplay string

// PIN displays.
const (
	PINMasked PINDisplay = "masked" // "****" when a PIN is set (the default)
	PINPlain  PINDisplay = "plain"  // the PIN itself
	PINAbsent PINDisplay = "absent" // no pin column at all
)

// Email checks (Config.EmailCheck).
const (
	EmailAddress = "address" // a bare address as net/mail reads it (the default)
	EmailAny     = "any"     // any text
)

// Time zone checks (Config.Timezones).
const (
	TimezonesIANA = "iana" // a name of the IANA database, or "" (the default)
	TimezonesAny  = "any"  // any text
)

// DefaultCheckOrder is the order in which a call's checks run: the
// codes of the first failing check answer.
func DefaultCheckOrder() []string {
	return []string{codeUnauthorized, codeRole, codePlan, codeInvalid, codeNotFound}
}

// DefaultNullColumns are the columns that read back as null when empty:
// the schema's nullable fields (optional numbers and addresses, which a
// database keeps as NULL).
func DefaultNullColumns() []string {
	return schema.Nullables()
}

// ParseCheckOrder reads a check order such as "401,402,403,400,404".
func ParseCheckOrder(s string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(c))
	}
	return out, checkOrder(out)
}

// checkOrder accepts 401 first, then 402, 403, 400 and 404 each once, in
// any order: credentials decide who is asking, so nothing can precede
// them.
func checkOrder(order []string) error {
	want := DefaultCheckOrder()
	sorted := slices.Clone(order)
	slices.Sort(sorted)
	ws := slices.Clone(want)
	slices.Sort(ws)
	if len(order) == 0 || order[0] != codeUnauthorized || !slices.Equal(sorted, ws) {
		return fmt.Errorf("check order %q: want 401 first, then 402, 403, 400 and 404 each once, in any order", strings.Join(order, ","))
	}
	return nil
}

// ParsePINDigits reads a PIN length range such as "4-10".
func ParsePINDigits(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > 32 {
		return 0, 0, fmt.Errorf("PIN digits %q: want MIN-MAX, such as 4-10", s)
	}
	return lo, hi, nil
}

// policy is a Config's policy, checked and with defaults filled in.
type policy struct {
	version     version
	pinMin      int
	pinMax      int
	email       string
	timezones   string
	order       []string
	pinDisplay  PINDisplay
	nullColumns map[string]bool
	invented    ruleSet
}

func defaultPolicy() policy {
	p, _ := newPolicy(&Config{})
	return p
}

// newPolicy checks cfg's policy settings, in the order of Config's
// fields, and fills in the defaults.
func newPolicy(cfg *Config) (policy, error) {
	p := policy{pinMin: 4, pinMax: 10, email: EmailAddress, timezones: TimezonesIANA,
		order: DefaultCheckOrder(), pinDisplay: PINMasked, nullColumns: map[string]bool{}}
	var err error
	if p.version, err = parseVersion(cfg.VersionCompat); err != nil {
		return p, err
	}
	if p.invented, err = newRuleSet(cfg.NoInvented); err != nil {
		return p, err
	}
	if cfg.PINMinDigits != 0 || cfg.PINMaxDigits != 0 {
		p.pinMin, p.pinMax = cfg.PINMinDigits, cfg.PINMaxDigits
		if p.pinMin < 1 || p.pinMax < p.pinMin || p.pinMax > 32 {
			return p, fmt.Errorf("PIN digits %d-%d: want 1 <= min <= max <= 32", p.pinMin, p.pinMax)
		}
	}
	if p.email, err = choose("e-mail check", cfg.EmailCheck, p.email, EmailAddress, EmailAny); err != nil {
		return p, err
	}
	if p.timezones, err = choose("time zones", cfg.Timezones, p.timezones, TimezonesIANA, TimezonesAny); err != nil {
		return p, err
	}
	if cfg.CheckOrder != nil {
		if err := checkOrder(cfg.CheckOrder); err != nil {
			return p, err
		}
		p.order = slices.Clone(cfg.CheckOrder)
	}
	if p.pinDisplay, err = choose("PIN display", cfg.PINDisplay, p.pinDisplay, PINMasked, PINPlain, PINAbsent); err != nil {
		return p, err
	}
	if p.nullColumns, err = nullColumns(cfg.NullColumns); err != nil {
		return p, err
	}
	return p, nil
}

// choose returns the setting got, or def when got is "", and an error
// naming the setting (what) when got is none of allowed.
func choose[T ~string](what string, got, def T, allowed ...T) (T, error) {
	if got == "" {
		return def, nil
	}
	if slices.Contains(allowed, got) {
		return got, nil
	}
	want := make([]string, len(allowed))
	for i, a := range allowed {
		want[i] = string(a)
	}
	last := len(want) - 1
	return def, fmt.Errorf("%s %q: want %s or %s", what, got, strings.Join(want[:last], ", "), want[last])
}

// nullColumns checks the columns that read back as null (nil means
// DefaultNullColumns()): fields of a mailbox other than its keys and
// secrets.
func nullColumns(cols []string) (map[string]bool, error) {
	if cols == nil {
		cols = DefaultNullColumns()
	}
	out := make(map[string]bool, len(cols))
	for _, c := range cols {
		if c == "mailbox" || c == "customer" || schema.IsSecret(c) || schema.Index(c) < 0 {
			return out, fmt.Errorf("null column %q: want a mailbox field other than mailbox, customer and %s", c, strings.Join(schema.Secrets(), ", "))
		}
		out[c] = true
	}
	return out, nil
}
