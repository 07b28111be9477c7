package simulator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const fnLogin = "user/login"

// DefaultTokenTTL is how long a token lives unless AuthConfig says.
const DefaultTokenTTL = time.Hour

// AuthConfig configures user/login and tokens.
type AuthConfig struct {
	// NoTokens plays a server older than Enswitch 4.1: user/login
	// answers a good login without a token (token=1 is ignored) and
	// auth_token is not accepted. A VersionCompat before 4.1 sets it.
	NoTokens bool
	// NoLogin plays a server older than Enswitch 3.13: user/login is an
	// unknown function (HTTP 404), and there are no tokens. A
	// VersionCompat before 3.13 sets it.
	NoLogin bool
	// TokenTTL is a token's lifetime; 0 means DefaultTokenTTL, negative
	// means tokens never expire (auth_token_expires is then absent).
	TokenTTL time.Duration
	// Now is the clock tokens expire by; nil means time.Now.
	Now func() time.Time
}

// AuthStats counts how requests authenticated.
type AuthStats struct {
	// Logins counts user/login requests, PasswordRequests every request
	// carrying auth_password (logins included), TokenRequests every
	// request carrying auth_token, TokensRefused those refused with 401.
	Logins           int64 `json:"logins"`
	PasswordRequests int64 `json:"password_requests"`
	TokenRequests    int64 `json:"token_requests"`
	TokensRefused    int64 `json:"tokens_refused"`
}

// issuer issues and checks tokens: JWTs signed with a key drawn at New,
// so that nothing outside this server can make one.
type issuer struct {
	cfg AuthConfig

	mu  sync.Mutex
	key []byte
	jti int64

	logins, password, token, refused atomic.Int64
}

func newIssuer(cfg AuthConfig) *issuer {
	t := &issuer{cfg: cfg}
	if t.cfg.Now == nil {
		t.cfg.Now = time.Now
	}
	if t.cfg.TokenTTL == 0 {
		t.cfg.TokenTTL = DefaultTokenTTL
	}
	t.key = newKey()
	return t
}

func newKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return k
}

// Auth returns how the server authenticates: the AuthConfig it was
// given, with the defaults and the version's rules applied.
func (s *Server) Auth() AuthConfig {
	a := s.issuer.cfg
	a.NoTokens = s.cfg.Auth.NoTokens
	a.NoLogin = s.cfg.Auth.NoLogin
	a.Now = nil
	return a
}

// AuthStats returns the authentication counters.
func (s *Server) AuthStats() AuthStats {
	t := s.issuer
	return AuthStats{Logins: t.logins.Load(), PasswordRequests: t.password.Load(),
		TokenRequests: t.token.Load(), TokensRefused: t.refused.Load()}
}

// RevokeTokens makes every token issued so far invalid, as a server
// restart with a new signing key would: the next call with one is a 401.
func (s *Server) RevokeTokens() {
	s.issuer.mu.Lock()
	defer s.issuer.mu.Unlock()
	s.issuer.key = newKey()
}

type claims struct {
	Sub string  `json:"sub"`
	Exp float64 `json:"exp,omitempty"` // Unix seconds; absent: never
	Jti int64   `json:"jti"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func (t *issuer) sign(payload string) []byte {
	t.mu.Lock()
	m := hmac.New(sha256.New, t.key)
	t.mu.Unlock()
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (t *issuer) issue(u User) (string, time.Time) {
	t.mu.Lock()
	t.jti++
	c := claims{Sub: u.Username, Jti: t.jti}
	t.mu.Unlock()
	var exp time.Time
	if t.cfg.TokenTTL > 0 {
		exp = t.cfg.Now().Add(t.cfg.TokenTTL)
		c.Exp = float64(exp.UnixMilli()) / 1000
	}
	b, _ := json.Marshal(c)
	payload := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(t.sign(payload)), exp
}

// check returns the user a token was issued to, if it is genuine and
// unexpired.
func (t *issuer) check(tok string, users map[string]User) (User, bool) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return User{}, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || !hmac.Equal(sig, t.sign(tok[:i])) {
		return User{}, false
	}
	_, body, ok := strings.Cut(tok[:i], ".")
	if !ok {
		return User{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	var c claims
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return User{}, false
	}
	if c.Exp != 0 && float64(t.cfg.Now().UnixMilli())/1000 >= c.Exp {
		return User{}, false
	}
	u, ok := users[c.Sub]
	return u, ok
}

// authenticate returns the user a call is made as: by auth_token when one
// is sent (and the server has tokens), else by username and password.
func (s *Server) authenticate(p *params) (User, bool) {
	if p.has("auth_password") {
		s.issuer.password.Add(1)
	}
	if p.has("auth_token") && !s.cfg.Auth.NoTokens {
		s.issuer.token.Add(1)
		tok, _ := p.one("auth_token")
		u, ok := s.issuer.check(tok, s.users)
		if !ok {
			s.issuer.refused.Add(1)
		}
		return u, ok
	}
	name, ok1 := p.one("auth_username")
	pass, ok2 := p.one("auth_password")
	u, ok3 := s.users[name]
	if !ok1 || !ok2 || !ok3 || subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass)) != 1 {
		return User{}, false
	}
	return u, true
}

// login serves user/login: username and password only (a token does not
// log in), token=1 for a token. The data is the user's fields.
func (s *Server) login(p *params) reply {
	s.issuer.logins.Add(1)
	delete(p.values, "auth_token") // a token is not a login
	u, ok := s.authenticate(p)
	if !ok {
		return fail(codeUnauthorized, "", "Authentication failed: unknown user or wrong password")
	}
	for _, name := range p.names {
		switch name {
		case "auth_username", "auth_password", "auth_token", "token":
			continue
		}
		if s.pol.invented.on(RuleUnknownParam) {
			return fail(codeInvalid, name, "Unknown parameter")
		}
	}
	if u.TwoFactor && s.pol.version.hasTwoFactor() {
		// The password was right; the server wants the one-time code
		// next, which this simulator (like an API client) never sends.
		return fail(codeTwoFactor, "", "Two-factor authentication code required")
	}
	data := map[string]any{
		"username": u.Username,
		"customer": u.Customer,
		"role":     string(u.Role),
	}
	switch v, _ := p.one("token"); {
	case s.cfg.Auth.NoTokens:
		// Before 4.1 there are no tokens to ask for: a login is a login.
	case v == "" || v == "0":
	case v == "1":
		tok, exp := s.issuer.issue(u)
		data["auth_token"] = tok
		if !exp.IsZero() {
			data["auth_token_expiry"] = int64(max(1, s.issuer.cfg.TokenTTL/time.Second))
			data["auth_token_expires"] = exp.Unix()
		}
	default:
		return fail(codeInvalid, "token", fmt.Sprintf("Must be 0 or 1, got %s", quote(v)))
	}
	return reply{entries: []entry{{codeOK, "", "OK"}}, data: data}
}
