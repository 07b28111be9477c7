package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallAsReadmeSays: the README's install step, go install
// ./cmd/ensbulk (what make install runs), into a GOBIN of its own, gives a
// binary that runs.
func TestInstallAsReadmeSays(t *testing.T) {
	t.Parallel()
	// TestMain installed the binary every test runs, with go install
	// ./cmd/ensbulk and GOBIN set (a second build here doubled the cost).
	if filepath.Base(binary) != "ensbulk" {
		t.Fatalf("TestMain's binary is %s, want GOBIN/ensbulk", binary)
	}
	out, err := exec.Command(binary, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "ensbulk ") {
		t.Errorf("the installed binary: %q, %v", out, err)
	}
}

// TestMakeTestRaceNeedsCCompiler: make test asks for -race only where cgo
// has a C compiler, and says so when it runs without.
func TestMakeTestRaceNeedsCCompiler(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed here; the Makefile cannot be read without it")
	}
	dry := func(env ...string) string {
		t.Helper()
		cmd := exec.Command("make", "-n", "test")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n test %v: %v\n%s", env, err, out)
		}
		return string(out)
	}
	for _, env := range [][]string{{"CC=no-such-compiler"}, {"CGO_ENABLED=0"}} {
		out := dry(env...)
		if strings.Contains(out, "go test -race") || !strings.Contains(out, `[ -n "" ] || echo "warning: no C compiler`) {
			t.Errorf("make test with %v: want the suite without -race and a warning:\n%s", env, out)
		}
	}
	if cc, err := exec.Command("go", "env", "CC").Output(); err == nil {
		if _, err := exec.LookPath(strings.Fields(string(cc) + " x")[0]); err == nil && os.Getenv("CGO_ENABLED") != "0" {
			if out := dry(); !strings.Contains(out, "go test -race") {
				t.Errorf("make test with a C compiler: want -race:\n%s", out)
			}
		}
	}
}
