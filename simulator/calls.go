package simulator

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// apiCall is an authenticated call on its way through the checks.
type apiCall struct {
	fn    string
	p     *params
	u     User
	cid   int  // the target customer: the one sent, or the user's own
	cidOK bool // false when customer was sent malformed or more than once
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
	c := apiCall{fn: fn, p: p, u: u, cid: u.Customer, cidOK: true}
	if v, sent := p.one("customer"); sent {
		c.cid, c.cidOK = atoi(v)
	} else if p.has("customer") {
		c.cidOK = false // sent twice: the 400 check says so
	}
	for _, code := range s.pol.order {
		if rep, refused := s.runCheck(code, &c); refused {
			return rep
		}
	}
	return s.perform(&c, lose, ignore)
}

// runCheck runs the check that answers with code (the 401 has been
// checked already) and reports whether it refuses the call.
func (s *Server) runCheck(code string, c *apiCall) (reply, bool) {
	switch code {
	case codeRole:
		if c.fn == fnUpdate && c.u.Role == RoleReadonly && s.pol.invented.on(RuleRoles) {
			return fail(codeRole, "", fmt.Sprintf("Your role (%s) does not allow mailbox updates", c.u.Role)), true
		}
	case codePlan:
		if c.fn == fnUpdate && c.cidOK && s.visible(c.u, c.cid) {
			if msg := s.planRefusal(c.u, c.cid); msg != "" {
				return fail(codePlan, "", msg), true
			}
		}
	case codeInvalid:
		if bad := s.checkParams(c.fn, c.p); len(bad) > 0 {
			return reply{entries: bad}, true
		}
	case codeNotFound:
		return s.notFound(c.fn, c.u, c.cid, c.p)
	}
	return reply{}, false
}

// perform runs a call that passed every check.
func (s *Server) perform(c *apiCall, lose, ignore bool) reply {
	switch c.fn {
	case fnGet:
		mb, _ := c.p.one("mailbox")
		s.mu.Lock()
		m := s.wireMailbox(boxKey{c.cid, mb})
		s.mu.Unlock()
		return reply{entries: []entry{{codeOK, "", "OK"}}, data: m}
	case fnList:
		return reply{entries: []entry{{codeOK, "", "OK"}}, data: s.list(c.cid)}
	}
	return s.update(c.u, c.cid, c.p, lose, ignore)
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
	bad := s.unknownParams(fn, p)
	names := append(schema.Names(), "validation")
	for _, name := range names {
		if !allowed(fn, name) {
			continue
		}
		if msg := s.paramProblem(fn, name, p.values[name]); msg != "" {
			bad = append(bad, entry{codeInvalid, name, msg})
		}
	}
	return bad
}

// unknownParams returns a 400 entry for every parameter fn does not
// take, in the order sent (RuleUnknownParam), with a close name to
// suggest when there is one.
func (s *Server) unknownParams(fn string, p *params) []entry {
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
	return bad
}

// paramProblem says what is wrong with the values vs sent for a
// parameter fn takes, "" when nothing: sent twice, missing when
// required, or invalid.
func (s *Server) paramProblem(fn, name string, vs []string) string {
	switch {
	case len(vs) > 1:
		return fmt.Sprintf("Sent %d times; send it once", len(vs))
	case len(vs) == 0:
		if name == "mailbox" {
			return "Required"
		}
		return ""
	case name == "validation":
		if vs[0] != "0" && vs[0] != "1" {
			return fmt.Sprintf("Must be 0 or 1, got %s", quote(vs[0]))
		}
		return ""
	}
	f, _ := schema.Lookup(name)
	msg := s.rules.check(f, vs[0])
	if msg != "" && fn == fnList && name == "customer" {
		return "Invalid customer specified."
	}
	return capitalize(msg)
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
