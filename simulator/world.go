package simulator

import (
	"io"
	"slices"

	"github.com/ensbulk/ensbulk/batch/schema"
)

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
