package main

import (
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/job"
)

// authFlag registers --auth on f; its value goes to *p.
func authFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "auth", "", "authentication: auto (a token where the server issues them, else the password), token or password (env ENSWITCH_AUTH; default auto)")
}

// authSettings are the client settings --auth decides: the mode and who
// is told of a fallback to the password.
func authSettings(env *Env, flagValue string, log *zap.Logger) (enswitch.AuthMode, *job.Notices, error) {
	v := firstNonEmpty(flagValue, env.Getenv("ENSWITCH_AUTH"), string(enswitch.AuthAuto))
	mode, err := enswitch.ParseAuthMode(v)
	if err != nil {
		return "", nil, usageErr("--auth: %v", err)
	}
	return mode, job.NewNotices(log), nil
}
