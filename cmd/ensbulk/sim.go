package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ensbulk/ensbulk/simulator"
)

type simOptions struct {
	addr            string
	mailboxes       int
	seed            int64
	state, dump     string
	versionCompat   string
	numericCodes    bool
	objectResponses bool
	forbid          []int
	pinDisplay      string
	nullColumns     []string
	pinDigits       string
	emailCheck      string
	timezones       string
	checkOrder      string
	tls             bool
	certFile        string
	noTokens        bool
	noLogin         bool
	twoFactor       []string
	noInvented      string
	tokenTTL        time.Duration
	faults          simulator.Faults
}

func newSimCmd(env *Env) *cobra.Command {
	o := &simOptions{}
	c := &cobra.Command{
		Use:   "sim",
		Short: "Serve a simulated Enswitch server for rehearsals and tests",
		Long: `sim serves a stand-in for an Enswitch server: users with roles, customers in
a hierarchy, mailboxes with every field, mailboxes/update (with validation=1),
mailboxes/get and mailboxes/list, and switchable faults. Its first line of
output is "listening on http://ADDR"; then the demo users and passwords.
/__stats and /__state show counters and the current mailboxes.

It plays Enswitch 4.4 unless --version-compat says otherwise: user/login
(since 3.13) issues tokens (since 4.1) that expire after --token-ttl;
--no-tokens, or a version before 4.1, plays a login without tokens;
--no-login, or a version before 3.13, a server without user/login. A
--two-factor-user has two-factor login: from 4.4 its user/login answers
202, which ensbulk explains and does not work around. Where the
vendor's pages are silent (PIN and e-mail formats, time zones, the order of
the checks, whether get/list show the PIN, which columns read back as null),
its answers are simulator policy, each behind a flag below.

Rules the simulator invents, which the vendor does not document, are in
force unless --no-invented turns them off (a list, or "all"):
  unknown-param    a parameter the function does not take is a 400
  duplicate-param  a parameter sent twice is a 400 (off: the last counts)
  length-cap       free text is at most 255 characters (mailbox 64)
  text-check       control characters or invalid UTF-8 are a 400
  http-415         a body that is not a form is refused with HTTP 415
                   (off: not read)
  http-413         a body over 1 MiB is refused with HTTP 413 (off: 32 MiB)
  roles            readonly may not update (402); user and residential
                   reach their own customer only (off: a role is a name)
  extra-columns    get/list write the read-only columns id and created
  customer-403     a customer's rate plan refuses that customer's updates
                   (off: only the user's own customer's plan refuses)
  extra-dtypes     dtype also takes "", mailbox, queue, voicemail, ivr
                   (off: the vendor's hangup, forward, peer, phone, sipuri)
docs/simulator.md says what the simulator follows and what it invents.

--tls serves HTTPS with a fresh self-signed certificate, written to
--cert-file (printed), so that --ca-file and --insecure can be rehearsed.`,
		Example: `  ensbulk sim --addr 127.0.0.1:8080
  ensbulk sim --mailboxes 10000 --seed 7 --latency 50ms --error-rate 0.05 --rate-limit 100
  ensbulk sim --state world.json --dump after.json
  ensbulk sim --version-compat 3.13 --pin-display absent --forbid-customer 101
  ensbulk sim --token-ttl 5s   # tokens renewed every few seconds
  ensbulk sim --no-invented unknown-param,duplicate-param,length-cap
  ensbulk sim --two-factor-user acme   # acme's user/login answers 202
  ensbulk sim --tls --cert-file sim.pem   # then: ensbulk run ... --ca-file sim.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), env, o)
		},
	}
	f := c.Flags()
	f.SortFlags = false
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.IntVar(&o.mailboxes, "mailboxes", 0, "mailboxes to generate (default 200)")
	f.Int64Var(&o.seed, "seed", 1, "seed for the generated world and the fault draws")
	f.StringVar(&o.state, "state", "", "load the world from this JSON file instead of generating it")
	f.StringVar(&o.dump, "dump", "", "write the world to this JSON file on exit")
	f.StringVar(&o.versionCompat, "version-compat", simulator.DefaultVersion, `Enswitch version to play, 3.0 to 4.4 (before 4.2 notify_for refuses "all" and "text")`)
	f.BoolVar(&o.numericCodes, "numeric-codes", false, "write response codes as JSON numbers")
	f.BoolVar(&o.objectResponses, "object-responses", false, `write "responses" as one object, not an array`)
	f.IntSliceVar(&o.forbid, "forbid-customer", nil, "customer IDs whose rate plan refuses mailbox updates (403), repeatable")
	f.DurationVar(&o.tokenTTL, "token-ttl", simulator.DefaultTokenTTL, "lifetime of the tokens user/login issues (0 = they never expire)")
	f.BoolVar(&o.noTokens, "no-tokens", false, "play a server before Enswitch 4.1: user/login answers without a token, auth_token refused (as --version-compat below 4.1)")
	f.BoolVar(&o.noLogin, "no-login", false, "play a server before Enswitch 3.13: user/login is an unknown function (as --version-compat below 3.13)")
	f.StringSliceVar(&o.twoFactor, "two-factor-user", nil, "users with two-factor login: from 4.4 their user/login answers 202 (repeatable)")
	f.BoolVar(&o.tls, "tls", false, "serve HTTPS with a self-signed certificate")
	f.StringVar(&o.certFile, "cert-file", "", "where --tls writes its certificate (PEM; default: a new file in the temp directory)")
	// Simulator policy: rules the vendor's pages do not give.
	f.StringVar(&o.pinDisplay, "pin-display", string(simulator.PINMasked), "how get/list show a PIN: masked, plain or absent (policy)")
	f.StringSliceVar(&o.nullColumns, "null-columns", simulator.DefaultNullColumns(), `columns get/list write as null when empty ("" for none) (policy)`)
	f.StringVar(&o.pinDigits, "pin-digits", "4-10", "accepted PIN length, all digits (policy)")
	f.StringVar(&o.emailCheck, "email-check", simulator.EmailAddress, "pager check: address (a bare e-mail address) or any (policy)")
	f.StringVar(&o.timezones, "timezones", simulator.TimezonesIANA, `timezone check: iana (an IANA name) or any; "" is always accepted (policy)`)
	f.StringVar(&o.checkOrder, "check-order", "401,402,403,400,404", "order of the checks; 401 first (policy)")
	f.StringVar(&o.noInvented, "no-invented", "", `invented rules to turn off, comma-separated, or "all" (see above)`)
	fl := &o.faults
	f.DurationVar(&fl.Latency, "latency", 0, "added latency per request")
	f.DurationVar(&fl.Jitter, "jitter", 0, "random extra latency, up to this much")
	f.Float64Var(&fl.ErrorRate, "error-rate", 0, "fraction of requests answered 500/502/503 with an HTML page")
	f.Float64Var(&fl.ResetRate, "reset-rate", 0, "fraction of connections reset")
	f.Float64Var(&fl.HangRate, "hang-rate", 0, "fraction of requests that hang")
	f.DurationVar(&fl.HangFor, "hang-for", 0, "how long a hang lasts (0 = until the client gives up)")
	f.Float64Var(&fl.TruncateRate, "truncate-rate", 0, "fraction of answers cut short mid-JSON")
	f.Float64Var(&fl.LostRate, "lost-rate", 0, "fraction of updates applied whose answer is then lost (reset)")
	f.Float64Var(&fl.IgnoreRate, "ignore-rate", 0, "fraction of updates answered 204 OK but not applied")
	f.Float64Var(&fl.RateLimit, "rate-limit", 0, "requests/s above which the server answers 429 (0 = none)")
	f.IntVar(&fl.RateBurst, "rate-burst", 0, "burst allowed above --rate-limit")
	f.IntVar(&fl.MaxConcurrent, "max-concurrent", 0, "concurrent requests above which the server answers 503 (0 = none)")
	return c
}

func runSim(ctx context.Context, env *Env, o *simOptions) error {
	cfg := simulator.Config{Mailboxes: o.mailboxes, Seed: o.seed, VersionCompat: o.versionCompat,
		NumericCodes: o.numericCodes, ObjectResponses: o.objectResponses, Faults: o.faults,
		ForbidCustomers: o.forbid, PINDisplay: simulator.PINDisplay(o.pinDisplay),
		EmailCheck: o.emailCheck, Timezones: o.timezones, NullColumns: []string{}}
	for _, c := range o.nullColumns {
		if c != "" {
			cfg.NullColumns = append(cfg.NullColumns, c)
		}
	}
	switch {
	case o.tokenTTL < 0:
		return usageErr("--token-ttl %s: want a duration of 0 (never expire) or more", o.tokenTTL)
	case o.tokenTTL == 0:
		cfg.Auth.TokenTTL = -1 // never
	default:
		cfg.Auth.TokenTTL = o.tokenTTL
	}
	cfg.Auth.NoTokens = o.noTokens
	cfg.Auth.NoLogin = o.noLogin
	cfg.TwoFactorUsers = o.twoFactor
	var err error
	if cfg.PINMinDigits, cfg.PINMaxDigits, err = simulator.ParsePINDigits(o.pinDigits); err != nil {
		return usageErr("--pin-digits: %v", err)
	}
	if cfg.CheckOrder, err = simulator.ParseCheckOrder(o.checkOrder); err != nil {
		return usageErr("--check-order: %v", err)
	}
	if cfg.NoInvented, err = simulator.ParseRules(o.noInvented); err != nil {
		return usageErr("--no-invented: %v", err)
	}
	if o.state != "" {
		f, err := os.Open(o.state)
		if err != nil {
			return fileErr(fmt.Errorf("--state: %w", err))
		}
		st, err := simulator.LoadState(f)
		f.Close()
		if err != nil {
			return fileErr(fmt.Errorf("--state %s: %w", o.state, err))
		}
		cfg.State = st
	}
	sim, err := simulator.New(cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usageErr("listen %s: %v", o.addr, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if o.tls {
		path, err := serveTLS(srv, ln, o.certFile)
		if err != nil {
			ln.Close()
			return err
		}
		scheme = "https"
		defer fmt.Fprintf(env.Stderr, "certificate left in %s\n", path)
		fmt.Fprintf(env.Stdout, "listening on https://%s\n", ln.Addr())
		fmt.Fprintf(env.Stdout, "certificate: %s (pass it as --ca-file, or rehearse --insecure)\n", path)
	} else {
		fmt.Fprintf(env.Stdout, "listening on %s://%s\n", scheme, ln.Addr())
	}
	fmt.Fprintln(env.Stdout, tokensLine(sim))
	printUsers(env, sim)
	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if o.dump != "" {
		f, err := os.Create(o.dump)
		if err != nil {
			return err
		}
		if err := sim.DumpState(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "state written to %s\n", o.dump)
	}
	return nil
}

// serveTLS gives srv a fresh self-signed certificate for the listening
// address and the loopback names, and writes the certificate (never the
// key) to path, or to a new file in the temp directory.
func serveTLS(srv *http.Server, ln net.Listener, path string) (string, error) {
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		hosts = append(hosts, host)
	}
	cert, certPEM, err := simulator.SelfSignedCert(hosts...)
	if err != nil {
		return "", err
	}
	if path == "" {
		f, err := os.CreateTemp("", "ensbulk-sim-*.pem")
		if err != nil {
			return "", fmt.Errorf("--tls: %w", err)
		}
		path = f.Name()
		f.Close()
	}
	if err := os.WriteFile(path, certPEM, 0o644); err != nil {
		return "", usageErr("--cert-file: %v", err)
	}
	srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	return path, nil
}

// tokensLine says how the simulator authenticates, as configured.
func tokensLine(sim *simulator.Server) string {
	a := sim.Auth()
	switch {
	case a.NoLogin:
		return "tokens: none (a server before Enswitch 3.13: user/login is unknown, every request carries the password)"
	case a.NoTokens:
		return "tokens: none (a server before Enswitch 4.1: user/login answers without a token, every request carries the password)"
	case a.TokenTTL < 0:
		return "tokens: user/login issues tokens that never expire"
	}
	return fmt.Sprintf("tokens: user/login issues tokens that expire after %s", a.TokenTTL)
}

func printUsers(env *Env, sim *simulator.Server) {
	fmt.Fprintln(env.Stdout, "users (username / password / role / customer):")
	for _, u := range sim.Users() {
		tf := ""
		if u.TwoFactor {
			tf = " (two-factor login)"
		}
		fmt.Fprintf(env.Stdout, "  %-10s %-22s %-14s %d%s\n", u.Username, u.Password, u.Role, u.Customer, tf)
	}
}
