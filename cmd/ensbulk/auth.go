package main

import (
	"sync"

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
func authSettings(env *Env, flagValue string, log *zap.Logger) (enswitch.AuthMode, *authNotices, error) {
	v := firstNonEmpty(flagValue, env.Getenv("ENSWITCH_AUTH"), string(enswitch.AuthAuto))
	mode, err := enswitch.ParseAuthMode(v)
	if err != nil {
		return "", nil, usageErr("--auth: %v", err)
	}
	return mode, &authNotices{log: log}, nil
}

// authNotices logs what the client says of its authentication (the
// fallback to the password). The preflight holds them: a fallback met
// while the settings are wrong (a wrong path answers user/login with a
// 404 too) is no news, and the mistake is said in one line.
type authNotices struct {
	log *zap.Logger

	mu   sync.Mutex
	held bool
	msgs []string
}

// say is the client's Notice.
func (n *authNotices) say(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.held {
		n.msgs = append(n.msgs, msg)
		return
	}
	n.log.Warn(msg)
}

// hold keeps what is said until release or drop.
func (n *authNotices) hold() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.held = true
}

// release logs what was held, and what comes next at once.
func (n *authNotices) release() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.msgs {
		n.log.Warn(m)
	}
	n.msgs, n.held = nil, false
}

// drop forgets what was held.
func (n *authNotices) drop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs, n.held = nil, false
}
