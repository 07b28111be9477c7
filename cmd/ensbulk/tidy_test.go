package main

import (
	"strings"
	"testing"
)

// Plain http to a host that is not loopback is said once, at the default
// log level too (not a second time as a log line).
func TestPlainHTTPWarnsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeFile(t, "in.csv", smallInput(2))
	// An existing report ends the run after connecting, before any request.
	rep := writeFile(t, "exists.report.csv", "")
	env := map[string]string{"ENSWITCH_URL": "http://192.0.2.1:9/", "ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "pw"}
	res := runBinaryIn(t, env, dir, "run", in, "--report", rep)
	if res.code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	if n := strings.Count(res.stderr, "plain http"); n != 1 {
		t.Errorf("plain http said %d times, want once:\n%s", n, res.stderr)
	}
}
