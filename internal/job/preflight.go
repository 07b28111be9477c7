package job

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
)

// The preflight: before the first row is sent, and only once the whole
// input has been checked, one request shows whether the settings work:
// the login when the client uses tokens, else a mailboxes/get of the
// first row's mailbox (with --auth auto on a server whose user/login
// answered 404, both: that 404 may be an older server or a wrong path,
// and the read tells which). A mistake that its failure proves stops the
// run before any row is sent, in one line with its fix, and the report
// opened for the run is removed (job.abandon), so that the corrected
// command runs as typed. Without it, each such mistake cost up to 25
// requests carrying the password and ended in "circuit open".
//
// The exit code follows what the failure proves:
//
//   - 2 (usage: fix the command) when something answered and it is not
//     an Enswitch API at that URL: a 404 at the API path, a page that is
//     not JSON, HTTPS spoken to a plain-HTTP port or the reverse. The
//     same command can never work.
//   - 3 (aborted) when the server could not be reached (connection
//     refused, a host that does not resolve), refused the credentials
//     (401), or a fatal fault (TLS certificate, redirect): as for any
//     abort, the same command may work later, once the server is up or
//     the account fixed, which cron may simply retry.
//
// A failure that proves nothing (a timeout, a reset, a 5xx, a 429) does
// not stop the run: the rows' own retries and circuit deal with it, as
// they did before.

// preflightTimeout bounds the preflight's request (--timeout when
// shorter). A server that answers no cheap request within it proves
// nothing about the settings: the run goes on as it would have without
// the check, and a hang costs the start of the run no more than this.
const preflightTimeout = 5 * time.Second

// preflight returns the engine's Preflight for the job's connection.
func (j *job) preflight() func(context.Context, batch.Row, func(context.Context) error) error {
	cn, log := j.conn, j.log
	timeout := preflightTimeout
	if j.o.Timeout > 0 {
		timeout = min(j.o.Timeout, preflightTimeout)
	}
	return func(ctx context.Context, first batch.Row, pace func(context.Context) error) (err error) {
		cl := cn.Client
		cn.Notices.hold()
		defer func() {
			if err != nil {
				cn.Notices.drop()
			} else {
				cn.Notices.release()
			}
		}()
		if cl.AuthInUse() != enswitch.AuthPassword {
			if pace(ctx) != nil {
				return nil // the run is stopping: it says why
			}
			if err := withTimeout(ctx, timeout, cl.Login); err != nil {
				return judge(ctx, cn, enswitch.FnLogin, err, log)
			}
			if cl.AuthInUse() == enswitch.AuthToken {
				own, _ := cl.OwnCustomer()
				log.Info("authenticated", zap.String("auth", string(enswitch.AuthToken)), zap.String("own_customer", own))
				return nil
			}
		}
		if pace(ctx) != nil {
			return nil
		}
		var m enswitch.Mailbox
		if err := withTimeout(ctx, timeout, func(ctx context.Context) (err error) {
			m, err = cl.Get(ctx, first.Mailbox, first.Customer)
			return err
		}); err != nil {
			return judge(ctx, cn, "mailboxes/get", err, log)
		}
		if c, present, null := m.Value("customer"); first.Customer == "" && present && !null && c != "" {
			// Asked without a customer, the server answered from the
			// user's own.
			cl.LearnOwnCustomer(c)
		}
		own, _ := cl.OwnCustomer()
		log.Info("authenticated", zap.String("auth", string(cl.AuthInUse())), zap.String("own_customer", own))
		return nil
	}
}

// TwoFactorError says what a two-factor user's failed login means and what
// to do, as the run's end (exit 3): the API cannot answer a second factor,
// and sending the password with every call instead would go around it.
// done says what was (not) sent.
func TwoFactorError(user string, err error, done string) error {
	return Mark(Aborted, fmt.Errorf("API user %s has two-factor login (%v): ensbulk cannot log in as it and does not go around it with the password; use an API user without two-factor login (ENSWITCH_USER, --user or the profile); %s", user, err, done))
}

