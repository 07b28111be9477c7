package job

import (
	"io"
	"sync"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/internal/undo"
)

// Env is everything a job touches outside itself, as the command hands
// it over, so that tests can drive a job without the binary.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	StdinTerminal  func() bool
	StderrTerminal bool
	// StderrStamped: Stderr starts every line with the time itself (off a
	// terminal), so the logger leaves its own time out.
	StderrStamped bool
	// AtExit registers what must be done before the process exits without
	// returning (a second signal); the returned func unregisters it. nil:
	// nothing exits that way.
	AtExit func(func()) func()
	// Connect makes the connection once the job's logger exists (the
	// command knows the flags and the environment that say where to).
	Connect func(log *zap.Logger) (*Conn, error)
	// ExitCode is the command's exit code for what a job returns: the
	// summary and --summary-json say it.
	ExitCode func(error) int
}

// atExit registers fn with env.AtExit, if any.
func (env *Env) atExit(fn func()) func() {
	if env.AtExit == nil {
		return func() {}
	}
	return env.AtExit(fn)
}

// style is what env's stderr can show.
func (env *Env) style() console.Style {
	st := console.StyleOf(env.StderrTerminal, env.Getenv)
	st.Stamped = env.StderrStamped && !env.StderrTerminal
	return st
}

// Conn is a ready client and what may be said about it.
type Conn struct {
	URL, User string // the URL redacted
	Client    *enswitch.Client
	Notices   *Notices
}

// identity is whom the files of this run belong to.
func (c *Conn) identity() undo.Identity {
	own, _ := c.Client.OwnCustomer()
	return undo.Identity{Switch: enswitch.SwitchID(c.URL), User: c.User, Customer: own}
}

// Notices logs what the client says of its authentication (the fallback
// to the password). The preflight holds them: a fallback met while the
// settings are wrong (a wrong path answers user/login with a 404 too) is
// no news, and the mistake is said in one line.
type Notices struct {
	log *zap.Logger

	mu   sync.Mutex
	held bool
	msgs []string
}

// NewNotices are the notices of a connection, logged to log.
func NewNotices(log *zap.Logger) *Notices { return &Notices{log: log} }

// Say is the client's Notice.
func (n *Notices) Say(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.held {
		n.msgs = append(n.msgs, msg)
		return
	}
	n.log.Warn(msg)
}

// hold keeps what is said until release or drop.
func (n *Notices) hold() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.held = true
}

// release logs what was held, and what comes next at once.
func (n *Notices) release() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.msgs {
		n.log.Warn(m)
	}
	n.msgs, n.held = nil, false
}

// drop forgets what was held.
func (n *Notices) drop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs, n.held = nil, false
}

// sequence is one func that calls fns in order.
func sequence(fns ...func()) func() {
	return func() {
		for _, fn := range fns {
			fn()
		}
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
