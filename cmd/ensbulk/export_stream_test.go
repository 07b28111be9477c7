package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// export streams mailboxes/list: a customer of 20,000 mailboxes (some 14
// MB of JSON, past the 4 MiB the client reads of an ordinary answer,
// where export failed with "unexpected end of JSON input") exports
// whole; a list cut short fails the export (exit 3) naming the customer
// and how far it got, never a short file taken for the customer. Both
// exports get a timeout longer than a loaded machine takes to stream the
// list, so that the cut, not the clock, ends the second.
func TestExportLargeCustomer(t *testing.T) {
	t.Parallel() // its own simulator and files
	// A list of ~5.7 MB: beyond the 4 MiB an answer once could be, when
	// a customer of 8,800 mailboxes could not be exported (issue 22).
	const perCustomer = 12000
	sim := startSim(t, simulator.Config{Mailboxes: 2 * perCustomer})
	out := filepath.Join(t.TempDir(), "big.csv")
	res := runCLI(t, context.Background(), simEnv(sim), "export", "--customer", "100", "--output", out, "--timeout", "2m")
	if res.code != exitOK {
		t.Fatalf("export: exit %d\n%s", res.code, tail(res.stderr, 10))
	}
	if n := countRecords(t, out); n != perCustomer+1 {
		t.Errorf("export wrote %d records, want the header and %d mailboxes", n, perCustomer)
	}
	if !strings.Contains(res.stderr, "export: 12000 mailboxes of 1 customer(s)") {
		t.Errorf("stderr lacks the count:\n%s", tail(res.stderr, 10))
	}

	if err := sim.SetFaults(simulator.Faults{TruncateRate: 1}); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, context.Background(), simEnv(sim), "export", "--customer", "101", "--output", filepath.Join(t.TempDir(), "cut.csv"), "--auth", "password", "--timeout", "2m")
	if res.code != exitAborted || !strings.Contains(res.stderr, "mailboxes/list of customer 101: truncated after ") {
		t.Errorf("export of a cut list: exit %d, want %d naming the customer and how far it got:\n%s", res.code, exitAborted, tail(res.stderr, 10))
	}
}
