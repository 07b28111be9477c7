// Package simserve is ensbulk's sim command once its flags are parsed: it
// configures a simulator, serves it (HTTP, or HTTPS with a fresh
// self-signed certificate) until the context ends, and writes its world
// on the way out. Failures carry package job's kinds, which the command
// maps to exit codes.
package simserve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/simulator"
)

// Options are the settings of sim, one per flag; the policy fields are in
// the flags' own syntax, parsed by Run.
type Options struct {
	Addr            string // address to listen on
	Mailboxes       int    // to generate; 0 is the simulator's default
	Seed            int64  // of the generated world and the fault draws
	State, Dump     string // the world's JSON file to load; to write on exit
	VersionCompat   string // the Enswitch version to play
	NumericCodes    bool
	ObjectResponses bool
	Forbid          []int    // customers whose rate plan refuses updates
	PINDisplay      string   // masked, plain or absent
	NullColumns     []string // "" entries are left out
	PINDigits       string   // "4-10"
	EmailCheck      string
	Timezones       string
	CheckOrder      string // "401,402,403,400,404"
	TLS             bool
	CertFile        string // where TLS writes its certificate; "" is a temp file
	NoTokens        bool
	NoLogin         bool
	TwoFactor       []string
	NoInvented      string        // invented rules to turn off, or "all"
	TokenTTL        time.Duration // 0: tokens never expire
	Faults          simulator.Faults
}

// Env is what sim touches outside itself.
type Env struct {
	Stdout, Stderr io.Writer
}

func usageErr(format string, args ...any) error {
	return job.Mark(job.Usage, fmt.Errorf(format, args...))
}

// Run serves the simulator of o until ctx ends. Its first line on
// Stdout is "listening on URL": scripts and tests wait for it.
func Run(ctx context.Context, env *Env, o *Options) error {
	cfg, err := config(o)
	if err != nil {
		return err
	}
	sim, err := simulator.New(cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return usageErr("listen %s: %v", o.Addr, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	serve := func() error { return srv.Serve(ln) }
	if o.TLS {
		path, err := serveTLS(srv, ln, o.CertFile)
		if err != nil {
			ln.Close()
			return err
		}
		serve = func() error { return srv.ServeTLS(ln, "", "") }
		defer fmt.Fprintf(env.Stderr, "certificate left in %s\n", path)
		fmt.Fprintf(env.Stdout, "listening on https://%s\n", ln.Addr())
		fmt.Fprintf(env.Stdout, "certificate: %s (pass it as --ca-file, or rehearse --insecure)\n", path)
	} else {
		fmt.Fprintf(env.Stdout, "listening on http://%s\n", ln.Addr())
	}
	fmt.Fprintln(env.Stdout, tokensLine(sim))
	printUsers(env.Stdout, sim)
	if err := until(ctx, srv, serve); err != nil {
		return err
	}
	return dump(env.Stderr, sim, o.Dump)
}

// until serves until ctx ends (then shuts srv down, leaving requests in
// flight two seconds) or the server fails.
func until(ctx context.Context, srv *http.Server, serve func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
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
	return nil
}

// config is the simulator's configuration of o; a setting it cannot
// parse is a usage error, a --state it cannot read a file error.
func config(o *Options) (simulator.Config, error) {
	cfg := simulator.Config{Mailboxes: o.Mailboxes, Seed: o.Seed, VersionCompat: o.VersionCompat,
		NumericCodes: o.NumericCodes, ObjectResponses: o.ObjectResponses, Faults: o.Faults,
		ForbidCustomers: o.Forbid, PINDisplay: simulator.PINDisplay(o.PINDisplay),
		EmailCheck: o.EmailCheck, Timezones: o.Timezones, NullColumns: []string{}}
	for _, c := range o.NullColumns {
		if c != "" {
			cfg.NullColumns = append(cfg.NullColumns, c)
		}
	}
	switch {
	case o.TokenTTL < 0:
		return cfg, usageErr("--token-ttl %s: want a duration of 0 (never expire) or more", o.TokenTTL)
	case o.TokenTTL == 0:
		cfg.Auth.TokenTTL = -1 // never
	default:
		cfg.Auth.TokenTTL = o.TokenTTL
	}
	cfg.Auth.NoTokens = o.NoTokens
	cfg.Auth.NoLogin = o.NoLogin
	cfg.TwoFactorUsers = o.TwoFactor
	var err error
	if cfg.PINMinDigits, cfg.PINMaxDigits, err = simulator.ParsePINDigits(o.PINDigits); err != nil {
		return cfg, usageErr("--pin-digits: %v", err)
	}
	if cfg.CheckOrder, err = simulator.ParseCheckOrder(o.CheckOrder); err != nil {
		return cfg, usageErr("--check-order: %v", err)
	}
	if cfg.NoInvented, err = simulator.ParseRules(o.NoInvented); err != nil {
		return cfg, usageErr("--no-invented: %v", err)
	}
	if o.State != "" {
		cfg.State, err = loadState(o.State)
	}
	return cfg, err
}

// loadState reads the world of --state.
func loadState(path string) (*simulator.State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, job.Mark(job.File, fmt.Errorf("--state: %w", err))
	}
	defer f.Close()
	st, err := simulator.LoadState(f)
	if err != nil {
		return nil, job.Mark(job.File, fmt.Errorf("--state %s: %w", path, err))
	}
	return st, nil
}

// dump writes the world to path, if any, and says so on w.
func dump(w io.Writer, sim *simulator.Server, path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
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
	fmt.Fprintf(w, "state written to %s\n", path)
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

// printUsers lists the users of sim, with their passwords, on w.
func printUsers(w io.Writer, sim *simulator.Server) {
	fmt.Fprintln(w, "users (username / password / role / customer):")
	for _, u := range sim.Users() {
		tf := ""
		if u.TwoFactor {
			tf = " (two-factor login)"
		}
		fmt.Fprintf(w, "  %-10s %-22s %-14s %d%s\n", u.Username, u.Password, u.Role, u.Customer, tf)
	}
}
