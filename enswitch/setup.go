package enswitch

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// Setup names a mistake in the connection settings that the failure of a
// request proves, as opposed to a fault of one row or a passing glitch.
// A caller that checks the settings before a run (one login or one read)
// stops on these at once instead of retrying them row after row.
type Setup int

// The setup mistakes a failed request can show.
const (
	// SetupNone: the failure proves no mistake in the settings (a row's
	// fault, a timeout, a reset, a 5xx: these may pass).
	SetupNone Setup = iota
	// SetupRefused: the host refused the connection; nothing listens on
	// that port (a wrong port, or a server that is down).
	SetupRefused
	// SetupUnknownHost: the host name does not resolve (not found, or
	// no answer from the resolver: either way no request can go).
	SetupUnknownHost
	// SetupHTTPSOnHTTP: an https:// URL whose port answers plain HTTP.
	SetupHTTPSOnHTTP
	// SetupHTTPOnHTTPS: an http:// URL whose port speaks TLS.
	SetupHTTPOnHTTPS
	// SetupWrongPath: the API path answered HTTP 404 with no Enswitch
	// envelope: no API function lives there.
	SetupWrongPath
	// SetupNotAPI: HTTP 200 with a body that is not JSON at all (an HTML
	// page: a login portal, a web front end), so not an Enswitch API.
	SetupNotAPI
)

// setupCause marks a *batch.Error with the setup mistake it shows. It is
// kept in the error's Err, where errors.As finds it; its text is empty so
// that the error's message, already complete, is not repeated.
type setupCause struct {
	setup Setup
	ctx   error // the caller's context error, when done (see ctxOnly)
}

func (c *setupCause) Error() string {
	if c.ctx != nil {
		return c.ctx.Error()
	}
	return ""
}

func (c *setupCause) Unwrap() error { return c.ctx }

// SetupOf returns the setup mistake err proves, SetupNone when it proves
// none.
func SetupOf(err error) Setup {
	var c *setupCause
	if errors.As(err, &c) {
		return c.setup
	}
	return SetupNone
}

// transportSetup says which setup mistake a failed round trip shows.
func transportSetup(err error) Setup {
	var dnsErr *net.DNSError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return SetupRefused
	case errors.As(err, &dnsErr):
		return SetupUnknownHost
	case errors.Is(err, http.ErrSchemeMismatch):
		return SetupHTTPSOnHTTP
	case errors.As(err, &recErr) && bytes.HasPrefix(recErr.RecordHeader[:], []byte("HTTP")):
		return SetupHTTPSOnHTTP
	}
	return SetupNone
}

// statusSetup says which setup mistake an answer with HTTP status status
// and body body (not an Enswitch envelope) shows; scheme is the URL's.
func statusSetup(scheme string, status int, body []byte) Setup {
	switch {
	case status == http.StatusNotFound:
		return SetupWrongPath
	case status == http.StatusBadRequest && scheme == "http" && bytes.Contains(bytes.ToLower(body), []byte("https")):
		// What TLS servers answer to plain HTTP: Go's "Client sent an
		// HTTP request to an HTTPS server.", nginx's "The plain HTTP
		// request was sent to HTTPS port".
		return SetupHTTPOnHTTPS
	case status == http.StatusOK && notJSON(body):
		return SetupNotAPI
	}
	return SetupNone
}

// notJSON reports whether body cannot be JSON: not empty, and starting
// with something other than an object or array. A truncated envelope
// still starts with '{' and is a glitch, not a wrong server.
func notJSON(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n\ufeff")
	return len(b) > 0 && b[0] != '{' && b[0] != '['
}

// withSetup returns a *batch.Error's Err marked with s (unchanged for
// SetupNone).
func withSetup(s Setup, ctxErr error) error {
	if s == SetupNone {
		return ctxErr
	}
	return &setupCause{setup: s, ctx: ctxErr}
}

// Host returns the host and port the client talks to, for messages.
func (c *Client) Host() string { return c.base.Host }

// Scheme returns "http" or "https".
func (c *Client) Scheme() string { return c.base.Scheme }

// hasScheme reports whether a URL as typed names its scheme: without
// one, "127.0.0.1:8080" parses as a path and "switch:8080" as a scheme.
func hasScheme(u string) bool {
	return strings.Contains(u, "://")
}
