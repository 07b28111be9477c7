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
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// API functions served.
const (
	fnUpdate = "mailboxes/update"
	fnGet    = "mailboxes/get"
	fnList   = "mailboxes/list"
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
	st := initialState(&cfg)
	pol, err := newPolicy(&cfg)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	if err := st.normalize(pol); err != nil {
		return nil, fmt.Errorf("simulator: state: %w", err)
	}
	cfg.fillDefaults(pol)
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
	if err := s.loadCustomers(st.Customers, cfg.ForbidCustomers); err != nil {
		return nil, err
	}
	if err := s.loadUsers(st.Users, cfg.TwoFactorUsers); err != nil {
		return nil, err
	}
	s.loadMailboxes(st.Mailboxes)
	if err := s.SetFaults(cfg.Faults); err != nil {
		return nil, err
	}
	return s, nil
}

// initialState is a copy of the world cfg names, or a generated one.
func initialState(cfg *Config) *State {
	if st := cfg.State.Clone(); st != nil {
		return st
	}
	n := cfg.Mailboxes
	if n <= 0 {
		n = DefaultMailboxes
	}
	return Generate(n, cfg.Seed)
}

// fillDefaults fills what cfg leaves to the defaults and to the version
// played: the dtype set, the audit limit, and whether user/login exists
// and issues tokens.
func (cfg *Config) fillDefaults(pol policy) {
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
}

// loadCustomers indexes the customers and marks those whose rate plan
// Config.ForbidCustomers refuses mailbox updates.
func (s *Server) loadCustomers(custs []Customer, forbid []int) error {
	for _, c := range custs {
		s.customers[c.ID] = c
	}
	for _, id := range forbid {
		c, ok := s.customers[id]
		if !ok {
			return fmt.Errorf("simulator: forbidden customer %d does not exist", id)
		}
		c.MailboxUpdatesForbidden = true
		s.customers[id] = c
	}
	return nil
}

// loadUsers indexes the users and marks those Config.TwoFactorUsers
// gives two-factor login.
func (s *Server) loadUsers(users []User, twoFactor []string) error {
	for _, u := range users {
		s.users[u.Username] = u
	}
	for _, name := range twoFactor {
		u, ok := s.users[name]
		if !ok {
			return fmt.Errorf("simulator: two-factor user %q does not exist", name)
		}
		u.TwoFactor = true
		s.users[name] = u
		for i := range s.userOrder {
			if s.userOrder[i].Username == name {
				s.userOrder[i] = u
			}
		}
	}
	return nil
}

// loadMailboxes stores the mailboxes as value rows in schema order, with
// their read-only ids and each customer's sorted list.
func (s *Server) loadMailboxes(boxes []Mailbox) {
	for _, m := range boxes {
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
