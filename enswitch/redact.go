package enswitch

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on the server's strings that reach reports, logs and terminals.
// A hostile or broken server decides their length; these decide what we
// keep of it.
const (
	MaxCodeLen    = 16
	MaxKeyLen     = 128
	MaxMessageLen = 1024
)

const redacted = "[REDACTED]"

// secretRE matches one secret in any encoding a server might echo it in.
//
// Enumerating the encodings Go would produce is not enough: a server
// percent-encodes with its own rules (PHP and Perl leave '/' alone, some
// escape everything, hex digits come in either case), HTML-escapes with
// named or numeric entities, JSON-escapes with \uXXXX or not. So each
// character of the secret may appear as itself, as the %XX of each of its
// UTF-8 bytes, as '+' for a space, as a JSON escape, or as an HTML
// entity, independently of its neighbours.
func secretRE(s string) *secretPattern {
	if s == "" {
		return nil
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteString("(?:")
		b.WriteString(regexp.QuoteMeta(string(r)))
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], r)
		b.WriteByte('|')
		for _, c := range buf[:n] {
			fmt.Fprintf(&b, "%%(?i:%02x)", c)
		}
		if r == ' ' {
			b.WriteString(`|\+`)
		}
		// JSON: \uXXXX (a surrogate pair beyond the BMP), and the short
		// escapes.
		if r > 0xFFFF {
			r1, r2 := utf16Pair(r)
			fmt.Fprintf(&b, `|\\u(?i:%04x)\\u(?i:%04x)`, r1, r2)
		} else {
			fmt.Fprintf(&b, `|\\u(?i:%04x)`, r)
		}
		switch r {
		case '"', '\\', '/':
			b.WriteString(`|\\` + regexp.QuoteMeta(string(r)))
		}
		// HTML: decimal or hex numeric references (leading zeros, the ';'
		// optional as browsers allow), and the named ones servers use.
		fmt.Fprintf(&b, `|&#0{0,8}%d;?|&#(?i:x)0{0,8}(?i:%x);?`, r, r)
		switch r {
		case '&':
			b.WriteString(`|&(?i:amp);?`)
		case '<':
			b.WriteString(`|&(?i:lt);?`)
		case '>':
			b.WriteString(`|&(?i:gt);?`)
		case '"':
			b.WriteString(`|&(?i:quot);?`)
		case '\'':
			b.WriteString(`|&(?i:apos);?`)
		}
		b.WriteByte(')')
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	return &secretPattern{re: regexp.MustCompile(b.String()), chars: utf8.RuneCountInString(s), last: last}
}

// secretPattern is one secret's pattern (secretRE), with what lets most
// texts (an "OK" answer) skip it without running it.
type secretPattern struct {
	re    *regexp.Regexp
	chars int  // characters in the secret; each is at least one byte of text
	last  rune // its last character (see mayHold)
}

