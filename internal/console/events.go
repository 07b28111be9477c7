package console

import (
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
)

// LogNotApplied is a batch.Options.OnResult hook: a warning for every row
// the server or the local checks refused, or that ran out of retries.
// Skipped rows are left to the summary: after an abort there can be
// thousands, all for one reason.
func LogNotApplied(log *zap.Logger) func(batch.Result) {
	return func(r batch.Result) {
		switch r.Status {
		case batch.StatusOK, batch.StatusValid, batch.StatusSkipped, batch.StatusUnchanged, batch.StatusChange:
			return
		case batch.StatusAppliedUnvalidated:
			log.Error("row applied during validation: the server ignored validation=1", zap.Int("row", r.Row),
				zap.String("mailbox", r.Mailbox), zap.String("code", r.Code), zap.String("message", r.Message))
			return
		}
		log.Warn("row not applied", zap.Int("row", r.Row), zap.String("mailbox", r.Mailbox),
			zap.String("status", string(r.Status)), zap.String("phase", string(r.Phase)),
			zap.String("code", r.Code), zap.String("key", r.Key), zap.String("message", r.Message),
			zap.Int("attempts", r.Attempts))
	}
}
