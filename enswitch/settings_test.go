package enswitch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/simulator"
)

// The client's advice names settings plainly, or as a command names them
// (its flags) through Config.Settings.
func TestSettingsWordTheAdvice(t *testing.T) {
	flags := enswitch.Settings{URL: "--url", CAFile: "--ca-file", Auth: "--auth"}
	for _, tc := range []struct {
		name     string
		cfg      simulator.Config
		auth     enswitch.AuthMode
		settings enswitch.Settings
		want     string
	}{
		{"redirect, plain", simulator.Config{Faults: simulator.Faults{RedirectTo: "https://switch.example.com"}}, "", enswitch.Settings{}, "put the final URL in the base URL"},
		{"redirect, flags", simulator.Config{Faults: simulator.Faults{RedirectTo: "https://switch.example.com"}}, "", flags, "put the final URL in --url"},
		{"no tokens, plain", simulator.Config{Auth: simulator.AuthConfig{NoTokens: true}}, enswitch.AuthToken, enswitch.Settings{}, "use the authentication mode password or auto"},
		{"no tokens, flags", simulator.Config{Auth: simulator.AuthConfig{NoTokens: true}}, enswitch.AuthToken, flags, "--auth token: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, ts := startSim(t, tc.cfg)
			hc := enswitch.NewHTTPClient(enswitch.HTTPOptions{Timeout: 5 * time.Second})
			t.Cleanup(hc.CloseIdleConnections)
			c, err := enswitch.New(enswitch.Config{BaseURL: ts.URL, Username: "admin", Password: adminPass, HTTPClient: hc, Auth: tc.auth, Settings: tc.settings})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Update(context.Background(), row1001, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Update: %v; want an error saying %q", err, tc.want)
			}
		})
	}
}
