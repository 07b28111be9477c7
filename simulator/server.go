// Package simulator is an http.Handler that plays an Enswitch server for
// the demo, the tests, the benchmarks and an operator's rehearsal of a
// migration: users with roles, customers in a hierarchy, mailboxes with
// every field of schema.Fields(), the JSON API functions
// mailboxes/update (with validation=1), mailboxes/get and mailboxes/list,
// and faults switchable at runtime.
//
// Every call is checked in the order of the real server (Config.CheckOrder
// can change it): 401 (credentials) → 402 (role: readonly users may not
// update) → 403 (a rate plan forbids mailbox updates: the user's own
// customer's, or the target customer's) → 400 (every invalid parameter,
// one response entry each, key = parameter name) → 404 (mailbox or
// customer missing or not visible to the user; list answers 400 "Invalid
// customer specified." instead). get and list write typed rows (see
// wire.go); the rules the vendor's pages leave open are policy (policy.go).
// Response codes are the simulator's own table (codes.go), written from
// the vendor's page and not taken from package enswitch, so that a code
// wrong in the client's table cannot pass a test against the simulator.
//
// user/login exists from 3.13 and issues tokens from 4.1 (from 3.13 to
// 4.0 it answers a good login without one); in 4.4 it answers 202 to a
// user with two-factor login.
//
// Rules the simulator invents, which the vendor's pages do not document,
// are each named by a Rule and in force unless Config.NoInvented (ensbulk
// sim --no-invented) turns them off:
//
//   - unknown-param: a parameter the function does not take is a 400
//   - duplicate-param: a parameter sent twice is a 400
//   - length-cap: free text is at most 255 characters (a mailbox 64)
//   - text-check: control characters and invalid UTF-8 are a 400
//   - http-415: a POST body that is not a form is refused with HTTP 415
//   - http-413: a request body over 1 MiB is refused with HTTP 413
//   - roles: the role names, readonly's 402, and which roles reach
//     descendant customers
//   - extra-columns: the read-only columns id and created in get and list
//   - customer-403: a customer's rate plan refusing that customer's
//     updates only
//   - extra-dtypes: the dtype values beyond the vendor's five
//
// docs/simulator.md has the table: rule, default, flag.
//
// The demo world (Generate) has customers 1 "Switch Operator" (root), 10
// "Acme Voice" (reseller, parent 1), 100 "Northwind Dental", 101 "Blue
// Fjord Hotels" and 102 "Legacy Plan Ltd" (parent 10; its rate plan
// forbids mailbox updates), and users
//
//	admin     / admin-demo-pass     administrator  customer 1
//	acme      / acme-demo-pass      reseller       customer 10
//	northwind / northwind-demo-pass user           customer 100
//	frontdesk / frontdesk-demo-pass residential    customer 101
//	auditor   / auditor-demo-pass   readonly       customer 10
//
// Besides /api/json/..., the handler serves /__stats (Stats as JSON),
// /__state (the mailboxes in the state file format, PINs masked, users
// left out) and /__audit (the audit log). Faults never touch those.
package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ensbulk/ensbulk/enswitch/schema"
)

// API functions served.
const (
	fnUpdate = "mailboxes/update"
	fnGet    = "mailboxes/get"
	fnList   = "mailboxes/list"
)

// maxRequestBody bounds a request body (RuleHTTP413); lenientRequestBody
// when that rule is off: the server still bounds what it reads.
const (
	maxRequestBody     = 1 << 20
	lenientRequestBody = 32 << 20
)

