package simulator

import (
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// DefaultMailboxes is the number of mailboxes Generate makes when a
// Config names no state.
const DefaultMailboxes = 200

// Customers of the demo world.
const (
	CustomerOperator = 1   // "Switch Operator", the root
	CustomerAcme     = 10  // "Acme Voice", a reseller under the operator
	CustomerDental   = 100 // "Northwind Dental", under Acme
	CustomerHotels   = 101 // "Blue Fjord Hotels", under Acme
	CustomerLegacy   = 102 // "Legacy Plan Ltd", under Acme; its rate plan forbids mailbox updates
)

// demoCustomers and demoUsers are the fixed part of every generated world;
// sample files and docs are written against them.
func demoCustomers() []Customer {
	return []Customer{
		{ID: CustomerOperator, Name: "Switch Operator", RatePlan: "operator"},
		{ID: CustomerAcme, Name: "Acme Voice", Parent: CustomerOperator, RatePlan: "reseller"},
		{ID: CustomerDental, Name: "Northwind Dental", Parent: CustomerAcme, RatePlan: "business"},
		{ID: CustomerHotels, Name: "Blue Fjord Hotels", Parent: CustomerAcme, RatePlan: "business"},
		{ID: CustomerLegacy, Name: "Legacy Plan Ltd", Parent: CustomerAcme, RatePlan: "legacy", MailboxUpdatesForbidden: true},
	}
}

func demoUsers() []User {
	return []User{
		{Username: "admin", Password: "admin-demo-pass", Role: RoleAdministrator, Customer: CustomerOperator},
		{Username: "acme", Password: "acme-demo-pass", Role: RoleReseller, Customer: CustomerAcme},
		{Username: "northwind", Password: "northwind-demo-pass", Role: RoleUser, Customer: CustomerDental},
		{Username: "frontdesk", Password: "frontdesk-demo-pass", Role: RoleResidential, Customer: CustomerHotels},
		{Username: "auditor", Password: "auditor-demo-pass", Role: RoleReadonly, Customer: CustomerAcme},
	}
}

// Generate returns the demo world with n generated mailboxes: mailbox i
// (0 <= i < n) is numbered 1001+i and belongs to customer 100 when i is
// even, 101 when odd; customer 102 also has mailboxes 9001, 9002 and 9003.
// The customers and users are always the same (see the package comment).
// Other field values are pseudo-random from seed but always valid; the
// same n and seed give the same state on every machine and Go version.
func Generate(n int, seed int64) *State {
	n = max(n, 0)
	r := newRNG(seed)
	st := &State{Customers: demoCustomers(), Users: demoUsers()}
	st.Mailboxes = make([]Mailbox, 0, n+3)
	for i := range n {
		cust := CustomerDental
		if i%2 == 1 {
			cust = CustomerHotels
		}
		st.Mailboxes = append(st.Mailboxes, genMailbox(r, cust, strconv.Itoa(1001+i)))
	}
	for _, num := range []string{"9001", "9002", "9003"} {
		st.Mailboxes = append(st.Mailboxes, genMailbox(r, CustomerLegacy, num))
	}
	return st
}

// genMailbox makes a mailbox from the schema's generator hints. Labels
// are drawn first, then the other fields in send order: the order of the
// draws is what makes a seed's world, and this one is the order the
// world was drawn in before the hints lived in the schema (goldens and
// docs quote that world). A field added to the schema with a hint draws
// at its place in send order.
func genMailbox(r *rng, customer int, number string) Mailbox {
	fields := schema.Fields()
	m := make(Mailbox, len(fields))
	for _, f := range fields {
		if f.Gen.Kind == schema.GenLabel {
			m[f.Name] = genValue(r, f, m, number)
		}
	}
	for _, f := range fields {
		switch {
		case f.Name == "mailbox":
			m[f.Name] = number
		case f.Name == "customer":
			m[f.Name] = strconv.Itoa(customer)
		case f.Gen.Kind != schema.GenLabel:
			m[f.Name] = genValue(r, f, m, number)
		}
	}
	return m
}

// genValue draws a value of f as its hint says; m holds the fields
// generated so far.
func genValue(r *rng, f schema.Field, m Mailbox, number string) string {
	g := f.Gen
	if keepsDefault(r, g, m) {
		return f.Default
	}
	switch g.Kind {
	case schema.GenBit:
		return strconv.Itoa(r.intn(2))
	case schema.GenPick:
		return genPick(r, f)
	case schema.GenLabel:
		return genPick(r, f) + " " + number
	case schema.GenDigits:
		return genDigits(r, g)
	case schema.GenNumber:
		return strconv.Itoa(g.From + r.intn(g.Span))
	case schema.GenTemplate:
		return strings.ReplaceAll(g.Template, "{mailbox}", number)
	}
	return f.Default
}

// keepsDefault reports whether the hint leaves the field at its default
// this time: when the field it depends on is empty, or by the draws of
// SetOneIn and DefaultOneIn (drawn only as far as needed, in that order).
func keepsDefault(r *rng, g schema.Gen, m Mailbox) bool {
	return g.UnlessEmpty != "" && m[g.UnlessEmpty] == "" ||
		g.SetOneIn > 1 && r.intn(g.SetOneIn) != 0 ||
		g.DefaultOneIn > 1 && r.intn(g.DefaultOneIn) == 0
}

// genPick draws one of the hint's choices, or of the field's values.
func genPick(r *rng, f schema.Field) string {
	vs := f.Gen.Choices
	if vs == nil {
		vs = f.Values
	}
	return vs[r.intn(len(vs))]
}

// genDigits draws Prefix and then Digits to MaxDigits digits.
func genDigits(r *rng, g schema.Gen) string {
	n := g.Digits
	if g.MaxDigits > n {
		n += r.intn(g.MaxDigits - n + 1)
	}
	b := []byte(g.Prefix)
	for range n {
		b = append(b, byte('0'+r.intn(10)))
	}
	return string(b)
}

// rng is splitmix64: tiny, and its sequence is ours, so a seed means the
// same world and the same faults on every Go version.
type rng struct{ s uint64 }

func newRNG(seed int64) *rng { return &rng{s: uint64(seed) ^ 0x656e7362756c6b} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); the modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }
