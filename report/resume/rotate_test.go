package resume

import "testing"

func TestCompanionPath(t *testing.T) {
	const old, to = "/d/nightly.report.csv", "/d/nightly.report.20260101T020000Z.csv"
	tests := []struct{ name, c, want string }{
		{"undo file beside the report", "/d/nightly.report.undo.csv", "/d/nightly.report.20260101T020000Z.undo.csv"},
		{"undo journal", "/d/nightly.report.undo.csv.journal", "/d/nightly.report.20260101T020000Z.undo.csv.journal"},
		{"named apart (--undo)", "/var/undo/night.csv", "/var/undo/night.20260101T020000Z.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := companionPath(tt.c, old, to); got != tt.want {
				t.Errorf("companionPath(%q) = %q, want %q", tt.c, got, tt.want)
			}
		})
	}
}