// Config configures a Server.
type Config struct {
	// State is the world to serve; it is copied. nil means
	// Generate(Mailboxes, Seed).
	State *State
	// Mailboxes is how many mailboxes to generate when State is nil;
	// 0 means DefaultMailboxes.
	Mailboxes int
	// Seed drives Generate (when State is nil) and the fault draws.
	Seed int64
	// VersionCompat is the Enswitch version played, "3.0" to "4.4"; ""
	// means DefaultVersion. Before 4.2, notify_for refuses "all" and
	// "text"; before 4.1 user/login issues no tokens (as Auth.NoTokens);
	// before 3.13 there is no user/login (as Auth.NoLogin); from 4.4 it
	// answers 202 to a user with two-factor login.
	VersionCompat string
	// DTypes are the accepted dtype values; nil means DefaultDTypes().
	DTypes []string
	// NumericCodes writes response codes as JSON numbers (204) instead of
	// strings ("204"), as some servers do.
	NumericCodes bool
	// ObjectResponses writes "responses" as a single object instead of an
	// array when there is exactly one entry, as some servers do.
	ObjectResponses bool
	// Faults are the faults in force from the start; see SetFaults.
	Faults Faults
	// AuditLimit is how many audit entries are kept (the most recent);
	// 0 means 100000.
	AuditLimit int
	// ForbidCustomers are customers whose rate plan refuses mailbox
	// updates, besides those the state marks: a scoped 403 to rehearse.
	ForbidCustomers []int
	// TwoFactorUsers are users with two-factor login, besides those the
	// state marks: from 4.4 their user/login answers 202.
	TwoFactorUsers []string
	// NoInvented turns off rules the simulator invents (see Rule and
	// InventedRules): to rehearse against a server that lacks them.
	NoInvented []Rule

	// Simulator policy: where the vendor's pages are silent (see
	// policy.go). Zero values mean the defaults.

	// PINDisplay is how get and list show a PIN; "" means PINMasked.
	PINDisplay PINDisplay
	// NullColumns are the columns get and list write as null when empty;
	// nil means DefaultNullColumns(), empty means none.
	NullColumns []string
	// PINMinDigits and PINMaxDigits bound a PIN's length (all digits);
	// 0 and 0 mean 4 to 10.
	PINMinDigits, PINMaxDigits int
	// EmailCheck is how pager is checked: EmailAddress (the default) or
	// EmailAny.
	EmailCheck string
	// Timezones is how timezone is checked: TimezonesIANA (the default)
	// or TimezonesAny. "" is always accepted.
	Timezones string
	// CheckOrder is the order of the checks; nil means
	// DefaultCheckOrder(). 401 is always first.
	CheckOrder []string

	// Auth configures user/login and tokens.
	Auth AuthConfig
}

