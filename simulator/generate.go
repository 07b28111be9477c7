package simulator

import (
	"fmt"
	"strconv"
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

var (
	genNames = []string{"Reception", "Front desk", "Dr. Hansen", "Dr. Okafor", "Billing",
		"Night porter", "Housekeeping", "Sales", "Support", "Conference room", "Bar", "Spa"}
	genZones = []string{"Europe/London", "Europe/Oslo", "America/New_York", "Europe/Berlin", "Australia/Sydney"}
	genDType = []string{"", "", "mailbox", "phone", "queue"}
)

func genMailbox(r *rng, customer int, number string) Mailbox {
	bit := func() string { return strconv.Itoa(r.intn(2)) }
	pick := func(vs []string) string { return vs[r.intn(len(vs))] }
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.intn(10))
		}
		return string(b)
	}
	m := Mailbox{
		"mailbox":     number,
		"customer":    strconv.Itoa(customer),
		"description": fmt.Sprintf("%s %s", pick(genNames), number),
	}
	if r.intn(3) == 0 {
		m["callerid"] = ""
	} else {
		m["callerid"] = "+4420" + digits(7)
	}
	m["dtype"] = pick(genDType)
	m["dnumber"] = ""
	if m["dtype"] != "" {
		m["dnumber"] = strconv.Itoa(2000 + r.intn(1000))
	}
	m["envelope"] = bit()
	m["notify_dnumber"] = ""
	if r.intn(4) == 0 {
		m["notify_dnumber"] = "+447700" + digits(6)
	}
	m["notify_email"] = pick([]string{"owner", "owner_wav", ""})
	m["notify_for"] = pick([]string{"voicemail", "fax", "voicemail_fax", ""})
	m["notify_ltype"] = pick([]string{"voicemailbox", "voicemailboxpin", "voicemaillogin"})
	m["notify_message"] = pick([]string{"owner", ""})
	m["notify_only"] = bit()
	m["owner"] = "0"
	if r.intn(2) == 0 {
		m["owner"] = strconv.Itoa(5000 + r.intn(5000))
	}
	m["pager"] = ""
	if r.intn(3) == 0 {
		m["pager"] = "vm-" + number + "@example.net"
	}
	m["pager_attach"] = bit()
	m["panel"] = bit()
	m["pin"] = digits(4 + r.intn(3))
	m["play"] = pick([]string{"oldest", "newest"})
	m["saycid"] = bit()
	m["sayduration"] = bit()
	m["temporary_active"] = bit()
	m["timezone"] = pick(genZones)
	return m
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
