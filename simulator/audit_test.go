package simulator_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// TestAuditKeepsMostRecent: past its limit the audit log holds the last
// AuditLimit updates, oldest first, however often it has wrapped.
func TestAuditKeepsMostRecent(t *testing.T) {
	const limit = 5
	sim, ts := start(t, simulator.Config{Mailboxes: 4, AuditLimit: limit})
	c := newClient(t, ts.URL, "acme", demoPasswords["acme"], 0)
	for _, n := range []int{3, 5, 6, 12, 13} {
		for sim.Stats().Applied < int64(n) {
			i := sim.Stats().Applied + 1
			if _, err := c.Update(context.Background(), ps("mailbox", "1001", "customer", "100", "description", "d"+strconv.FormatInt(i, 10)), false); err != nil {
				t.Fatal(err)
			}
		}
		audit := sim.Audit()
		if want := min(n, limit); len(audit) != want {
			t.Fatalf("after %d updates: %d entries, want %d", n, len(audit), want)
		}
		for i, e := range audit {
			seq := n - len(audit) + 1 + i
			if e.Seq != seq || e.Params["description"] != "d"+strconv.Itoa(seq) {
				t.Errorf("after %d updates: entry %d = seq %d %q, want seq %d", n, i, e.Seq, e.Params["description"], seq)
			}
		}
	}
}
