package enswitch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// TestTimeoutSaysTimeout: a request that outlives its deadline says
// "timeout" whichever deadline fired, the caller's (the engine sets one
// per request) or the http.Client's; a cancelled caller does not.
func TestTimeoutSaysTimeout(t *testing.T) {
	_, ts := startSim(t, simulator.Config{Faults: simulator.Faults{HangRate: 1}})
	tests := []struct {
		name    string
		client  time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		timeout bool
	}{
		{"caller's deadline first", 5 * time.Second, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 80*time.Millisecond)
		}, true},
		{"client's timeout first", 80 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 5*time.Second)
		}, true},
		{"caller cancelled", 5 * time.Second, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, ts.URL, "admin", adminPass, enswitch.HTTPOptions{Timeout: tt.client})
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := c.Update(ctx, row1001, false)
			if err == nil {
				t.Fatal("a hung request succeeded")
			}
			if got := strings.HasPrefix(asBatchError(t, err).Message, "timeout: "); got != tt.timeout {
				t.Errorf("message %q: says timeout %v, want %v", asBatchError(t, err).Message, got, tt.timeout)
			}
			if !tt.timeout && !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled: %v, want context.Canceled", err)
			}
		})
	}
}