// redact replaces the secret in text.
func (p *secretPattern) redact(text string) string {
	if len(text) < p.chars || !mayHold(text, p.last) {
		return text
	}
	return p.re.ReplaceAllLiteralString(text, redacted)
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

// secrets is what one call must never let through: the password, the
// token sent, the row's secret fields (its PIN).
type secrets struct {
	res []*secretPattern
	// fields are the values of the row's secret fields, each compiled
	// only when a text could hold it: most answers are "OK" and need no
	// pattern at all.
	fields []string
}

// maxEncoded bounds the length of one character of a secret in any
// encoding secretRE matches (&#x00000000 and 6 hex digits, ';').
const maxEncoded = 20

// clean is a server text as it may be kept: redacted, inert, at most
// limit bytes (and a note). A text far longer than limit is cut before
// it is searched, so that a hostile server's megabytes cost nothing; the
// cut keeps enough beyond limit that a secret starting inside the kept
// part is matched whole, and what may be the start of a secret at the
// end of the cut is dropped.
func (s *secrets) clean(text string, limit int) string {
	t, dropped := s.redactCut(text, limit)
	return inert(t, limit, dropped)
}

// redactCut is text redacted, cut to about limit bytes as clean says,
// and how many bytes were dropped.
func (s *secrets) redactCut(text string, limit int) (string, int) {
	if limit <= 0 || len(text) <= limit {
		return s.redact(text), 0
	}
	guard := s.longest() * maxEncoded
	if len(text) <= limit+guard {
		return s.redact(text), 0
	}
	dropped := len(text) - (limit + guard)
	t := s.redact(text[:limit+guard])
	if len(t) <= guard {
		return "", len(text)
	}
	return t[:len(t)-guard], dropped + guard
}

func (s *secrets) longest() int {
	n := 0
	for _, f := range s.fields {
		n = max(n, utf8.RuneCountInString(f))
	}
	for _, p := range s.res {
		n = max(n, p.chars)
	}
	return n
}

func (s *secrets) redact(text string) string {
	if text == "" {
		return text
	}
	for _, p := range s.res {
		text = p.redact(text)
	}
	for _, f := range s.fields {
		if last, _ := utf8.DecodeLastRuneInString(f); mayHold(text, last) {
			text = secretRE(f).redact(text)
		}
	}
	return text
}

// mayHold reports whether text could hold a secret whose last character
// is last, in some encoding: every encoding of it either has that
// character literally or uses one of the escape characters.
func mayHold(text string, last rune) bool {
	return strings.ContainsRune(text, last) || strings.ContainsAny(text, `%&\+`)
}

// Inert returns s as it may be shown on a terminal or written to a log or
// report: control characters (C0, C1, DEL) and the Unicode format
// characters that reorder or hide text are written as Go escapes, invalid
// UTF-8 as \xHH, and the result is cut to at most limit bytes (plus a note
// of how much was cut). limit <= 0 means no cut.
func Inert(s string, limit int) string { return inert(s, limit, 0) }

// inert is Inert for s, the start of a text dropped bytes longer.
func inert(s string, limit, dropped int) string {
	if dropped == 0 && printableASCII(s) && (limit <= 0 || len(s) <= limit) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		piece, n := s[i:i+1], 1 // printable ASCII, as it is
		if c := s[i]; c < 0x20 || c >= 0x7f {
			piece, n = inertRune(s[i:])
		}
		if limit > 0 && b.Len()+len(piece) > limit {
			fmt.Fprintf(&b, "...(%d more bytes)", len(s)-i+dropped)
			return b.String()
		}
		b.WriteString(piece)
		i += n
	}
	if dropped > 0 {
		fmt.Fprintf(&b, "...(%d more bytes)", dropped)
	}
	return b.String()
}

// printableASCII reports whether s holds only printable ASCII: nothing
// inert would change.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// inertRune returns the first rune of s as inert writes it, and its
// length in s.
func inertRune(s string) (string, int) {
	r, n := utf8.DecodeRuneInString(s)
	switch {
	case r == utf8.RuneError && n == 1:
		return fmt.Sprintf(`\x%02x`, s[0]), n
	case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
		q := strconv.QuoteRune(r)
		piece := q[1 : len(q)-1]
		if piece == string(r) { // QuoteRune keeps printable format characters
			piece = fmt.Sprintf(`\u%04x`, r)
		}
		return piece, n
	}
	return s[:n], n
}

// RedactURL returns u fit to be shown: without its userinfo, query and
// fragment. A string that does not parse as a URL is shown without
// anything that could be a userinfo.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err == nil {
		p.User = nil
		if at := strings.LastIndexByte(p.Opaque, '@'); at >= 0 {
			// "user:pass@host" parses as scheme "user", opaque "pass@host".
			p.Scheme, p.Opaque = "", p.Opaque[at+1:]
		}
		p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = "", false, "", ""
		return Inert(p.String(), 256)
	}
	s := u
	if i := strings.Index(s, "//"); i >= 0 {
		rest := s[i+2:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			s = s[:i+2] + rest[at+1:]
		}
	} else if at := strings.LastIndex(s, "@"); at >= 0 {
		s = s[at+1:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return Inert(s, 256)
}
