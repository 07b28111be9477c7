package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// vegetaModule is the load generator used as a second, independent
// baseline: built from the Go module proxy into the bench's temporary
// directory at a pinned version, never vendored.
const vegetaModule = "github.com/tsenart/vegeta/v12@v12.13.0"

// installVegeta builds vegeta into dir. The error says why it could not
// (no network, no proxy): the table then says so and the raw client's
// figure stands in.
func installVegeta(ctx context.Context, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	gobin := filepath.Join(dir, "vegeta-bin")
	cmd := exec.CommandContext(ctx, "go", "install", vegetaModule)
	cmd.Dir = dir // outside this module: go install pkg@version ignores go.mod anyway
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %v: %s", vegetaModule, err, firstLine(string(out)))
	}
	return filepath.Join(gobin, "vegeta"), nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// writeVegetaTargets writes vegeta's JSON targets for base: the
// validation bodies of the prepared raw bodies (vegeta cycles through
// them; a validation changes nothing, so any number of passes is
// harmless), with a token the bench logs in for, as ensbulk's are.
func writeVegetaTargets(ctx context.Context, bodies, out, base string) error {
	b, err := os.ReadFile(bodies)
	if err != nil {
		return err
	}
	cred, err := rawCredentials(ctx, &http.Client{Timeout: 30 * time.Second}, base)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	type target struct {
		Method string              `json:"method"`
		URL    string              `json:"url"`
		Body   string              `json:"body"`
		Header map[string][]string `json:"header"`
	}
	hdr := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	for _, body := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		t := target{Method: "POST", URL: base + "/api/json/mailboxes/update/", Header: hdr,
			Body: base64.StdEncoding.EncodeToString([]byte(cred + body + "&validation=1"))}
		if err := enc.Encode(t); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// vegetaArgs attacks for d at rate (0: as fast as workers allow).
func vegetaArgs(targets string, rate float64, workers int, d time.Duration) []string {
	args := []string{"attack", "-format=json", "-targets=" + targets, "-duration=" + d.String(), "-timeout=30s", "-output=/dev/null"}
	if rate <= 0 {
		w := strconv.Itoa(workers)
		return append(args, "-rate=0", "-workers="+w, "-max-workers="+w)
	}
	return append(args, "-rate="+strconv.FormatFloat(rate, 'f', -1, 64)+"/1s")
}
