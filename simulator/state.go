package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// Role is what a user may do. administrator, reseller and readonly users
// act on their own customer and every descendant; user and residential
// users on their own customer only. readonly users may get and list but
// not update (402).
type Role string

// Roles known to the simulator.
const (
	RoleAdministrator Role = "administrator"
	RoleReseller      Role = "reseller"
	RoleResidential   Role = "residential"
	RoleUser          Role = "user"
	RoleReadonly      Role = "readonly"
)

func (r Role) valid() bool {
	switch r {
	case RoleAdministrator, RoleReseller, RoleResidential, RoleUser, RoleReadonly:
		return true
	}
	return false
}

// reachesDescendants reports whether the role acts on descendant customers.
func (r Role) reachesDescendants() bool {
	return r == RoleAdministrator || r == RoleReseller || r == RoleReadonly
}

// User is an API user.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     Role   `json:"role"`
	// Customer is the user's own customer; the default target of calls
	// that name none.
	Customer int `json:"customer"`
	// TwoFactor marks a user with two-factor login: from Enswitch 4.4
	// its user/login answers 202 (a one-time code is wanted).
	TwoFactor bool `json:"two_factor,omitempty"`
}

// Customer is one node of the customer hierarchy.
type Customer struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	// Parent is the parent customer's ID, 0 for the root.
	Parent int `json:"parent,omitempty"`
	// RatePlan names the customer's rate plan (informational).
	RatePlan string `json:"rate_plan,omitempty"`
	// MailboxUpdatesForbidden marks a rate plan that does not allow
	// mailboxes/update: such calls get 403.
	MailboxUpdatesForbidden bool `json:"mailbox_updates_forbidden,omitempty"`
}

// Mailbox is a mailbox's fields by name, every value a string as the API
// writes them: all the fields of schema.Fields(), "mailbox" and
// "customer" included. It encodes to JSON in schema order.
type Mailbox map[string]string

// MarshalJSON writes the fields in schema order (then any others sorted),
// so dumps read like the API reference and diff cleanly.
func (m Mailbox) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	write := func(k, v string) error {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, err := json.Marshal(k)
		if err != nil {
			return err
		}
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
		return nil
	}
	for _, name := range schema.Names() {
		if v, ok := m[name]; ok {
			if err := write(name, v); err != nil {
				return nil, err
			}
		}
	}
	var extra []string
	for k := range m {
		if schema.Index(k) < 0 {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		if err := write(k, m[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of strings; numbers are taken as their
// decimal text, so hand-written state files may say "customer": 100.
func (m *Mailbox) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		*m = nil
		return nil
	}
	out := make(Mailbox, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("field %s: %w", k, err)
			}
			out[k] = s
		case len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
			var n json.Number
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("field %s: %w", k, err)
			}
			out[k] = n.String()
		default:
			return fmt.Errorf("field %s: want a string or a number, got %s", k, v)
		}
	}
	*m = out
	return nil
}

// State is a whole simulated world: the format of state files (LoadState,
// DumpState) and of /__state.
type State struct {
	Customers []Customer `json:"customers"`
	// Users is left out of /__state (it holds passwords).
	Users     []User    `json:"users,omitempty"`
	Mailboxes []Mailbox `json:"mailboxes"`
}

// Clone returns a deep copy of st.
func (st *State) Clone() *State {
	if st == nil {
		return nil
	}
	out := &State{
		Customers: slices.Clone(st.Customers),
		Users:     slices.Clone(st.Users),
		Mailboxes: make([]Mailbox, len(st.Mailboxes)),
	}
	for i, m := range st.Mailboxes {
		c := make(Mailbox, len(m))
		for k, v := range m {
			c[k] = v
		}
		out.Mailboxes[i] = c
	}
	return out
}

// LoadState reads a state file (the JSON that DumpState writes) and checks
// it: unique ids and names, a customer tree without cycles, valid roles,
// and every mailbox value valid. Mailbox fields that are absent take their
// defaults, so a hand-written file may list only what matters to it.
func LoadState(r io.Reader) (*State, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	if dec.More() {
		return nil, errors.New("load state: trailing data after the state object")
	}
	if err := st.normalize(defaultPolicy()); err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	return &st, nil
}

// writeState writes st as indented JSON.
func writeState(w io.Writer, st *State) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

// normalize fills defaults in place and checks the whole state. Stored
// values are checked by type and shape; enum sets include the newer
// server's values and dtype is free, so that one state file serves every
// server configuration.
func (st *State) normalize(pol policy) error {
	custs, err := st.customerIndex()
	if err != nil {
		return err
	}
	if err := st.checkParents(custs); err != nil {
		return err
	}
	if err := st.checkUsers(custs, pol); err != nil {
		return err
	}
	return st.normalizeMailboxes(custs, storedRules(pol))
}