// Server is a simulated Enswitch server. It is an http.Handler and safe
// for concurrent use.
type Server struct {
	cfg    Config
	pol    policy
	rules  *rules
	schema []schema.Field

	// Customers and users never change after New: read without locks.
	customers map[int]Customer
	custOrder []Customer
	users     map[string]User
	userOrder []User

	mu    sync.Mutex // guards boxes, audit and seq
	boxes map[boxKey][]string
	ids   map[boxKey]int   // read-only column "id"; fixed after New
	lists map[int][]string // each customer's mailbox names, sorted; the API creates and deletes none
	audit auditRing
	seq   int

	fmu    sync.Mutex // guards faults, rng and the token bucket
	faults Faults
	rng    *rng
	tokens float64
	last   time.Time

	smu   sync.Mutex // guards stats
	stats Stats

	closing   chan struct{}
	closeOnce sync.Once

	issuer *issuer
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	st := cfg.State.Clone()
	if st == nil {
		n := cfg.Mailboxes
		if n <= 0 {
			n = DefaultMailboxes
		}
		st = Generate(n, cfg.Seed)
	}
	pol, err := newPolicy(&cfg)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	if err := st.normalize(pol); err != nil {
		return nil, fmt.Errorf("simulator: state: %w", err)
	}
	if cfg.DTypes == nil {
		cfg.DTypes = DefaultDTypes()
		if !pol.invented.on(RuleExtraDTypes) {
			cfg.DTypes = VendorDTypes()
		}
	}
	cfg.DTypes = slices.Clone(cfg.DTypes)
	if cfg.AuditLimit <= 0 {
		cfg.AuditLimit = 100000
	}
	if !pol.version.hasTokens() {
		cfg.Auth.NoTokens = true
	}
	if !pol.version.hasLogin() {
		cfg.Auth.NoLogin = true
	}
	if cfg.Auth.NoLogin {
		cfg.Auth.NoTokens = true
	}
	s := &Server{
		cfg:       cfg,
		pol:       pol,
		rules:     requestRules(pol, cfg.DTypes),
		schema:    schema.Fields(),
		customers: map[int]Customer{},
		custOrder: slices.Clone(st.Customers),
		users:     map[string]User{},
		userOrder: slices.Clone(st.Users),
		boxes:     map[boxKey][]string{},
		ids:       map[boxKey]int{},
		lists:     map[int][]string{},
		rng:       newRNG(cfg.Seed),
		stats:     newStats(),
		closing:   make(chan struct{}),
		issuer:    newIssuer(cfg.Auth),
	}
	for _, c := range st.Customers {
		s.customers[c.ID] = c
	}
	for _, id := range cfg.ForbidCustomers {
		c, ok := s.customers[id]
		if !ok {
			return nil, fmt.Errorf("simulator: forbidden customer %d does not exist", id)
		}
		c.MailboxUpdatesForbidden = true
		s.customers[id] = c
	}
	for _, u := range st.Users {
		s.users[u.Username] = u
	}
	for _, name := range cfg.TwoFactorUsers {
		u, ok := s.users[name]
		if !ok {
			return nil, fmt.Errorf("simulator: two-factor user %q does not exist", name)
		}
		u.TwoFactor = true
		s.users[name] = u
		for i := range s.userOrder {
			if s.userOrder[i].Username == name {
				s.userOrder[i] = u
			}
		}
	}
	for _, m := range st.Mailboxes {
		cid, _ := strconv.Atoi(m["customer"])
		vals := make([]string, len(s.schema))
		for i, f := range s.schema {
			vals[i] = m[f.Name]
		}
		s.boxes[boxKey{cid, m["mailbox"]}] = vals
		s.ids[boxKey{cid, m["mailbox"]}] = len(s.ids) + 1
		s.lists[cid] = append(s.lists[cid], m["mailbox"])
	}
	for _, l := range s.lists {
		slices.SortFunc(l, lessMailbox)
	}
	if err := s.SetFaults(cfg.Faults); err != nil {
		return nil, err
	}
	return s, nil
}

// Close ends every request held by the hang fault and makes later hangs
// return at once, so that an http.Server's Shutdown does not wait on
// them. The handler keeps serving.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	return nil
}

// ServeHTTP serves the API under /api/json/ and the operator endpoints
// /__stats, /__state and /__audit.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/__stats":
		s.serveDebug(w, r, func() any { return s.Stats() })
		return
	case "/__state":
		s.serveDebug(w, r, func() any { return s.maskedState() })
		return
	case "/__audit":
		s.serveDebug(w, r, func() any { return s.Audit() })
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.serveAPI(w, r)
		return
	}
	http.NotFound(w, r)
}

