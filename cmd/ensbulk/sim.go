package main

import (
	"context"
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
	newerServer     bool
	numericCodes    bool
	objectResponses bool
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
/__stats and /__state show counters and the current mailboxes.`,
		Example: `  ensbulk sim --addr 127.0.0.1:8080
  ensbulk sim --mailboxes 10000 --seed 7 --latency 50ms --error-rate 0.05 --rate-limit 100
  ensbulk sim --state world.json --dump after.json`,
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
	f.BoolVar(&o.newerServer, "newer-server", false, `play a newer server (notify_for also takes "all" and "text")`)
	f.BoolVar(&o.numericCodes, "numeric-codes", false, "write response codes as JSON numbers")
	f.BoolVar(&o.objectResponses, "object-responses", false, `write "responses" as one object, not an array`)
	fl := &o.faults
	f.DurationVar(&fl.Latency, "latency", 0, "added latency per request")
	f.DurationVar(&fl.Jitter, "jitter", 0, "random extra latency, up to this much")
	f.Float64Var(&fl.ErrorRate, "error-rate", 0, "fraction of requests answered 500/502/503 with an HTML page")
	f.Float64Var(&fl.ResetRate, "reset-rate", 0, "fraction of connections reset")
	f.Float64Var(&fl.HangRate, "hang-rate", 0, "fraction of requests that hang")
	f.DurationVar(&fl.HangFor, "hang-for", 0, "how long a hang lasts (0 = until the client gives up)")
	f.Float64Var(&fl.TruncateRate, "truncate-rate", 0, "fraction of answers cut short mid-JSON")
	f.Float64Var(&fl.LostRate, "lost-rate", 0, "fraction of updates applied whose answer is then lost (reset)")
	f.Float64Var(&fl.RateLimit, "rate-limit", 0, "requests/s above which the server answers 429 (0 = none)")
	f.IntVar(&fl.RateBurst, "rate-burst", 0, "burst allowed above --rate-limit")
	f.IntVar(&fl.MaxConcurrent, "max-concurrent", 0, "concurrent requests above which the server answers 503 (0 = none)")
	return c
}

func runSim(ctx context.Context, env *Env, o *simOptions) error {
	cfg := simulator.Config{Mailboxes: o.mailboxes, Seed: o.seed, NewerServer: o.newerServer,
		NumericCodes: o.numericCodes, ObjectResponses: o.objectResponses, Faults: o.faults}
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
	fmt.Fprintf(env.Stdout, "listening on http://%s\n", ln.Addr())
	printUsers(env, sim)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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

func printUsers(env *Env, sim *simulator.Server) {
	fmt.Fprintln(env.Stdout, "users (username / password / role / customer):")
	for _, u := range sim.Users() {
		fmt.Fprintf(env.Stdout, "  %-10s %-22s %-14s %d\n", u.Username, u.Password, u.Role, u.Customer)
	}
}
