package main

import (
	"context"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/enswitch"
)

// authFlag registers --auth on f; its value goes to *p.
func authFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "auth", "", "authentication: auto (a token where the server issues them, else the password), token or password (env ENSWITCH_AUTH; default auto)")
}

// authSettings are the client settings --auth decides: the mode and who
// is told of a fallback to the password.
func authSettings(env *Env, flagValue string, log *zap.Logger) (enswitch.AuthMode, func(string), error) {
	v := firstNonEmpty(flagValue, env.Getenv("ENSWITCH_AUTH"), string(enswitch.AuthAuto))
	mode, err := enswitch.ParseAuthMode(v)
	if err != nil {
		return "", nil, usageErr("--auth: %v", err)
	}
	notice := func(msg string) { log.Warn(msg) }
	return mode, notice, nil
}

// authGate is the run's gate with, after it, the run's first login when
// the client uses tokens.
//
// The client would log in inside the first paced call; but every worker's
// call would wait there for that first token, holding a slot of the pace
// that passes meanwhile, and all would go at once when the token came: a
// burst at the start of every run. The gate runs before a worker takes its
// slot, and the engine calls it only once the input has been checked
// whole (a file-level error still sends nothing). Only the first login is
// made here: renewals happen inside paced calls while the other workers go
// on with the old token, and a failed first login is left to the calls,
// which log in again (or answer the login's refusal) and are counted by
// the engine like any request.
func authGate(cl *enswitch.Client, timeout time.Duration, log *zap.Logger, next func(context.Context) error) func(context.Context) error {
	if cl.AuthInUse() == enswitch.AuthPassword {
		return next
	}
	var once sync.Once
	return func(ctx context.Context) error {
		if next != nil {
			if err := next(ctx); err != nil {
				return err
			}
		}
		once.Do(func() {
			lctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if err := cl.Login(lctx); err != nil {
				log.Debug("first login failed; the requests log in again", zap.Error(err))
				return
			}
			own, _ := cl.OwnCustomer()
			log.Info("authenticated", zap.String("auth", string(cl.AuthInUse())), zap.String("own_customer", own))
		})
		return nil
	}
}
