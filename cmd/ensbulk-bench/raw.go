package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ensbulk/ensbulk/reader"
)

// rawEnv, set to 1, makes this program the raw client (rawMain): the
// baseline is a process of its own, started and measured like ensbulk
// (wall time, CPU and peak RSS from the kernel), not goroutines sharing
// the bench's process with the simulator.
const rawEnv = "ENSBULK_BENCH_RAW"

// writeRawBodies reads the file the way ensbulk does and writes, before
// any clock starts, the row part of the POST body ensbulk sends to apply
// each row, one a line (form encoding has no newlines): the row's params in
// order, escaped as enswitch.Client.post does. The credentials go in front
// when the body is sent (rawCredentials) and the validation's body has
// validation=1 at the end, so the bytes on the wire are ensbulk's. It
// returns the number of rows. Beside it, out+".get" holds each row's
// mailboxes/get body (mailbox, then customer, as enswitch.Client.Get
// sends them), for the raw client's -read mode.
func writeRawBodies(path, out string) (int, error) {
	r, c, err := reader.Open(path, reader.Options{NoHash: true})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	g, err := os.Create(out + ".get")
	if err != nil {
		return 0, err
	}
	defer g.Close()
	bw, gw := bufio.NewWriterSize(f, 64<<10), bufio.NewWriterSize(g, 64<<10)
	n := 0
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		if row.Err != nil {
			return 0, fmt.Errorf("synthetic row %d refused: %v", row.Num, row.Err)
		}
		for _, p := range row.Params {
			bw.WriteString("&" + url.QueryEscape(p.Name) + "=" + url.QueryEscape(p.Value))
		}
		bw.WriteByte('\n')
		gw.WriteString("&mailbox=" + url.QueryEscape(row.Mailbox))
		if row.Customer != "" {
			gw.WriteString("&customer=" + url.QueryEscape(row.Customer))
		}
		gw.WriteByte('\n')
		n++
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := gw.Flush(); err != nil {
		return 0, err
	}
	if err := g.Close(); err != nil {
		return 0, err
	}
	return n, f.Close()
}

// rawArgs are the raw client's command line.
func rawArgs(bodies string, workers int, rate float64) []string {
	return []string{"-bodies", bodies, "-workers", fmt.Sprint(workers), "-rate", fmt.Sprint(rate)}
}

// rawReadArgs are the raw client's command line in -read mode.
func rawReadArgs(bodies string, workers int) []string {
	return append(rawArgs(bodies, workers, 0), "-read")
}

// rawMain is the raw client, the ceiling: a minimal Go HTTP client with
// workers goroutines posting the prepared bodies (ENSWITCH_URL), every
// validation then every application, reading each answer and nothing
// else; at -rate > 0, paced by one shared schedule. With -read, each
// application is a mailboxes/get of the row's mailbox then its update, as
// ensbulk's `--read get` sends them (the answer of the get is read and
// dropped: the raw client compares nothing). Exit 0 when every request
// was answered HTTP 200.
func rawMain(args []string) int {
	fs := flag.NewFlagSet("raw client", flag.ContinueOnError)
	bodiesPath := fs.String("bodies", "", "file of apply bodies, one a line")
	workers := fs.Int("workers", 64, "concurrent requests")
	rate := fs.Float64("rate", 0, "requests per second (0 = no limit)")
	profile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	read := fs.Bool("read", false, "a mailboxes/get before each update (bodies FILE.get)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "raw client:", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	b, err := os.ReadFile(*bodiesPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "raw client:", err)
		return 2
	}
	tr := &http.Transport{MaxIdleConns: 2 * *workers, MaxIdleConnsPerHost: *workers, IdleConnTimeout: 90 * time.Second}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	base := os.Getenv("ENSWITCH_URL")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cred, err := rawCredentials(ctx, hc, base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "raw client:", err)
		return 1
	}
	apply := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	validate := make([]string, len(apply))
	for i, a := range apply {
		apply[i] = cred + a
		validate[i] = apply[i] + "&validation=1"
	}
	endpoint := base + "/api/json/mailboxes/update/"
	var gets []string
	if *read {
		g, err := os.ReadFile(*bodiesPath + ".get")
		if err != nil {
			fmt.Fprintln(os.Stderr, "raw client:", err)
			return 2
		}
		gets = strings.Split(strings.TrimSuffix(string(g), "\n"), "\n")
		if len(gets) != len(apply) {
			fmt.Fprintf(os.Stderr, "raw client: %d get bodies for %d rows\n", len(gets), len(apply))
			return 2
		}
		for i := range gets {
			gets[i] = cred + gets[i]
		}
	}
	var pace <-chan struct{}
	if *rate > 0 {
		pace = pacer(ctx, *rate)
	}
	apply1 := []rawStep{{endpoint, apply}}
	if gets != nil {
		apply1 = []rawStep{{base + "/api/json/mailboxes/get/", gets}, {endpoint, apply}}
	}
	err = rawPhase(ctx, hc, *workers, pace, rawStep{endpoint, validate})
	if err == nil {
		err = rawPhase(ctx, hc, *workers, pace, apply1...)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "raw client:", err)
		return 1
	}
	return 0
}

// rawStep is one request of a row: its endpoint and every row's body.
type rawStep struct {
	endpoint string
	bodies   []string
}

// pacer sends a token at start + i/rate for i = 0, 1, ...
func pacer(ctx context.Context, rate float64) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		start := time.Now()
		for i := 0; ; i++ {
			if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
			select {
			case c <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return c
}

// rawPhase sends, for every row, its steps one after the other (a get
// then its update), workers rows at a time.
func rawPhase(ctx context.Context, hc *http.Client, workers int, pace <-chan struct{}, steps ...rawStep) error {
	var next atomic.Int64
	rows := len(steps[0].bodies)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= rows {
					return
				}
				for _, st := range steps {
					if pace != nil {
						<-pace
					}
					if err := rawPost(ctx, hc, st.endpoint, st.bodies[i]); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func rawPost(ctx context.Context, hc *http.Client, endpoint, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return err
}

// rawCredentials logs in to the simulator at base as ensbulk does by
// default (--auth auto: user/login with token=1, once) and returns the
// credentials part of every later body: auth_token=TOKEN. Baselines that
// sent the password instead would spare the server its token check and
// measure a cheaper server, not a cheaper client.
func rawCredentials(ctx context.Context, hc *http.Client, base string) (string, error) {
	form := "auth_password=" + url.QueryEscape(simPassword) + "&auth_username=" + url.QueryEscape(simUser) + "&token=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/json/user/login/", strings.NewReader(form))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("log in: %w", err)
	}
	defer resp.Body.Close()
	var env struct {
		Data struct {
			Token string `json:"auth_token"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env); err != nil || env.Data.Token == "" {
		return "", fmt.Errorf("log in: HTTP %d, no auth_token in the answer (%v)", resp.StatusCode, err)
	}
	return "auth_token=" + url.QueryEscape(env.Data.Token), nil
}
