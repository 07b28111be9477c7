// Package enswitch is a client of the Enswitch JSON API: request encoding,
// envelope decoding and the table from response codes to error kinds. The
// mailbox fields are in the leaf package batch/schema.
package enswitch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
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
	// Settings name where the settings the client's advice mentions are
	// set (a command's flags); the zero value says them plainly.
	Settings Settings
}

// Settings name the settings an error advises: the base URL (after a
// redirect), the CA file (a certificate not trusted) and the
// authentication mode (a server without tokens).
type Settings struct {
	URL, CAFile, Auth string
}

// orPlain fills the settings a caller did not name with plain words.
func (s Settings) orPlain() Settings {
	if s.URL == "" {
		s.URL = "the base URL"
	}
	if s.CAFile == "" {
		s.CAFile = "a CA file"
	}
	if s.Auth == "" {
		s.Auth = "the authentication mode"
	}
	return s
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
	settings Settings // Config.Settings, plain words where unset

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
		auth: auth{mode: mode}, pace: cfg.Pace, notice: cfg.Notice, now: cfg.Now, settings: cfg.Settings.orPlain()}
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
	for range tokenRetries {
		if tok == nil || batch.KindOf(err) != batch.KindUnauthorized {
			break
		}
		if tok, err = c.credentials(ctx, tok); err != nil {
			return nil, err
		}
		if c.pace != nil {
			if err := c.pace(ctx); err != nil {
				return nil, c.transportError(ctx, err, c.secretsFor(tok, params))
			}
		}
		env, err = c.send(ctx, function, tok, params, tail)
	}
	return env, err
}

// tokenRetries is how often a call refused with 401 with a token is
// repeated with a newer one. More than once: the newer token may be one
// another worker got a while ago, which expired since; each repeat
// either logs in or takes a token newer than the one refused, and a
// login refused ends the run.
const tokenRetries = 2

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
			Message: fmt.Sprintf("server redirected to %q; not followed (credentials are never re-sent): put the final URL in %s", sec.clean(RedactURL(loc), 256), c.settings.URL)}
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
