package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// Tests of the engine's safety rules driven through run() and the real
// binary against the simulator or small hostile servers.

// ownCustomerWorld is the demo world plus mailbox 1000 of customer 1, the
// admin login's own customer: a row that names no customer reaches it.
func ownCustomerWorld(t *testing.T) *simulator.State {
	t.Helper()
	st := simulator.Generate(4, 1)
	if u := st.Users[0]; u.Username != "admin" || u.Customer != simulator.CustomerOperator {
		t.Fatalf("demo admin is %s of customer %d, want admin of %d", u.Username, u.Customer, simulator.CustomerOperator)
	}
	m := simulator.Mailbox{}
	for k, v := range st.Mailboxes[0] {
		m[k] = v
	}
	m["mailbox"], m["customer"] = "1000", fmt.Sprint(simulator.CustomerOperator)
	st.Mailboxes = append(st.Mailboxes, m)
	return st
}

// Rows for one mailbox, with and without the customer column, are one
// queue: 40 alternating rows `1000,,x` / `1000,1,y` at 64 workers reach
// the simulator in file order and leave the last row's value, run after
// run.
func TestMailboxWithAndWithoutCustomerOneQueue(t *testing.T) {
	var b strings.Builder
	b.WriteString("mailbox,customer,description\n")
	var want []string
	for i := range 40 {
		cust := ""
		if i%2 == 1 {
			cust = "1"
		}
		fmt.Fprintf(&b, "1000,%s,row %d\n", cust, i+1)
		want = append(want, fmt.Sprintf("row %d", i+1))
	}
	content := b.String()
	for run := range 6 {
		sim := startSim(t, simulator.Config{State: ownCustomerWorld(t)})
		in := writeFile(t, "own.csv", content)
		res := runCLI(t, context.Background(), simEnv(sim), "run", in, "--rate", "0", "--workers", "64", "--progress", "none")
		if res.code != exitOK {
			t.Fatalf("run %d: exit %d\n%s", run, res.code, res.stderr)
		}
		var order []string
		for _, a := range sim.Audit() {
			if a.Customer != simulator.CustomerOperator || a.Mailbox != "1000" {
				t.Fatalf("run %d: update of %d/%s, want only 1/1000", run, a.Customer, a.Mailbox)
			}
			order = append(order, a.Params["description"])
		}
		if got := strings.Join(order, ","); got != strings.Join(want, ",") {
			t.Fatalf("run %d: applied in order\n%s\nwant\n%s", run, got, strings.Join(want, ","))
		}
		if m, _ := sim.Mailbox(simulator.CustomerOperator, "1000"); m["description"] != "row 40" {
			t.Fatalf("run %d: description = %q, want %q", run, m["description"], "row 40")
		}
	}
}
