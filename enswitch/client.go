// Package enswitch is a client of the Enswitch JSON API: request encoding,
// envelope decoding and the table from response codes to error kinds. The
// mailbox fields are in the leaf package enswitch/schema.
package enswitch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch/schema"
)

// maxBody bounds how much of a response is read.
const maxBody = 4 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is the server's root, e.g. https://switch.example.com; the
	// client appends /api/json/FUNCTION/.
	BaseURL  string
	Username string
	// Password is sent in the POST body only and never appears in errors.
	Password string
	// HTTPClient carries timeouts, TLS settings and the connection pool;
	// NewHTTPClient makes a suitable one. Redirects must not be followed.
	HTTPClient *http.Client
	// Auth is how calls are authenticated; "" means AuthPassword.
	Auth AuthMode
	// Pace, when set, is waited on before each request the client sends
	// on its own (a login, the retry after a renewal), so that it takes a
	// slot of the run's pace. Unset, such a request rides in the slot of
	// the call that needed it.
	Pace func(context.Context) error
	// Notice, when set, is told once of a fallback from tokens to the
	// password.
	Notice func(string)
	// Now is the clock for token expiry; nil means time.Now.
	Now func() time.Time
}

// Client calls Enswitch API functions. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	username string
	password *secretPattern // the password in any encoding, for redaction
	hc       *http.Client
	auth     auth
	pace     func(context.Context) error
	notice   func(string)
	now      func() time.Time

	// What every call sends and needs, worked out once: the credentials
	// form-encoded, and the URL of mailboxes/update (nearly every call).
	authForm  string
	updateURL string
	bufs      sync.Pool // *bytes.Buffer for response bodies
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("no server URL")
	}
	// Errors quote the URL only through RedactURL: a user:pass@ in it
	// must not reach a terminal or log, even when refused.
	shown := RedactURL(cfg.BaseURL)
	if !hasScheme(cfg.BaseURL) {
		return nil, fmt.Errorf("server URL %q has no scheme: write it as https://%s (or http:// for a plain-HTTP server)", shown, strings.TrimLeft(shown, "/"))
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("server URL %q does not parse", shown)
	}
	if u.User != nil {
		return nil, errors.New("server URL must not carry credentials")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server URL %q: scheme must be http or https", shown)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("server URL %q has no host", shown)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("server URL %q must not have a query or fragment", shown)
	}
	if cfg.Username == "" {
		return nil, errors.New("no username")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = NewHTTPClient(HTTPOptions{})
	}
	mode := cfg.Auth
	if mode == "" {
		mode = AuthPassword
	}
	if _, err := ParseAuthMode(string(mode)); err != nil {
		return nil, err
	}
	c := &Client{base: u, username: cfg.Username, password: secretRE(cfg.Password), hc: hc,
		auth: auth{mode: mode}, pace: cfg.Pace, notice: cfg.Notice, now: cfg.Now}
	if c.now == nil {
		c.now = time.Now
	}
	c.authForm = "auth_password=" + url.QueryEscape(cfg.Password) + "&auth_username=" + url.QueryEscape(cfg.Username)
	c.updateURL = c.endpoint("mailboxes/update")
	c.bufs.New = func() any { return new(bytes.Buffer) }
	return c, nil
}

// endpoint is the URL of an API function.
func (c *Client) endpoint(function string) string {
	if function == "mailboxes/update" && c.updateURL != "" {
		return c.updateURL
	}
	// JoinPath cleans; keep the trailing slash the API documents.
	return c.base.JoinPath("api", "json", function).String() + "/"
}

// HTTPOptions configures NewHTTPClient.
type HTTPOptions struct {
	// Workers sizes the connection pool (idle connections kept per host).
	Workers int
	// Timeout bounds one whole request, body included. 0 means 30s.
	Timeout time.Duration
	// CAFile, when set, is a PEM bundle that replaces the system roots.
	CAPool *x509.CertPool
	// Insecure skips certificate verification. The caller must warn.
	Insecure bool
}

