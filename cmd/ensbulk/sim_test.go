package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// `ensbulk sim --tls` serves HTTPS with a certificate written to the file
// it prints, so that a run rehearses --ca-file and --insecure against it.
func TestSimTLS(t *testing.T) {
	cert := filepath.Join(t.TempDir(), "sim.pem")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--tls", "--cert-file", cert, "--addr", "127.0.0.1:0", "--mailboxes", "20"},
			&Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	}()
	listening := regexp.MustCompile(`listening on (https://127\.0\.0\.1:\d+)\n`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("sim did not say where it listens:\n%s\n%s", out.String(), errb.String())
		}
	}
	if !strings.Contains(out.String(), "certificate: "+cert) {
		t.Errorf("sim does not print the certificate's path:\n%s", out.String())
	}
	env := map[string]string{"ENSWITCH_URL": url, "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "admin-demo-pass"}
	for _, tc := range []struct {
		name  string
		flags []string
		code  int
	}{
		{"untrusted", nil, exitAborted},
		{"--ca-file", []string{"--ca-file", cert}, exitOK},
		{"--insecure", []string{"--insecure"}, exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := writeFile(t, "tls.csv", uniqueRows(6))
			res := runCLI(t, context.Background(), env, append([]string{"run", in, "--rate", "0", "--progress", "none"}, tc.flags...)...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.code, tail(res.stderr, 20))
			}
		})
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("sim: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
}
