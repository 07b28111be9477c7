package enswitch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

// AuthMode says how the client authenticates.
type AuthMode string

// Authentication modes.
const (
	// AuthPassword sends auth_username and auth_password on every call.
	AuthPassword AuthMode = "password"
	// AuthToken logs in once with user/login token=1 and sends only the
	// token afterwards; a server without tokens is an error.
	AuthToken AuthMode = "token"
	// AuthAuto is AuthToken, falling back to AuthPassword when the server
	// has no tokens (Enswitch before 4.1).
	AuthAuto AuthMode = "auto"
)

// ParseAuthMode reads "auto", "token" or "password".
func ParseAuthMode(s string) (AuthMode, error) {
	switch m := AuthMode(strings.ToLower(strings.TrimSpace(s))); m {
	case AuthAuto, AuthToken, AuthPassword:
		return m, nil
	}
	return "", fmt.Errorf("unknown authentication mode %q: use auto, token or password", Inert(s, 32))
}

// tokenLeeway is how long before its expiry a token is renewed, at most:
// a request in flight must not carry a token that dies on the way.
const tokenLeeway = 5 * time.Second

// FnLogin is the API function that issues tokens.
const FnLogin = "user/login"

// token is one token from user/login.
type token struct {
	form    string    // "auth_token=..." for the request body
	expires time.Time // zero: never
	renewAt time.Time // zero: never
	re      *secretPattern
}

// auth is the client's token state. One login at a time: the callers that
// need a new token while one is being fetched wait for it, or go on with
// the old token while it is still valid.
type auth struct {
	mode AuthMode // as configured

	mu         sync.Mutex
	tok        *token
	inflight   chan struct{} // closed when the login in progress ends
	fallback   bool          // auto mode on a server without tokens
	refused    error         // a login refused for good: wrong credentials, redirect, TLS
	own        string        // the user's own customer, "" until known
	logins     int
	lastTokens []*secretPattern // tokens recently replaced, still redacted
}

// errNoTokens says that the server has no token login.
var errNoTokens = errors.New("the server does not issue tokens")

// ErrTwoFactor is in the error of every call of a client whose user has
// two-factor login: user/login answered 202, asking for a one-time code
// that an API client cannot give. The error's kind is
// batch.KindUnauthorized (the run aborts, nothing is sent); errors.Is
// tells it from a wrong password. Sending the password with every call
// instead would work around the user's second factor, so neither
// AuthAuto nor AuthToken does: the fix is an API user without two-factor
// login.
var ErrTwoFactor = errors.New("the API user has two-factor login, which an API client cannot complete")

// OwnCustomer returns the authenticated user's own customer as the login
// answered it (or LearnOwnCustomer was told), and whether it is known.
func (c *Client) OwnCustomer() (string, bool) {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	return c.auth.own, c.auth.own != ""
}

// LearnOwnCustomer records the user's own customer found another way
// than the login (the customer a mailboxes/get without customer
// answered, with password authentication); a customer the login
// answered is kept.
func (c *Client) LearnOwnCustomer(own string) {
	own = Inert(own, MaxKeyLen)
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	if c.auth.own == "" {
		c.auth.own = own
	}
}

// AuthInUse returns how calls are authenticated now: AuthToken or
// AuthPassword, or AuthAuto before the first call has decided.
func (c *Client) AuthInUse() AuthMode {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	switch {
	case c.auth.mode == AuthPassword || c.auth.fallback:
		return AuthPassword
	case c.auth.tok != nil:
		return AuthToken
	}
	return c.auth.mode
}

// Logins returns how many user/login requests the client has sent.
func (c *Client) Logins() int {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	return c.auth.logins
}

// Login logs in now when the client uses tokens and holds no fresh one,
// so that a caller can learn the own customer, or a wrong password,
// before its first call. With password authentication it does nothing.
func (c *Client) Login(ctx context.Context) error {
	_, err := c.credentials(ctx, nil)
	return err
}

// credentials returns the form of the credentials for the next call: a
// token, logging in when there is none or it is stale (the one the
// server just refused, or one about to expire), or nil for the password.
func (c *Client) credentials(ctx context.Context, stale *token) (*token, error) {
	a := &c.auth
	if a.mode == AuthPassword {
		return nil, nil
	}
	for {
		a.mu.Lock()
		if t, ok, err := a.held(c.now, stale); ok {
			a.mu.Unlock()
			return t, err
		}
		if ch := a.inflight; ch != nil {
			a.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, c.transportError(ctx, context.Cause(ctx), c.secretsFor(nil, nil))
			}
		}
		ch := make(chan struct{})
		a.inflight = ch
		a.logins++
		a.mu.Unlock()

		nt, own, err := c.login(ctx)
		return c.loggedIn(ch, nt, own, err)
	}
}

// held returns what credentials answers without a login when it can (ok):
// the password after a fallback, a refusal for good, a token that is
// fresh, or, while another caller renews it, one not yet expired. a.mu
// is held.
func (a *auth) held(now func() time.Time, stale *token) (t *token, ok bool, err error) {
	switch {
	case a.fallback:
		return nil, true, nil
	case a.refused != nil:
		return nil, true, a.refused
	}
	at := now()
	t = a.tok
	if t == nil || t == stale {
		return nil, false, nil
	}
	if t.renewAt.IsZero() || at.Before(t.renewAt) {
		return t, true, nil
	}
	if a.inflight != nil && (t.expires.IsZero() || at.Before(t.expires)) {
		return t, true, nil // still valid while another caller renews it
	}
	return nil, false, nil
}

