package console

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ensbulk/ensbulk/batch"
)

func TestLogNotApplied(t *testing.T) {
	tests := []struct {
		status batch.Status
		logged bool
	}{
		{batch.StatusOK, false},
		{batch.StatusValid, false},
		{batch.StatusSkipped, false},
		{batch.StatusInvalid, true},
		{batch.StatusFailed, true},
		{batch.StatusError, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			LogNotApplied(zap.New(core))(batch.Result{Row: 7, Mailbox: "1001", Status: tt.status, Code: "404", Message: "no such mailbox"})
			if got := logs.Len() == 1; got != tt.logged {
				t.Fatalf("logged = %v, want %v", got, tt.logged)
			}
			if !tt.logged {
				return
			}
			e := logs.All()[0]
			if e.Message != "row not applied" || e.Level != zap.WarnLevel {
				t.Errorf("entry = %s %q, want warn %q", e.Level, e.Message, "row not applied")
			}
			f := e.ContextMap()
			if f["row"] != int64(7) || f["mailbox"] != "1001" || f["status"] != string(tt.status) || f["code"] != "404" {
				t.Errorf("fields = %v", f)
			}
		})
	}
}
