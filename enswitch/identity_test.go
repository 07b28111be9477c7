package enswitch

import "testing"

func TestSwitchID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://Switch.Example.com", "https://switch.example.com"},
		{"https://switch.example.com:443/", "https://switch.example.com"},
		{"HTTPS://switch.example.com/api/json/", "https://switch.example.com"},
		{"https://admin:secret@switch.example.com/?x=1#f", "https://switch.example.com"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:80", "http://127.0.0.1"},
		{"https://[::1]:8443/", "https://[::1]:8443"},
		{"https://switch.example.com/enswitch", "https://switch.example.com/enswitch"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SwitchID(tt.in); got != tt.want {
				t.Errorf("SwitchID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if SwitchID("https://a.example.com") == SwitchID("https://b.example.com") {
		t.Error("two hosts give one SwitchID")
	}
	if SwitchID("http://127.0.0.1:8080") == SwitchID("http://127.0.0.1:8081") {
		t.Error("two ports give one SwitchID")
	}
}
