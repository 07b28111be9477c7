package enswitch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

// transportError turns a failed round trip into a Transient error (or
// Fatal for TLS verification) whose text never holds the password.
func (c *Client) transportError(ctx context.Context, err error, sec *secrets) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the url.Error repeats the URL; ours carries no secret, but keep it short
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return &batch.Error{Kind: batch.KindFatal, Message: "TLS certificate not trusted (use " + c.settings.CAFile + " with the server's CA): " + sec.clean(err.Error(), MaxMessageLen)}
	}
	msg := sec.clean(err.Error(), MaxMessageLen)
	// The caller's deadline is a timeout too: the engine sets one per
	// request, and whichever of it and http.Client.Timeout fires first,
	// the report must say "timeout", not "context deadline exceeded".
	// Only a cancelled caller (a signal) is not one.
	if !errors.Is(ctx.Err(), context.Canceled) && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)) {
		msg = "timeout: " + msg
	}
	return &batch.Error{Kind: batch.KindTransient, Message: msg, Err: withSetup(transportSetup(err), ctxOnly(ctx, err))}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ctxOnly keeps the caller's context error reachable with errors.Is (the
// engine tells a cancelled run from a slow server that way) without keeping
// other wrapped errors whose text we have already redacted. Only when the
// caller's ctx is done: http.Client.Timeout errors also match
// context.DeadlineExceeded, and a slow server must not look like the end
// of the caller's deadline.
func ctxOnly(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return ctx.Err()
}

// redact removes the password from s in every form a server might echo it
// in.
func redact(s, password string) string {
	if password == "" {
		return s
	}
	return (&secrets{res: []*secretPattern{secretRE(password)}}).redact(s)
}

// snippet returns the first bytes of a body, printable, on one line, with
// the password (in any form redact knows) removed in case a server echoes it.
func snippet(b []byte, password string) string {
	var sec secrets
	if re := secretRE(password); re != nil {
		sec.res = append(sec.res, re)
	}
	return snippetOf(b, &sec)
}

func snippetOf(b []byte, sec *secrets) string {
	const n = 120
	s, _ := sec.redactCut(string(b), 4*n)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	if s == "" {
		return "(empty body)"
	}
	return strconv.Quote(s)
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