// customerIndex indexes the customers by id: positive and unique.
func (st *State) customerIndex() (map[int]*Customer, error) {
	custs := make(map[int]*Customer, len(st.Customers))
	for i := range st.Customers {
		c := &st.Customers[i]
		if c.ID <= 0 {
			return nil, fmt.Errorf("customer %d (%q): id must be a positive integer", c.ID, c.Name)
		}
		if _, dup := custs[c.ID]; dup {
			return nil, fmt.Errorf("customer %d: listed twice", c.ID)
		}
		custs[c.ID] = c
	}
	return custs, nil
}

// checkParents checks that every parent exists and that the parent
// chains end at a root.
func (st *State) checkParents(custs map[int]*Customer) error {
	for _, c := range st.Customers {
		if c.Parent == 0 {
			continue
		}
		if _, ok := custs[c.Parent]; !ok {
			return fmt.Errorf("customer %d: parent %d does not exist", c.ID, c.Parent)
		}
		seen := map[int]bool{c.ID: true}
		for p := c.Parent; p != 0; p = custs[p].Parent {
			if seen[p] {
				return fmt.Errorf("customer %d: the parent chain loops", c.ID)
			}
			seen[p] = true
		}
	}
	return nil
}

// checkUsers checks that usernames are unique and that every user has a
// password, a known role and an existing customer.
func (st *State) checkUsers(custs map[int]*Customer, pol policy) error {
	users := map[string]bool{}
	for _, u := range st.Users {
		switch {
		case u.Username == "":
			return errors.New("a user has no username")
		case users[u.Username]:
			return fmt.Errorf("user %q: listed twice", u.Username)
		case u.Password == "":
			return fmt.Errorf("user %q: no password", u.Username)
		case !u.Role.valid() && (pol.invented.on(RuleRoles) || u.Role == ""):
			return fmt.Errorf("user %q: unknown role %q (want administrator, reseller, residential, user or readonly)", u.Username, u.Role)
		case custs[u.Customer] == nil:
			return fmt.Errorf("user %q: customer %d does not exist", u.Username, u.Customer)
		}
		users[u.Username] = true
	}
	return nil
}

// normalizeMailboxes fills every mailbox's absent fields with their
// defaults and checks it: known fields only, valid values, an existing
// customer, and no mailbox listed twice.
func (st *State) normalizeMailboxes(custs map[int]*Customer, rules *rules) error {
	fields := schema.Fields()
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.Name] = true
	}
	boxes := map[boxKey]bool{}
	for i, m := range st.Mailboxes {
		if m == nil {
			return fmt.Errorf("mailbox %d: null", i+1)
		}
		where := fmt.Sprintf("mailbox %d (%s, customer %s)", i+1, strconv.Quote(m["mailbox"]), m["customer"])
		if err := m.fill(fields, known, rules); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		cid, _ := strconv.Atoi(m["customer"])
		if custs[cid] == nil {
			return fmt.Errorf("%s: customer %d does not exist", where, cid)
		}
		k := boxKey{cid, m["mailbox"]}
		if boxes[k] {
			return fmt.Errorf("%s: listed twice", where)
		}
		boxes[k] = true
	}
	return nil
}

// fill refuses fields not known, sets absent fields other than mailbox and
// customer to their defaults, and checks every value by rules.
func (m Mailbox) fill(fields []schema.Field, known map[string]bool, rules *rules) error {
	for k := range m {
		if !known[k] {
			msg := fmt.Sprintf("unknown field %q", k)
			if c := schema.Closest(k); c != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", c)
			}
			return errors.New(msg)
		}
	}
	for _, f := range fields {
		v, ok := m[f.Name]
		if !ok {
			if f.Name == "mailbox" || f.Name == "customer" {
				return fmt.Errorf("%s is required", f.Name)
			}
			v = f.Default
			m[f.Name] = v
		}
		if msg := rules.check(f, v); msg != "" {
			return fmt.Errorf("%s: %s", f.Name, msg)
		}
	}
	return nil
}

// boxKey identifies a mailbox.
type boxKey struct {
	customer int
	mailbox  string
}

// lessMailbox orders mailbox names naturally: numbers by value, then text.
func lessMailbox(a, b string) int {
	ad, bd := schema.Digits(a), schema.Digits(b)
	switch {
	case ad && bd:
		if len(a) != len(b) {
			return len(a) - len(b)
		}
	case ad:
		return -1
	case bd:
		return 1
	}
	return strings.Compare(a, b)
}
