package simulator_test

import (
	"context"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/simulator"
)

// TestHangEndsWhenClientGivesUp: a hang without HangFor holds a request
// until its client gives up, and no longer: once the client's timeout has
// fired, the handler ends (nothing in flight) without Close. Before, the
// server never noticed the client leaving (the body was unread), so the
// handler stayed forever and httptest.Server.Close waited on it.
func TestHangEndsWhenClientGivesUp(t *testing.T) {
	sim, ts := start(t, simulator.Config{Mailboxes: 2, Faults: simulator.Faults{HangRate: 1}})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 200*time.Millisecond)
	for _, validate := range []bool{true, false} {
		_, err := c.Update(context.Background(), ps("mailbox", "1001", "customer", "100", "description", "held"), validate)
		if got := outcome(batch.Response{}, err); got != "transient" {
			t.Fatalf("hung request: %s (%v), want a transient timeout", got, err)
		}
		waitFor(t, "the hung handler to end after its client gave up", func() bool { return sim.Stats().InFlight == 0 })
	}
	if st := sim.Stats(); st.Faults[simulator.FaultHang] != 2 || st.Applied != 0 {
		t.Errorf("stats = %+v, want 2 hangs and nothing applied", st)
	}
}
