package main

import (
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
