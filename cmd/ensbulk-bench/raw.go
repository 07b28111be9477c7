package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ensbulk/ensbulk/reader"
)

// rawBodies reads the file the way ensbulk does and encodes, before any
// clock starts, the POST bodies ensbulk sends for it: the validation of
// every row, then its application. Encoded as enswitch.Client.Call does
// (credentials, the row's params in order, validation last), so the bytes
// on the wire are the same.
func rawBodies(path string) (validate, apply []string, err error) {
	r, c, err := reader.Open(path, reader.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	auth := "auth_password=" + url.QueryEscape(simPassword) + "&auth_username=" + url.QueryEscape(simUser)
	for {
		row, err := r.Next()
		if err == io.EOF {
			return validate, apply, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if row.Err != nil {
			return nil, nil, fmt.Errorf("synthetic row %d refused: %v", row.Num, row.Err)
		}
		var b strings.Builder
		b.WriteString(auth)
		for _, p := range row.Params {
			b.WriteString("&" + url.QueryEscape(p.Name) + "=" + url.QueryEscape(p.Value))
		}
		apply = append(apply, b.String())
		validate = append(validate, b.String()+"&validation=1")
	}
}

// rawRun is the ceiling: a minimal Go HTTP client with workers goroutines
// posting the prepared bodies, every validation then every application,
// reading each answer and nothing else. It returns requests per second.
func rawRun(ctx context.Context, base string, workers int, validate, apply []string, timeout time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := &http.Transport{MaxIdleConns: 2 * workers, MaxIdleConnsPerHost: workers, IdleConnTimeout: 90 * time.Second}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	endpoint := base + "/api/json/mailboxes/update/"

	start := time.Now()
	n := 0
	for _, bodies := range [][]string{validate, apply} {
		if err := rawPhase(ctx, hc, endpoint, workers, bodies); err != nil {
			return 0, err
		}
		n += len(bodies)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func rawPhase(ctx context.Context, hc *http.Client, endpoint string, workers int, bodies []string) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) || ctx.Err() != nil {
					return
				}
				if err := rawPost(ctx, hc, endpoint, bodies[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

func rawPost(ctx context.Context, hc *http.Client, endpoint, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("raw client: HTTP %d", resp.StatusCode)
	}
	return err
}
