package enswitch_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// A user with two-factor login on a 4.4 server: user/login answers 202.
// In auto and token mode every call fails with ErrTwoFactor, of kind
// Unauthorized, after that one login: no fallback to the password, no
// update sent, no second login. On 4.3 the same user logs in as any
// other (the 202 is 4.4's).
func TestTwoFactorLogin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    enswitch.AuthMode
		version string
		want2FA bool
	}{
		{"auto on 4.4", enswitch.AuthAuto, "4.4", true},
		{"token on 4.4", enswitch.AuthToken, "4.4", true},
		{"auto on 4.3", enswitch.AuthAuto, "4.3", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, ts := startSim(t, simulator.Config{Mailboxes: 20, VersionCompat: tc.version, TwoFactorUsers: []string{"acme"}})
			var notices []string
			c := tokenClient(t, ts.URL, "acme-demo-pass", enswitch.Config{Auth: tc.mode,
				Notice: func(m string) { notices = append(notices, m) }})
			for i := range 3 {
				_, err := c.Update(context.Background(), row1001, true)
				if !tc.want2FA {
					if err != nil {
						t.Fatalf("call %d: %v, want success", i, err)
					}
					continue
				}
				if !errors.Is(err, enswitch.ErrTwoFactor) {
					t.Fatalf("call %d: %v, want ErrTwoFactor", i, err)
				}
				be := asBatchError(t, err)
				if be.Kind != batch.KindUnauthorized || be.Code != "202" {
					t.Errorf("call %d: kind %v code %q, want unauthorized 202", i, be.Kind, be.Code)
				}
				if !strings.Contains(err.Error(), "two-factor") {
					t.Errorf("call %d: %q does not say two-factor", i, err)
				}
			}
			st, a := sim.Stats(), sim.AuthStats()
			if tc.want2FA {
				if a.Logins != 1 || a.PasswordRequests != 1 || a.TokenRequests != 0 {
					t.Errorf("simulator saw %+v; want the one login and nothing else", a)
				}
				if st.Validated != 0 || st.Applied != 0 {
					t.Errorf("simulator validated %d, applied %d; want nothing sent", st.Validated, st.Applied)
				}
				if len(notices) != 0 {
					t.Errorf("notices %q: a two-factor user is no server without tokens", notices)
				}
				if got := c.AuthInUse(); got == enswitch.AuthPassword {
					t.Errorf("AuthInUse = %q: fell back to the password", got)
				}
			} else if a.Logins != 1 || st.Validated != 3 {
				t.Errorf("simulator saw %+v, validated %d; want one login, three validations", a, st.Validated)
			}
		})
	}
}