// NewHTTPClient returns an http.Client for Enswitch calls: bounded
// timeouts, a pool sized to the worker count, TLS verified unless told
// otherwise, and redirects never followed (the POST body carries the
// password; it must not be replayed to another URL).
func NewHTTPClient(o HTTPOptions) *http.Client {
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	dialer := &net.Dialer{Timeout: min(o.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          o.Workers * 2,
		MaxIdleConnsPerHost:   o.Workers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(o.Timeout, 10*time.Second),
		ResponseHeaderTimeout: o.Timeout,
		ForceAttemptHTTP2:     true,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			RootCAs:            o.CAPool,
			InsecureSkipVerify: o.Insecure, //nolint:gosec // operator's explicit --insecure, warned loudly
		},
	}
	return &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Entry is one entry of a response envelope.
type Entry struct {
	Code    string `json:"code"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

// Envelope is a decoded response: every entry, and data for get/list.
type Envelope struct {
	Responses []Entry
	Data      json.RawMessage
}

// code accepts a JSON string or number.
type code string

func (c *code) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = code(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("code is neither string nor number: %s", snippet(b, ""))
	}
	*c = code(n.String())
	if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1e9 {
		*c = code(strconv.FormatInt(int64(f), 10)) // 204.0 is 204
	}
	return nil
}

type wireEntry struct {
	Code    code            `json:"code"`
	Key     json.RawMessage `json:"key"`
	Message json.RawMessage `json:"message"`
}

type wireEnvelope struct {
	Responses json.RawMessage `json:"responses"`
	Data      json.RawMessage `json:"data"`
}

// DecodeEnvelope decodes a response body. responses may be an array or a
// single object; code a string or a number.
func DecodeEnvelope(body []byte) (*Envelope, error) {
	if env, ok := decodeCommon(body); ok {
		return env, nil
	}
	return decodeGeneral(body)
}

// decodeGeneral is DecodeEnvelope for every shape of envelope.
func decodeGeneral(body []byte) (*Envelope, error) {
	var w wireEnvelope
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	rs, err := decodeResponses(w.Responses)
	if err != nil {
		return nil, err
	}
	return &Envelope{Data: w.Data, Responses: rs}, nil
}

// decodeResponses decodes an envelope's responses: an array of entries
// or a single one, each with a code.
func decodeResponses(raw json.RawMessage) ([]Entry, error) {
	raw = bytes.TrimSpace(raw)
	var entries []wireEntry
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return nil, errors.New("decode envelope: no responses")
	case raw[0] == '[':
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("decode envelope: responses: %w", err)
		}
	case raw[0] == '{':
		var e wireEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decode envelope: responses: %w", err)
		}
		entries = []wireEntry{e}
	default:
		return nil, errors.New("decode envelope: responses is neither an array nor an object")
	}
	if len(entries) == 0 {
		return nil, errors.New("decode envelope: empty responses")
	}
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if e.Code == "" {
			return nil, errors.New("decode envelope: response without a code")
		}
		out = append(out, Entry{Code: string(e.Code), Key: looseString(e.Key), Message: looseString(e.Message)})
	}
	return out, nil
}

// decodeCommon decodes, in one pass and without reflection, the envelope
// nearly every answer is:
//
//	{"responses":[{"code":"204","key":"","message":"OK"}]}
//
// one or more entries with exactly those fields in that order, strings
// without escapes, no whitespace but after the end. For anything else,
// and anything it is not sure of, ok is false and the general decoder
// decides. What it accepts, it decodes exactly as the general decoder
// would (enswitch's envelope tests run both).
func decodeCommon(b []byte) (env *Envelope, ok bool) {
	b, ok = bytes.CutPrefix(b, []byte(`{"responses":[`))
	if !ok {
		return nil, false
	}
	env = &Envelope{Responses: make([]Entry, 0, 1)}
	for {
		var e Entry
		if b, ok = bytes.CutPrefix(b, []byte(`{"code":`)); !ok {
			return nil, false
		}
		if e.Code, b, ok = plainString(b); !ok {
			return nil, false
		}
		if e.Code = strings.TrimSpace(e.Code); e.Code == "" {
			return nil, false // the general decoder says what is wrong
		}
		if b, ok = bytes.CutPrefix(b, []byte(`,"key":`)); !ok {
			return nil, false
		}
		if e.Key, b, ok = plainString(b); !ok {
			return nil, false
		}
		if b, ok = bytes.CutPrefix(b, []byte(`,"message":`)); !ok {
			return nil, false
		}
		if e.Message, b, ok = plainString(b); !ok {
			return nil, false
		}
		if b, ok = bytes.CutPrefix(b, []byte("}")); !ok {
			return nil, false
		}
		env.Responses = append(env.Responses, e)
		if b, ok = bytes.CutPrefix(b, []byte(",")); !ok {
			break
		}
	}
	if b, ok = bytes.CutPrefix(b, []byte("]}")); !ok || len(bytes.Trim(b, " \t\r\n")) != 0 {
		return nil, false
	}
	return env, true
}

// plainString reads a JSON string at the start of b that needs no
// decoding: no escapes, no control characters, valid UTF-8.
func plainString(b []byte) (string, []byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return "", nil, false
	}
	v := b[1 : 1+end]
	ascii := true
	for _, c := range v {
		if c < 0x20 || c == '\\' {
			return "", nil, false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(v) {
		return "", nil, false // the general decoder replaces bad bytes
	}
	return string(v), b[2+end:], true
}

// looseString reads a JSON string, or the text of any other value (servers
// have been seen to send numbers or null as keys).
func looseString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// Err returns the envelope's outcome as an error, nil when every entry is a
// success. With several failing entries, the most serious kind wins and
// every entry's message is kept.
func (e *Envelope) Err() error {
	var worst *batch.Error
	var msgs []string
	for _, r := range e.Responses {
		if IsSuccess(r.Code) {
			continue
		}
		k := CodeKind(r.Code)
		cur := &batch.Error{Kind: k, Code: r.Code, Key: r.Key, Message: r.Message}
		if r.Code == CodeRateLimited {
			cur.Throttle = true
		}
		if worst == nil || severity(k) > severity(worst.Kind) {
			worst = cur
		}
		m := r.Code
		if r.Key != "" {
			m += " " + r.Key
		}
		if r.Message != "" {
			m += ": " + r.Message
		}
		msgs = append(msgs, m)
	}
	if worst == nil {
		return nil
	}
	if len(msgs) > 1 {
		worst.Message = strings.Join(msgs, "; ")
	}
	return worst
}

func severity(k batch.Kind) int {
	switch k {
	case batch.KindUnauthorized:
		return 5
	case batch.KindForbidden:
		return 4
	case batch.KindInvalid:
		return 3
	case batch.KindNotFound:
		return 2
	case batch.KindTransient:
		return 1
	}
	return 0
}

// Call posts one API function with params (credentials are added here) and
// returns the decoded envelope. A non-success code is returned as an
// *batch.Error together with the envelope.
//
// With tokens, the first call logs in and a call whose token is about to
// expire renews it first; a call refused with 401 logs in again and is
// sent once more (every API function is safe to repeat: a 401 changed
// nothing). A 401 on that login, or on the call repeated with a new
// token, is the answer.
func (c *Client) Call(ctx context.Context, function string, params []batch.Param) (*Envelope, error) {
	return c.call(ctx, function, params, "")
}

// call is Call with tail, form-encoded parameters of the client's own
// ("&validation=1"), appended to the body after params: a validation
// does not copy the row's params to add one.
func (c *Client) call(ctx context.Context, function string, params []batch.Param, tail string) (*Envelope, error) {
	for _, p := range params {
		if p.Name == "auth_username" || p.Name == "auth_password" || p.Name == "auth_token" {
			// A second copy would make the server see two credentials;
			// they come from Config only.
			return nil, &batch.Error{Kind: batch.KindInvalid, Key: p.Name,
				Message: "credentials are not accepted as parameters"}
		}
	}
	tok, err := c.credentials(ctx, nil)
	if err != nil {
		return nil, err
	}
	env, err := c.send(ctx, function, tok, params, tail)
	if tok == nil || batch.KindOf(err) != batch.KindUnauthorized {
		return env, err
	}
	if tok, err = c.credentials(ctx, tok); err != nil {
		return nil, err
	}
	if c.pace != nil {
		if err := c.pace(ctx); err != nil {
			return nil, c.transportError(ctx, err, c.secretsFor(tok, params))
		}
	}
	return c.send(ctx, function, tok, params, tail)
}

// send posts one request with the token, or the password when tok is nil.
func (c *Client) send(ctx context.Context, function string, tok *token, params []batch.Param, tail string) (*Envelope, error) {
	cred := c.authForm
	if tok != nil {
		cred = tok.form
	}
	return c.post(ctx, function, cred, params, tail, c.secretsFor(tok, params))
}

// secretsFor is what must be redacted from the answer to a request: the
// password (a server may echo a login, or the password sent long ago),
// every recent token, and the row's secret fields (its PIN).
func (c *Client) secretsFor(tok *token, params []batch.Param) *secrets {
	s := &secrets{}
	if c.password != nil {
		s.res = append(s.res, c.password)
	}
	c.auth.mu.Lock()
	if c.auth.tok != nil {
		s.res = append(s.res, c.auth.tok.re)
	}
	s.res = append(s.res, c.auth.lastTokens...)
	c.auth.mu.Unlock()
	if tok != nil {
		s.res = append(s.res, tok.re)
	}
	for _, p := range params {
		if p.Value != "" && schema.IsSecret(p.Name) {
			s.fields = append(s.fields, p.Value)
		}
	}
	return s
}

// post sends one request with the credentials form cred, then params,
// then tail (already encoded), and decodes the answer; every text from
// the server in the result is redacted of sec and made inert.
func (c *Client) post(ctx context.Context, function, cred string, params []batch.Param, tail string, sec *secrets) (*Envelope, error) {
	resp, err := c.do(ctx, function, cred, params, tail, sec)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// Bodies are read into pooled buffers: everything kept from one
	// (strings, raw data) is copied out by the decoding below.
	buf := c.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			c.bufs.Put(buf)
		}
	}()
	_, readErr := buf.ReadFrom(io.LimitReader(resp.Body, maxBody))
	return c.answer(resp, buf.Bytes(), readErr, sec)
}

// do sends one request and returns the response, its body unread; a
// failed round trip is returned as transportError makes it.
func (c *Client) do(ctx context.Context, function, cred string, params []batch.Param, tail string, sec *secrets) (*http.Response, error) {
	// The form is written directly rather than through url.Values (a map,
	// then a sort, per request): credentials first, then the params in
	// the order given. Servers do not care about order; the bytes are the
	// same escapes url.Values would write.
	n := len(cred) + len(tail)
	for _, p := range params {
		n += 2 + len(p.Name) + len(p.Value)
	}
	var form strings.Builder
	form.Grow(n + n/8)
	form.WriteString(cred)
	for _, p := range params {
		form.WriteByte('&')
		form.WriteString(url.QueryEscape(p.Name))
		form.WriteByte('=')
		form.WriteString(url.QueryEscape(p.Value))
	}
	form.WriteString(tail)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(function), strings.NewReader(form.String()))
	if err != nil {
		return nil, &batch.Error{Kind: batch.KindFatal, Message: "build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err, sec)
	}
	return resp, nil
}

// answer decodes a response whose body (read with readErr) is body.
//
// The code in an Enswitch envelope decides, whatever the HTTP status: a
// server or a proxy in front of it that answers 401 or 500 with an
// envelope has said what happened, and a 400 or 401 so answered must not
// be retried as a transport fault. A body that is not an envelope (an
// HTML error page, a cut body) with a status other than 200 is a
// transport fault.
func (c *Client) answer(resp *http.Response, body []byte, readErr error, sec *secrets) (*Envelope, error) {
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc := resp.Header.Get("Location")
		return nil, &batch.Error{Kind: batch.KindFatal, Code: strconv.Itoa(resp.StatusCode),
			Message: fmt.Sprintf("server redirected to %q; not followed (credentials are never re-sent): put the final URL in --url", sec.clean(RedactURL(loc), 256))}
	}
	var env *Envelope
	if resp.StatusCode != http.StatusOK {
		if readErr == nil && !notJSON(body) {
			env, _ = DecodeEnvelope(body)
		}
		if env == nil {
			return nil, c.statusError(resp, body, sec)
		}
	}
	if env == nil {
		if readErr != nil {
			return nil, &batch.Error{Kind: batch.KindTransient, Message: "read response: " + sec.clean(readErr.Error(), MaxMessageLen)}
		}
		var err error
		if env, err = DecodeEnvelope(body); err != nil {
			return nil, &batch.Error{Kind: batch.KindTransient, Code: "200",
				Message: fmt.Sprintf("%s (body: %s)", sec.clean(err.Error(), MaxMessageLen), snippetOf(body, sec)),
				Err:     withSetup(statusSetup(c.base.Scheme, resp.StatusCode, body), nil)}
		}
	}
	return c.judgeEnvelope(resp, env, sec)
}

// statusError is the transport fault of an answer with HTTP status other
// than 200 whose body is no Enswitch envelope.
func (c *Client) statusError(resp *http.Response, body []byte, sec *secrets) *batch.Error {
	e := &batch.Error{Kind: batch.KindTransient, Code: strconv.Itoa(resp.StatusCode),
		Message: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, snippetOf(body, sec)),
		Err:     withSetup(statusSetup(c.base.Scheme, resp.StatusCode, body), nil)}
	if throttles(resp.StatusCode) {
		e.Throttle = true
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// throttles reports whether an HTTP status asks for less load.
func throttles(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// judgeEnvelope makes a decoded envelope safe to keep and returns it with
// its outcome as an error (see Envelope.Err).
func (c *Client) judgeEnvelope(resp *http.Response, env *Envelope, sec *secrets) (*Envelope, error) {
	// A server may quote the request in a message (some echo the
	// offending value, or the whole body), and decides how long and what
	// bytes its texts are; those texts reach reports, logs and terminals.
	for i := range env.Responses {
		r := &env.Responses[i]
		r.Code = Inert(r.Code, MaxCodeLen)
		r.Key = sec.clean(r.Key, MaxKeyLen)
		r.Message = sec.clean(r.Message, MaxMessageLen)
	}
	if err := env.Err(); err != nil {
		var be *batch.Error
		if errors.As(err, &be) {
			// An envelope's transient code in an answer whose HTTP
			// status asks for less load (429, 503) asks for it too.
			if be.Kind == batch.KindTransient && throttles(resp.StatusCode) {
				be.Throttle = true
			}
			if be.Throttle {
				be.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			}
		}
		return env, err
	}
	return env, nil
}

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
		return &batch.Error{Kind: batch.KindFatal, Message: "TLS certificate not trusted (use --ca-file with the server's CA): " + sec.clean(err.Error(), MaxMessageLen)}
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

// Update calls mailboxes/update with the row's params; validate=true adds
// validation=1. It implements batch.Sender.
func (c *Client) Update(ctx context.Context, params []batch.Param, validate bool) (batch.Response, error) {
	tail := ""
	if validate {
		tail = "&validation=1"
	}
	env, err := c.call(ctx, "mailboxes/update", params, tail)
	if err != nil {
		return batch.Response{}, err
	}
	// The engine judges the code by phase (a 204 to a validation means the
	// change was applied), so any entry that is not the wanted code is the
	// one passed on: a surprise is never hidden behind a wanted entry.
	want := CodeUpdated
	if validate {
		want = CodeValid
	}
	r := env.Responses[0]
	for _, e := range env.Responses {
		if e.Code != want {
			r = e
			break
		}
	}
	return batch.Response{Code: r.Code, Key: r.Key, Message: r.Message}, nil
}