func withTimeout(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// judge turns the preflight's failed request to function into the run's
// end when it proves the settings wrong, nil when it does not (the
// answer came from an Enswitch API: a 404 of the mailbox, a 400, a 402
// or 403 of the role; or a fault that may pass; or a signal, which the
// run reports itself).
func judge(ctx context.Context, cn *Conn, function string, err error, log *zap.Logger) error {
	if ctx.Err() != nil {
		return nil
	}
	const sent = "no row was sent"
	at := cn.URL
	switch enswitch.SetupOf(err) {
	case enswitch.SetupRefused:
		return Mark(Aborted, fmt.Errorf("cannot connect to %s: connection refused (nothing listens on that port, or the server is down): check the port of the server URL %s (--url or ENSWITCH_URL); %s", cn.Client.Host(), at, sent))
	case enswitch.SetupUnknownHost:
		return Mark(Aborted, fmt.Errorf("cannot connect to %s: the host name does not resolve (DNS): check the host of the server URL %s (--url or ENSWITCH_URL); %s", cn.Client.Host(), at, sent))
	case enswitch.SetupHTTPSOnHTTP:
		return Mark(Usage, fmt.Errorf("%s answers plain HTTP, not HTTPS: the server URL %s names a port without TLS: use the server's HTTPS port, or http:// if the server really has no TLS (the password then crosses in clear); %s", cn.Client.Host(), at, sent))
	case enswitch.SetupHTTPOnHTTPS:
		return Mark(Usage, fmt.Errorf("%s speaks HTTPS: write the server URL %s with https:// (--url or ENSWITCH_URL); %s", cn.Client.Host(), at, sent))
	case enswitch.SetupWrongPath:
		hint := ""
		if function == enswitch.FnLogin {
			hint = ", or the server is older than Enswitch 4.1 and has no tokens (then use --auth password)"
		}
		return Mark(Usage, fmt.Errorf("%s answered %s with HTTP 404 and no Enswitch answer: the server URL %s must be the server's root, e.g. https://switch.example.com, without /api/json%s; %s", cn.Client.Host(), function, at, hint, sent))
	case enswitch.SetupNotAPI:
		return Mark(Usage, fmt.Errorf("%s answered %s with a page that is not JSON (HTTP 200): not an Enswitch API, perhaps a login page or web front end: the server URL %s must be the Enswitch server's root; %s", cn.Client.Host(), function, at, sent))
	}
	if errors.Is(err, enswitch.ErrTwoFactor) {
		return TwoFactorError(cn.User, err, sent)
	}
	var be *batch.Error
	if !errors.As(err, &be) {
		return nil
	}
	switch be.Kind {
	case batch.KindUnauthorized:
		return Mark(Aborted, fmt.Errorf("authentication refused for user %s (%s %s: %s): check ENSWITCH_USER and the password; %s", cn.User, function, be.Code, be.Message, sent))
	case batch.KindFatal:
		return Mark(Aborted, fmt.Errorf("%s: %s", be.Message, sent))
	}
	log.Debug("preflight: the answer proves no mistake in the settings; the rows go on", zap.String("function", function), zap.Error(err))
	return nil
}

// ownCustomerSender is the client as the engine's Sender and Getter,
// with messages that say which customer a row without one was looked
// for in: the user's own, which the login or the preflight made known.
type ownCustomerSender struct {
	cl *enswitch.Client
}

// Update implements batch.Sender.
func (s ownCustomerSender) Update(ctx context.Context, params []batch.Param, validate bool) (batch.Response, error) {
	resp, err := s.cl.Update(ctx, params, validate)
	if err != nil {
		mailbox, customer := "", ""
		for _, p := range params {
			switch p.Name {
			case "mailbox":
				mailbox = p.Value
			case "customer":
				customer = p.Value
			}
		}
		err = s.explain(err, mailbox, customer)
	}
	return resp, err
}

// Read implements batch.Getter.
func (s ownCustomerSender) Read(ctx context.Context, mailbox, customer string) (batch.Values, error) {
	v, err := s.cl.Read(ctx, mailbox, customer)
	if err != nil {
		err = s.explain(err, mailbox, customer)
	}
	return v, err
}

// explain rewrites the message of a 404 (an answer, not an HTTP 404) to
// a row that names no customer.
func (s ownCustomerSender) explain(err error, mailbox, customer string) error {
	var be *batch.Error
	if customer != "" || !errors.As(err, &be) || be.Kind != batch.KindNotFound || be.Key == "customer" {
		return err
	}
	cp := *be
	if own, ok := s.cl.OwnCustomer(); ok {
		cp.Message = fmt.Sprintf("mailbox %s not found in customer %s (the row has no customer column: the user's own customer was used): %s", mailbox, own, be.Message)
	} else {
		cp.Message = fmt.Sprintf("mailbox %s not found in the user's own customer (the row has no customer column): %s", mailbox, be.Message)
	}
	return &cp
}
