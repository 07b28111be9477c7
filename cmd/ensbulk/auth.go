package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/enswitch"
)

// authFlag registers --auth on c; its value goes to *p.
func authFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "auth", "", "authentication: auto (a token where the server issues them, else the password), token or password (env ENSWITCH_AUTH; default auto)")
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

// loginFirst logs in, when the client uses tokens, as the run's first
// request, after the gate lets requests go (a --window is honoured).
//
// The client would log in lazily inside the first paced call; but every
// worker's call waits for that first token, and their slots of the pace
// pass meanwhile, so they would all go at once when it came: a burst at
// the start of every run. Logged in first, the run's pace starts after the
// login, and renewals do not hold anyone (the old token serves until the
// new one comes). A failure here is left to the run: its first call logs
// in again and the engine handles the answer as for any request.
func loginFirst(ctx context.Context, cl *enswitch.Client, gate func(context.Context) error, timeout time.Duration, log *zap.Logger) {
	if cl.AuthInUse() == enswitch.AuthPassword {
		return
	}
	if gate != nil && gate(ctx) != nil {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cl.Login(lctx); err != nil {
		log.Debug("login before the run failed; the first request logs in again", zap.Error(err))
		return
	}
	own, _ := cl.OwnCustomer()
	log.Info("authenticated", zap.String("auth", string(cl.AuthInUse())), zap.String("own_customer", own))
}