// loggedIn records the outcome of the login that ch stands for, wakes the
// callers waiting for it, and returns what credentials answers: the new
// token, nil for the password after a fallback, or the error.
func (c *Client) loggedIn(ch chan struct{}, nt *token, own string, err error) (*token, error) {
	a := &c.auth
	a.mu.Lock()
	a.inflight = nil
	close(ch)
	switch {
	case err == nil:
		if a.tok != nil {
			a.lastTokens = append(a.lastTokens[max(0, len(a.lastTokens)-3):], a.tok.re)
		}
		a.tok = nt
		if own != "" {
			a.own = own
		}
	case batch.KindOf(err) == batch.KindUnauthorized || batch.KindOf(err) == batch.KindFatal:
		// Every later login would be refused the same way: the
		// calls waiting, and those to come, fail without sending.
		a.refused = err
	case errors.Is(err, errNoTokens) && a.mode == AuthAuto:
		a.fallback = true
		a.mu.Unlock()
		if c.notice != nil {
			c.notice("the server does not issue tokens (user/login: " + err.Error() + "); the password is sent with every request")
		}
		return nil, nil
	}
	if errors.Is(err, errNoTokens) {
		// AuthToken on a server without tokens: every later login
		// would answer the same, each carrying the password.
		err = &batch.Error{Kind: batch.KindFatal, Code: "", Message: c.settings.Auth + " token: " + err.Error() + ": use " + c.settings.Auth + " password or auto", Err: err}
		a.refused = err
	}
	a.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return nt, nil
}

// login calls user/login with token=1.
func (c *Client) login(ctx context.Context) (*token, string, error) {
	if c.pace != nil {
		if err := c.pace(ctx); err != nil {
			return nil, "", c.transportError(ctx, err, c.secretsFor(nil, nil))
		}
	}
	sent := c.now()
	env, err := c.post(ctx, FnLogin, c.authForm, []batch.Param{{Name: "token", Value: "1"}}, "", c.secretsFor(nil, nil))
	var be *batch.Error
	if errors.As(err, &be) {
		return nil, "", loginRefusal(be)
	}
	if err != nil {
		return nil, "", err
	}
	if err := twoFactor(env.Responses); err != nil {
		// Before the check for a token: a 202 carries none, and is
		// not a server without tokens to fall back from.
		return nil, "", err
	}
	return loginToken(env.Data, sent)
}

// loginRefusal says what a user/login answered with an error means: a
// server without tokens (errNoTokens), or the error itself, a refusal
// named as the login's.
func loginRefusal(be *batch.Error) error {
	switch {
	case be.Code == "404" || be.Code == CodeNotFound:
		// An HTTP 404 that is no envelope may also be a wrong path:
		// the cause is kept for SetupOf.
		msg := strings.TrimSpace(be.Code + " " + be.Message)
		if be.Err != nil {
			return fmt.Errorf("%w (%s)%w", errNoTokens, msg, be.Err)
		}
		return fmt.Errorf("%w (%s)", errNoTokens, msg)
	case be.Kind == batch.KindInvalid && be.Key == "token":
		return fmt.Errorf("%w (400 %s)", errNoTokens, be.Message)
	case be.Kind == batch.KindUnauthorized:
		be.Message = "user/login: " + be.Message
	}
	return be
}

// twoFactor returns the error of a login answered with CodeTwoFactor.
func twoFactor(rs []Entry) error {
	for _, r := range rs {
		if r.Code == CodeTwoFactor {
			msg := "user/login answered " + r.Code
			if r.Message != "" {
				msg += " (" + r.Message + ")"
			}
			return &batch.Error{Kind: batch.KindUnauthorized, Code: r.Code, Message: msg, Err: ErrTwoFactor}
		}
	}
	return nil
}

// loginToken reads the token, its lifetime and the user's own customer
// from user/login's data; sent is when the login was sent.
func loginToken(data json.RawMessage, sent time.Time) (*token, string, error) {
	var d struct {
		Token   json.RawMessage `json:"auth_token"`
		Expiry  json.RawMessage `json:"auth_token_expiry"`
		Expires json.RawMessage `json:"auth_token_expires"`
		Cust    json.RawMessage `json:"customer"`
	}
	if json.Unmarshal(data, &d) != nil {
		return nil, "", fmt.Errorf("%w (user/login data has no auth_token)", errNoTokens)
	}
	value := looseString(d.Token)
	if value == "" {
		return nil, "", fmt.Errorf("%w (user/login data has no auth_token)", errNoTokens)
	}
	t := &token{form: "auth_token=" + url.QueryEscape(value), re: secretRE(value)}
	if life := tokenLife(d.Expiry, d.Expires, sent); life > 0 {
		t.expires = sent.Add(life)
		t.renewAt = t.expires.Add(-min(tokenLeeway, life/4))
	}
	own := Inert(looseString(d.Cust), MaxKeyLen)
	return t, own, nil
}

// tokenLife returns a token's lifetime, counted from when the request was
// sent, on our clock: auth_token_expiry (expiry) is relative, so a skewed
// server clock does not matter; auth_token_expires (expires) is the
// fallback. 0: no expiry given.
func tokenLife(expiry, expires json.RawMessage, sent time.Time) time.Duration {
	if secs, err := strconv.ParseFloat(looseString(expiry), 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if at, err := strconv.ParseInt(looseString(expires), 10, 64); err == nil && at > 0 {
		return time.Unix(at, 0).Sub(sent)
	}
	return 0
}