func (s *Server) serveDebug(w http.ResponseWriter, r *http.Request, v func() any) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	b, err := json.MarshalIndent(v(), "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

// apiFunction returns the function a path names ("mailboxes/update" for
// /api/json/mailboxes/update/, trailing slash optional), "" if none.
func apiFunction(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/json/")
	if !ok {
		return ""
	}
	switch fn := strings.TrimSuffix(rest, "/"); fn {
	case fnUpdate, fnGet, fnList, fnLogin:
		return fn
	}
	return ""
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	fn := apiFunction(r.URL.Path)
	if fn == fnLogin && s.cfg.Auth.NoLogin {
		fn = ""
	}
	label := fn
	if label == "" {
		label = "unknown"
	}
	inflight := s.enter(label)
	defer s.leave()
	d := s.decide(time.Now())

	// Faults that a front proxy would apply, before the application sees
	// the request.
	switch {
	case d.f.RedirectTo != "":
		s.countFault(FaultRedirect)
		s.countStatus(http.StatusPermanentRedirect)
		http.Redirect(w, r, strings.TrimRight(d.f.RedirectTo, "/")+r.URL.Path, http.StatusPermanentRedirect)
		return
	case d.limited:
		s.countFault(FaultRateLimit)
		w.Header().Set("Retry-After", retryAfter(d.f.RetryAfter))
		s.errorPage(w, http.StatusTooManyRequests, "Too Many Requests", "Request rate limit exceeded; slow down.", nil)
		return
	case d.f.MaxConcurrent > 0 && inflight > int64(d.f.MaxConcurrent):
		s.countFault(FaultOverload)
		w.Header().Set("Retry-After", retryAfter(d.f.RetryAfter))
		s.errorPage(w, http.StatusServiceUnavailable, "Service Unavailable", "Too many concurrent requests.", nil)
		return
	}
	if d.delay > 0 || d.kind == FaultHang {
		// The http.Server notices that a client went away (r.Context
		// ends) only once the request body has been read to its end: a
		// hang "until the client gives up" held its handler forever after
		// a client timed out, and httptest.Server.Close waited on it.
		bufferBody(r, s.bodyLimit())
	}
	if d.delay > 0 {
		s.countFault(FaultLatency)
		if !s.wait(r.Context(), d.delay) {
			return
		}
	}
	switch d.kind {
	case FaultError:
		s.countFault(FaultError)
		var echo []byte
		if d.f.EchoBody {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
			echo = append([]byte(r.Method+" "+r.URL.RequestURI()+"\n\n"), body...)
		}
		s.errorPage(w, d.status, http.StatusText(d.status), "The server encountered an internal error and could not complete your request.", echo)
		return
	case FaultReset:
		s.countFault(FaultReset)
		resetConn(w)
		return
	case FaultHang:
		s.countFault(FaultHang)
		if !s.wait(r.Context(), d.f.HangFor) {
			return
		}
	}

	if fn == "" {
		s.countStatus(http.StatusNotFound)
		http.Error(w, "unknown API function", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.countStatus(http.StatusMethodNotAllowed)
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p, status, err := s.readParams(w, r)
	var rep reply
	switch {
	case status != 0:
		s.countStatus(status)
		http.Error(w, err.Error(), status)
		return
	case err != nil:
		rep = reply{entries: []entry{{codeInvalid, "", err.Error()}}}
	default:
		if !s.pol.invented.on(RuleDuplicateParam) {
			p.lastWins()
		}
		rep = s.call(fn, p, d.kind == FaultLost, d.kind == FaultIgnore)
	}
	if rep.ignored {
		s.countFault(FaultIgnore)
	}
	body := s.encode(rep)
	if d.kind == FaultLost && rep.applied {
		s.countFault(FaultLost)
		resetConn(w)
		return
	}
	if d.kind == FaultTruncate {
		s.countFault(FaultTruncate)
		body = body[:len(body)/2]
	}
	s.countCode(rep.entries[0].code)
	s.countStatus(http.StatusOK)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// bufferBody reads the request body (up to one byte more than readParams
// accepts, limit) and puts it back for later readers.
func bufferBody(r *http.Request, limit int64) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	var rd io.Reader = bytes.NewReader(b)
	if err != nil {
		rd = io.MultiReader(rd, errReader{err})
	}
	r.Body = bufferedBody{rd, r.Body}
}

type bufferedBody struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// bodyLimit is the most of a request body the server reads.
func (s *Server) bodyLimit() int64 {
	if s.pol.invented.on(RuleHTTP413) {
		return maxRequestBody
	}
	return lenientRequestBody
}

// readParams reads the query string and, for POST, the form body. A
// non-zero status is an HTTP-level refusal; an error alone is a malformed
// form, answered 400 in the envelope.
func (s *Server) readParams(w http.ResponseWriter, r *http.Request) (*params, int, error) {
	p := &params{}
	if err := p.parseForm(r.URL.RawQuery); err != nil {
		return nil, 0, err
	}
	if r.Method != http.MethodPost {
		return p, 0, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			if !s.pol.invented.on(RuleHTTP415) {
				return p, 0, nil // not a form: as a CGI server, leave it unread
			}
			return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported content type %q: send application/x-www-form-urlencoded", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.bodyLimit()))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, errors.New("request body too large")
		}
		return nil, http.StatusBadRequest, errors.New("cannot read request body")
	}
	if err := p.parseForm(string(body)); err != nil {
		return nil, 0, err
	}
	return p, 0, nil
}

// entry is one entry of a response envelope.
type entry struct {
	code, key, message string
}

// reply is the outcome of one API call.
type reply struct {
	entries []entry
	data    any
	applied bool // an update changed the state
	ignored bool // an update answered as applied and not kept (Faults.IgnoreRate)
}

func fail(code, key, message string) reply {
	return reply{entries: []entry{{code, key, message}}}
}

// encode writes the envelope as configured: codes as strings or numbers,
// responses as an array or (one entry) an object.
func (s *Server) encode(rep reply) []byte {
	type wireEntry struct {
		Code    any    `json:"code"`
		Key     string `json:"key"`
		Message string `json:"message"`
	}
	es := make([]wireEntry, len(rep.entries))
	for i, e := range rep.entries {
		var c any = e.code
		if s.cfg.NumericCodes {
			c = json.Number(e.code)
		}
		es[i] = wireEntry{c, e.key, e.message}
	}
	var responses any = es
	if s.cfg.ObjectResponses && len(es) == 1 {
		responses = es[0]
	}
	b, err := json.Marshal(struct {
		Responses any `json:"responses"`
		Data      any `json:"data,omitempty"`
	}{responses, rep.data})
	if err != nil {
		// Only strings and string maps go in: cannot happen.
		panic(fmt.Sprintf("simulator: encode envelope: %v", err))
	}
	return b
}

// call runs one API function through the check order.
func (s *Server) call(fn string, p *params, lose, ignore bool) reply {
	if fn == fnLogin {
		return s.login(p)
	}
	u, ok := s.authenticate(p)
	if !ok {
		return fail(codeUnauthorized, "", "Authentication failed: unknown user or wrong password")
	}
	cid, cidOK := u.Customer, true
	if v, sent := p.one("customer"); sent {
		cid, cidOK = atoi(v)
	} else if p.has("customer") {
		cidOK = false // sent twice: the 400 check says so
	}
	for _, check := range s.pol.order {
		switch check {
		case codeRole:
			if fn == fnUpdate && u.Role == RoleReadonly && s.pol.invented.on(RuleRoles) {
				return fail(codeRole, "", fmt.Sprintf("Your role (%s) does not allow mailbox updates", u.Role))
			}
		case codePlan:
			if fn == fnUpdate && cidOK && s.visible(u, cid) {
				if msg := s.planRefusal(u, cid); msg != "" {
					return fail(codePlan, "", msg)
				}
			}
		case codeInvalid:
			if bad := s.checkParams(fn, p); len(bad) > 0 {
				return reply{entries: bad}
			}
		case codeNotFound:
			if rep, missing := s.notFound(fn, u, cid, p); missing {
				return rep
			}
		}
	}
	switch fn {
	case fnGet:
		mb, _ := p.one("mailbox")
		s.mu.Lock()
		m := s.wireMailbox(boxKey{cid, mb})
		s.mu.Unlock()
		return reply{entries: []entry{{codeOK, "", "OK"}}, data: m}
	case fnList:
		return reply{entries: []entry{{codeOK, "", "OK"}}, data: s.list(cid)}
	}
	return s.update(u, cid, p, lose, ignore)
}

// planRefusal says why the rate plans refuse u an update of customer
// cid's mailboxes, "" when they allow it. The user's privileges are those
// of its own customer's rate plan, so that refusal covers every customer
// it reaches; a target customer's plan refuses only that customer.
func (s *Server) planRefusal(u User, cid int) string {
	if own := s.customers[u.Customer]; own.MailboxUpdatesForbidden {
		return fmt.Sprintf("Your rate plan (%s, customer %d) does not allow mailbox updates", own.RatePlan, own.ID)
	}
	if c := s.customers[cid]; c.MailboxUpdatesForbidden && s.pol.invented.on(RuleCustomer403) {
		return fmt.Sprintf("The rate plan of customer %d (%s) does not allow mailbox updates", c.ID, c.RatePlan)
	}
	return ""
}

// notFound answers a customer the user cannot see, or a mailbox that is
// not there. mailboxes/list documents no 404: it answers 400.
func (s *Server) notFound(fn string, u User, cid int, p *params) (reply, bool) {
	if !s.visible(u, cid) {
		if fn == fnList {
			return fail(codeInvalid, "customer", "Invalid customer specified."), true
		}
		return fail(codeNotFound, "customer", fmt.Sprintf("Customer %d not found", cid)), true
	}
	if fn == fnList {
		return reply{}, false
	}
	mb, _ := p.one("mailbox")
	// The API creates and deletes no mailbox: the key set is fixed.
	if _, ok := s.ids[boxKey{cid, mb}]; !ok {
		return fail(codeNotFound, "mailbox", fmt.Sprintf("Mailbox %s not found", quote(mb))), true
	}
	return reply{}, false
}

// update applies (or with validation=1 only checks) a valid update. The
// lookup and every change happen under one lock: a concurrent get sees the
// mailbox before or after, never half-changed.
func (s *Server) update(u User, cid int, p *params, lose, ignore bool) reply {
	mb, _ := p.one("mailbox")
	validate := false
	if v, _ := p.one("validation"); v == "1" {
		validate = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vals, ok := s.boxes[boxKey{cid, mb}]
	if !ok {
		return fail(codeNotFound, "mailbox", fmt.Sprintf("Mailbox %s not found", quote(mb)))
	}
	if validate {
		s.countOutcome(false)
		return reply{entries: []entry{{codeValid, "", "Input is valid"}}}
	}
	if ignore {
		// The fault IgnoreRate: accepted, answered as applied, not kept.
		return reply{entries: []entry{{codeUpdated, "", "OK"}}, ignored: true}
	}
	audit := map[string]string{}
	for i, f := range s.schema {
		if f.Name == "mailbox" || f.Name == "customer" {
			continue
		}
		v, sent := p.one(f.Name)
		if !sent {
			continue
		}
		audit[f.Name] = v
		if f.EmptyKeeps && v == "" {
			continue // "" keeps the value (the PIN)
		}
		if f.Secret {
			audit[f.Name] = "***"
		}
		vals[i] = v
	}
	s.seq++
	s.audit.add(AuditEntry{Seq: s.seq, Time: time.Now(), User: u.Username,
		Customer: cid, Mailbox: mb, Params: audit, Lost: lose}, s.cfg.AuditLimit)
	s.countOutcome(true)
	return reply{entries: []entry{{codeUpdated, "", "OK"}}, applied: true}
}

// visible reports whether u may act on customer cid: its own, or for
// administrators, resellers and readonly users any descendant.
func (s *Server) visible(u User, cid int) bool {
	c, ok := s.customers[cid]
	if !ok {
		return false
	}
	if cid == u.Customer {
		return true
	}
	if !u.Role.reachesDescendants() && s.pol.invented.on(RuleRoles) {
		return false
	}
	for p := c.Parent; p != 0; p = s.customers[p].Parent {
		if p == u.Customer {
			return true
		}
	}
	return false
}

// allowed lists the parameters each function takes besides credentials.
func allowed(fn, name string) bool {
	switch name {
	case "auth_username", "auth_password", "auth_token":
		return true
	case "mailbox", "customer":
		return fn == fnUpdate || fn == fnGet || name == "customer"
	case "validation":
		return fn == fnUpdate
	}
	return fn == fnUpdate && schema.Index(name) >= 0
}

// checkParams returns a 400 entry for every problem: unknown parameters
// in the order sent, then repeated, missing and invalid ones in schema
// order.
func (s *Server) checkParams(fn string, p *params) []entry {
	var bad []entry
	for _, name := range p.names {
		if allowed(fn, name) || !s.pol.invented.on(RuleUnknownParam) {
			continue
		}
		msg := "Unknown parameter"
		if c := schema.Closest(name); c != "" && allowed(fn, c) {
			msg += fmt.Sprintf(" (did you mean %s?)", c)
		}
		bad = append(bad, entry{codeInvalid, name, msg})
	}
	names := append(schema.Names(), "validation")
	for _, name := range names {
		if !allowed(fn, name) {
			continue
		}
		vs := p.values[name]
		switch {
		case len(vs) > 1:
			bad = append(bad, entry{codeInvalid, name, fmt.Sprintf("Sent %d times; send it once", len(vs))})
		case len(vs) == 0:
			if name == "mailbox" {
				bad = append(bad, entry{codeInvalid, name, "Required"})
			}
		case name == "validation":
			if vs[0] != "0" && vs[0] != "1" {
				bad = append(bad, entry{codeInvalid, name, fmt.Sprintf("Must be 0 or 1, got %s", quote(vs[0]))})
			}
		default:
			f, _ := schema.Lookup(name)
			if msg := s.rules.check(f, vs[0]); msg != "" && fn == fnList && name == "customer" {
				bad = append(bad, entry{codeInvalid, name, "Invalid customer specified."})
			} else if msg != "" {
				bad = append(bad, entry{codeInvalid, name, capitalize(msg)})
			}
		}
	}
	return bad
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func atoi(v string) (int, bool) {
	if !schema.PlainInteger(v) {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// Mailbox returns a copy of one mailbox's fields, the real PIN included
// (for tests; /__state masks it, get and list follow Config.PINDisplay),
// and whether it exists.
func (s *Server) Mailbox(customer int, mailbox string) (Mailbox, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vals, ok := s.boxes[boxKey{customer, mailbox}]
	if !ok {
		return nil, false
	}
	return s.toMailbox(vals), true
}

func (s *Server) toMailbox(vals []string) Mailbox {
	m := make(Mailbox, len(vals))
	for i, f := range s.schema {
		m[f.Name] = vals[i]
	}
	return m
}

// list returns a customer's mailboxes as mailboxes/list writes them, in
// mailbox order.
func (s *Server) list(cid int) []wireRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]wireRow, 0, len(s.lists[cid]))
	for _, mb := range s.lists[cid] {
		out = append(out, s.wireMailbox(boxKey{cid, mb}))
	}
	return out
}

// maskPIN hides a set PIN (every secret field): /__state never shows
// one, whatever get and list are told to do.
func maskPIN(m Mailbox) {
	for _, name := range schema.Secrets() {
		if m[name] != "" {
			m[name] = "****"
		}
	}
}

// State returns a copy of the whole world as it is now, real PINs and
// passwords included, in the state file format.
func (s *Server) State() *State {
	st := &State{Customers: slices.Clone(s.custOrder), Users: slices.Clone(s.userOrder)}
	cids := make([]int, 0, len(s.custOrder))
	for _, c := range s.custOrder {
		cids = append(cids, c.ID)
	}
	slices.Sort(cids)
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Mailboxes = make([]Mailbox, 0, len(s.boxes))
	for _, cid := range cids {
		for _, mb := range s.lists[cid] {
			st.Mailboxes = append(st.Mailboxes, s.toMailbox(s.boxes[boxKey{cid, mb}]))
		}
	}
	return st
}

// maskedState is what /__state shows: no users, no PINs.
func (s *Server) maskedState() *State {
	st := s.State()
	st.Users = nil
	for _, m := range st.Mailboxes {
		maskPIN(m)
	}
	return st
}

// DumpState writes the current world as indented JSON in the format
// LoadState reads, real PINs and passwords included: a rehearsal can be
// saved and resumed. Treat the file as a secret.
func (s *Server) DumpState(w io.Writer) error {
	return writeState(w, s.State())
}

// Users returns the users, in state order, passwords included (for
// printing the demo logins).
func (s *Server) Users() []User {
	return slices.Clone(s.userOrder)
}
