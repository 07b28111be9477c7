package main

import (
	"github.com/spf13/cobra"

	"github.com/ensbulk/ensbulk/internal/simserve"
	"github.com/ensbulk/ensbulk/simulator"
)

func newSimCmd(env *Env) *cobra.Command {
	o := &simserve.Options{}
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
			return simserve.Run(cmd.Context(), &simserve.Env{Stdout: env.Stdout, Stderr: env.Stderr}, o)
		},
	}
	f := c.Flags()
	f.SortFlags = false
	f.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.IntVar(&o.Mailboxes, "mailboxes", 0, "mailboxes to generate (default 200)")
	f.Int64Var(&o.Seed, "seed", 1, "seed for the generated world and the fault draws")
	f.StringVar(&o.State, "state", "", "load the world from this JSON file instead of generating it")
	f.StringVar(&o.Dump, "dump", "", "write the world to this JSON file on exit")
	f.StringVar(&o.VersionCompat, "version-compat", simulator.DefaultVersion, `Enswitch version to play, 3.0 to 4.4 (before 4.2 notify_for refuses "all" and "text")`)
	f.BoolVar(&o.NumericCodes, "numeric-codes", false, "write response codes as JSON numbers")
	f.BoolVar(&o.ObjectResponses, "object-responses", false, `write "responses" as one object, not an array`)
	f.IntSliceVar(&o.Forbid, "forbid-customer", nil, "customer IDs whose rate plan refuses mailbox updates (403), repeatable")
	f.DurationVar(&o.TokenTTL, "token-ttl", simulator.DefaultTokenTTL, "lifetime of the tokens user/login issues (0 = they never expire)")
	f.BoolVar(&o.NoTokens, "no-tokens", false, "play a server before Enswitch 4.1: user/login answers without a token, auth_token refused (as --version-compat below 4.1)")
	f.BoolVar(&o.NoLogin, "no-login", false, "play a server before Enswitch 3.13: user/login is an unknown function (as --version-compat below 3.13)")
	f.StringSliceVar(&o.TwoFactor, "two-factor-user", nil, "users with two-factor login: from 4.4 their user/login answers 202 (repeatable)")
	f.BoolVar(&o.TLS, "tls", false, "serve HTTPS with a self-signed certificate")
	f.StringVar(&o.CertFile, "cert-file", "", "where --tls writes its certificate (PEM; default: a new file in the temp directory)")
	// Simulator policy: rules the vendor's pages do not give.
	f.StringVar(&o.PINDisplay, "pin-display", string(simulator.PINMasked), "how get/list show a PIN: masked, plain or absent (policy)")
	f.StringSliceVar(&o.NullColumns, "null-columns", simulator.DefaultNullColumns(), `columns get/list write as null when empty ("" for none) (policy)`)
	f.StringVar(&o.PINDigits, "pin-digits", "4-10", "accepted PIN length, all digits (policy)")
	f.StringVar(&o.EmailCheck, "email-check", simulator.EmailAddress, "pager check: address (a bare e-mail address) or any (policy)")
	f.StringVar(&o.Timezones, "timezones", simulator.TimezonesIANA, `timezone check: iana (an IANA name) or any; "" is always accepted (policy)`)
	f.StringVar(&o.CheckOrder, "check-order", "401,402,403,400,404", "order of the checks; 401 first (policy)")
	f.StringVar(&o.NoInvented, "no-invented", "", `invented rules to turn off, comma-separated, or "all" (see above)`)
	fl := &o.Faults
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
