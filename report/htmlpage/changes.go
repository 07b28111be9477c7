package htmlpage

import (
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/enswitch/schema"
)

// change is one field of a record's changes column.
type change struct {
	Field    string
	Old, New string
	Known    bool // the read showed the old value ("?" otherwise)
	Secret   bool // "pin: changed": no values, ever
}

// cut shortens the values to n bytes.
func (c change) cut(n int) change {
	c.Field, c.Old, c.New = cut(c.Field, n), cut(c.Old, n), cut(c.New, n)
	return c
}

// parseChanges reads a changes cell as report.FormatChanges writes it:
// "field: old -> new" joined by "; ", a value in Go quotes when it is
// empty or could be misread, "?" for an old value the read did not show,
// "field: changed" for a secret. ok is false for anything else. The pin
// field (every secret of the schema) never gives values, whatever the
// cell holds.
func parseChanges(s string) (cs []change, ok bool) {
	for s != "" {
		field, rest, found := strings.Cut(s, ": ")
		if !found || field == "" || strings.ContainsAny(field, " ;") {
			return nil, false
		}
		c := change{Field: field}
		if after, isSecret := strings.CutPrefix(rest, "changed"); isSecret && (after == "" || strings.HasPrefix(after, "; ")) {
			c.Secret = true
			s = strings.TrimPrefix(after, "; ")
			cs = append(cs, c)
			continue
		}
		var old string
		if old, rest, ok = value(rest, " -> "); !ok || !strings.HasPrefix(rest, " -> ") {
			return nil, false
		}
		rest = rest[len(" -> "):]
		if c.Old, c.Known, ok = oldValue(old); !ok {
			return nil, false
		}
		if c.New, rest, ok = value(rest, "; "); !ok {
			return nil, false
		}
		if c.New, ok = unquote(c.New); !ok {
			return nil, false
		}
		if rest != "" {
			if !strings.HasPrefix(rest, "; ") {
				return nil, false
			}
			rest = rest[2:]
			if rest == "" {
				return nil, false
			}
		}
		if schema.IsSecret(strings.ToLower(field)) {
			c = change{Field: field, Secret: true}
		}
		cs = append(cs, c)
		s = rest
	}
	return cs, true
}

// value splits s into its first value, as written (quotes and all), and
// what follows it: a quoted value ends at its closing quote, a bare one
// at sep or the end.
func value(s, sep string) (v, rest string, ok bool) {
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", "", false
		}
		return q, s[len(q):], true
	}
	v, rest = s, ""
	if i := strings.Index(s, sep); i >= 0 {
		v, rest = s[:i], s[i:]
	}
	// report.ShowValue quotes a value that holds any of these.
	if strings.ContainsAny(v, ";\"\r\n\t") || strings.Contains(v, "->") {
		return "", "", false
	}
	return v, rest, true
}

// oldValue reads an old value: "?" is one the read did not show.
func oldValue(v string) (old string, known, ok bool) {
	if v == "?" {
		return "", false, true
	}
	old, ok = unquote(v)
	return old, true, ok
}

func unquote(v string) (string, bool) {
	if strings.HasPrefix(v, `"`) {
		u, err := strconv.Unquote(v)
		return u, err == nil
	}
	return v, true
}
