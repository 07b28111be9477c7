package simulator

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones are checked the same on machines without a zoneinfo database
	"unicode"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// DefaultDTypes returns the dtype values a server accepts unless
// Config.DTypes says otherwise.
// The vendor documents hangup (the default of mailboxes/create), forward,
// peer, phone and sipuri; "" and the others are older simulator values
// that generated worlds and state files hold.
func DefaultDTypes() []string {
	return []string{"", "hangup", "forward", "peer", "phone", "sipuri", "mailbox", "queue", "voicemail", "ivr"}
}

// maxString bounds free-text values, as a database column would.
const maxString = 255

// rules are the value rules of one server configuration.
type rules struct {
	// enums holds the accepted values of each Enum field; a field with a
	// nil set accepts any string (dtype in stored state).
	enums map[string][]string
	// newer holds values only a newer server accepts, to say so.
	newer map[string][]string
	pol   policy
}

// requestRules are the rules a server applies to mailboxes/update.
func requestRules(pol policy, dtypes []string) *rules {
	r := &rules{enums: map[string][]string{}, newer: map[string][]string{}, pol: pol}
	for _, f := range schema.Fields() {
		if f.Type != schema.Enum {
			continue
		}
		vals := append([]string(nil), f.Values...)
		// NewerSince "" means every server; TestSchemaFields checks
		// that the versions the schema gives are ones the simulator plays.
		var since version
		if f.NewerSince != "" {
			since, _ = parseVersion(f.NewerSince)
		}
		if !pol.version.less(since) {
			vals = append(vals, f.NewerValues...)
		} else if len(f.NewerValues) > 0 {
			r.newer[f.Name] = f.NewerValues
		}
		r.enums[f.Name] = vals
	}
	r.enums["dtype"] = append([]string{}, dtypes...)
	return r
}

// storedRules are the looser rules for values in a state file: newer
// enum values are fine, dtype is free, and what pol lets an update store
// passes too (a state dumped by a server with a looser policy loads back
// into it).
func storedRules(pol policy) *rules {
	def := defaultPolicy()
	def.invented = pol.invented // what such a server stores, it loads back
	def.pinMin, def.pinMax = min(def.pinMin, pol.pinMin), max(def.pinMax, pol.pinMax)
	if pol.email == EmailAny {
		def.email = EmailAny
	}
	if pol.timezones == TimezonesAny {
		def.timezones = TimezonesAny
	}
	r := requestRules(def, nil)
	r.enums["dtype"] = nil
	return r
}

// check returns what is wrong with v as a value of f, "" when nothing.
// Messages never quote a PIN. A few fields have rules of their own; the
// others are checked by type.
func (r *rules) check(f schema.Field, v string) string {
	switch f.Name {
	case "mailbox":
		return r.mailbox(v)
	case schema.PIN:
		return r.pin(v)
	case "pager":
		return r.pager(v)
	case "timezone":
		return r.timezone(v)
	}
	switch f.Type {
	case schema.Bool01:
		return bool01(v)
	case schema.Integer:
		return plainInteger(v)
	case schema.Enum:
		return r.enum(f, v)
	}
	return r.text(v, maxString)
}

// mailbox checks a mailbox number: required, and text of at most 64
// characters.
func (r *rules) mailbox(v string) string {
	if v == "" {
		return "required"
	}
	return r.text(v, 64)
}

// pin checks a PIN: digits within the policy's length bounds, or "" to
// keep the current one. The message never quotes the value.
func (r *rules) pin(v string) string {
	if v == "" {
		return ""
	}
	if len(v) < r.pol.pinMin || len(v) > r.pol.pinMax || !schema.Digits(v) {
		return fmt.Sprintf(`must be %d to %d digits ("" keeps the current PIN)`, r.pol.pinMin, r.pol.pinMax)
	}
	return ""
}

