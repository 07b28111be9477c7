package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
)

// ParseChanges reads a changes cell back: the exact inverse of
// FormatChanges for every value (a value that could be misread is
// written in Go quotes, which read back byte for byte). What it cannot
// give back is what FormatChanges never writes: a secret's values (the
// PIN: Secret, no Old or New) and an old value the read did not show
// (Known false). A null old value was written as "" and reads back as
// "" (the engine compares the two as equal). An error names what is not
// as FormatChanges writes it.
func ParseChanges(s string) ([]batch.Change, error) {
	var cs []batch.Change
	for rest := s; rest != ""; {
		// A field name is written as it is: it may hold anything but the
		// separators around it (ensbulk's own are schema names; the HTML
		// page reads a report's other names too, quotes and all).
		field, after, found := strings.Cut(rest, ": ")
		if !found || field == "" || strings.ContainsAny(field, " ;") {
			return nil, fmt.Errorf("changes %q: no field name at %q", s, firstN(rest, 40))
		}
		rest = after
		if tail, ok := strings.CutPrefix(rest, "changed"); ok && (tail == "" || strings.HasPrefix(tail, "; ")) {
			cs = append(cs, batch.Change{Field: field, Secret: true})
			rest = strings.TrimPrefix(tail, "; ")
			continue
		}
		c := batch.Change{Field: field}
		var unknown bool
		var err error
		if c.Old, unknown, rest, err = showed(rest, " -> "); err != nil {
			return nil, fmt.Errorf("changes %q: %s: old value: %w", s, field, err)
		}
		c.Known = !unknown
		if !strings.HasPrefix(rest, " -> ") {
			return nil, fmt.Errorf("changes %q: %s: no \" -> \" after the old value", s, field)
		}
		if c.New, unknown, rest, err = showed(rest[len(" -> "):], "; "); err != nil || unknown {
			return nil, fmt.Errorf("changes %q: %s: new value: %v", s, field, cmpErr(err, "? is no new value"))
		}
		if rest != "" {
			// showed stops a value at "; " or the end
			if rest = rest[len("; "):]; rest == "" {
				return nil, fmt.Errorf("changes %q: ends with a separator", s)
			}
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func cmpErr(err error, otherwise string) error {
	if err != nil {
		return err
	}
	return errors.New(otherwise)
}

// showed reads one value as ShowValue writes it, up to sep or the end:
// quoted, or bare; unknown is the bare "?" of an old value the read did
// not show (a value "?" is quoted).
func showed(s, sep string) (v string, unknown bool, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", false, "", fmt.Errorf("bad quotes: %w", err)
		}
		u, err := strconv.Unquote(q)
		if err != nil {
			return "", false, "", err
		}
		if rest = s[len(q):]; rest != "" && !strings.HasPrefix(rest, sep) {
			return "", false, "", errors.New("text after a quoted value")
		}
		return u, false, rest, nil
	}
	v, rest = s, ""
	if i := strings.Index(s, sep); i >= 0 {
		v, rest = s[:i], s[i:]
	}
	if v == "?" {
		return "", true, rest, nil
	}
	if ShowValue(v) != v {
		return "", false, "", fmt.Errorf("%q would have been quoted", v)
	}
	return v, false, rest, nil
}