// pager checks the pager e-mail address: free text, and a bare address
// unless the policy is EmailAny.
func (r *rules) pager(v string) string {
	if v == "" {
		return ""
	}
	if msg := r.text(v, maxString); msg != "" || r.pol.email == EmailAny {
		return msg
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || a.Name != "" {
		return fmt.Sprintf(`must be an email address or "", got %s`, quote(v))
	}
	return ""
}

// timezone checks a time zone: an IANA name unless the policy is
// TimezonesAny. The pages say only "Time zone.": "" is the server's
// default.
func (r *rules) timezone(v string) string {
	if v == "" {
		return ""
	}
	if r.pol.timezones == TimezonesAny {
		return r.text(v, maxString)
	}
	if !validZone(v) {
		return fmt.Sprintf("unknown time zone %s (want an IANA name such as Europe/London)", quote(v))
	}
	return ""
}

func bool01(v string) string {
	if v != "0" && v != "1" {
		return fmt.Sprintf("must be 0 or 1, got %s", quote(v))
	}
	return ""
}

func plainInteger(v string) string {
	if !schema.PlainInteger(v) {
		return fmt.Sprintf("must be a decimal integer without sign or leading zeros, got %s", quote(v))
	}
	return ""
}

// enum checks a value of an Enum field against the set this server
// accepts, naming the version that would take a newer value; a field
// without a set takes any text.
func (r *rules) enum(f schema.Field, v string) string {
	set, ok := r.enums[f.Name]
	if !ok || set == nil {
		return r.text(v, maxString)
	}
	if slices.Contains(set, v) {
		return ""
	}
	if slices.Contains(r.newer[f.Name], v) {
		return fmt.Sprintf("%s is only accepted by newer servers (Enswitch %s and later); this one plays %s and takes %s",
			quote(v), f.NewerSince, r.pol.version, quoteList(set))
	}
	return fmt.Sprintf("must be one of %s, got %s", quoteList(set), quote(v))
}

// text checks free text: UTF-8 and no control characters (RuleTextCheck),
// at most max characters (RuleLengthCap).
func (r *rules) text(v string, max int) string {
	if r.pol.invented.on(RuleTextCheck) && !utf8.ValidString(v) {
		return "not valid UTF-8"
	}
	if r.pol.invented.on(RuleLengthCap) && utf8.RuneCountInString(v) > max {
		return fmt.Sprintf("longer than %d characters", max)
	}
	if r.pol.invented.on(RuleTextCheck) && strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "contains control characters"
	}
	return ""
}

// zones caches time zone lookups: LoadLocation reads the embedded zip.
var zones sync.Map // name -> bool

func validZone(name string) bool {
	if name == "" || name == "Local" || strings.ContainsAny(name, " \\") || !utf8.ValidString(name) {
		return false
	}
	if ok, hit := zones.Load(name); hit {
		return ok.(bool)
	}
	_, err := time.LoadLocation(name)
	zones.Store(name, err == nil)
	return err == nil
}

// quote quotes a value for a message, shortened.
func quote(v string) string {
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	return strconv.Quote(v)
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// params are a request's parameters in arrival order, repeats kept.
type params struct {
	names  []string // first-appearance order
	values map[string][]string
}

func (p *params) add(k, v string) {
	if p.values == nil {
		p.values = map[string][]string{}
	}
	if _, seen := p.values[k]; !seen {
		p.names = append(p.names, k)
	}
	p.values[k] = append(p.values[k], v)
}

// one returns the value of a parameter sent exactly once.
func (p *params) one(k string) (string, bool) {
	vs := p.values[k]
	if len(vs) != 1 {
		return "", false
	}
	return vs[0], true
}

func (p *params) has(k string) bool { return len(p.values[k]) > 0 }

// lastWins keeps only the last value of a parameter sent more than once:
// what most form parsers do, when RuleDuplicateParam is off.
func (p *params) lastWins() {
	for k, vs := range p.values {
		if len(vs) > 1 {
			p.values[k] = vs[len(vs)-1:]
		}
	}
}

// parseForm adds the pairs of a query string or form body. Both & and ;
// separate pairs, as CGI servers have always accepted (net/url refuses ;).
func (p *params) parseForm(s string) error {
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(part, "=")
		ku, err := url.QueryUnescape(k)
		if err != nil {
			return fmt.Errorf("malformed parameter name: %w", err)
		}
		vu, err := url.QueryUnescape(v)
		if err != nil {
			return fmt.Errorf("malformed value of %s: %w", quote(ku), err)
		}
		if ku == "" {
			continue
		}
		p.add(ku, vu)
	}
	return nil
}
