package main

import (
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	tests := []struct {
		name, version, commit string
		bi                    *debug.BuildInfo
		want                  string
	}{
		{"stamped by the Makefile", "v1.2.0-3-gabcdef1", "abcdef123456", vcs("ffff", "false"), "v1.2.0-3-gabcdef1 (commit abcdef123456)"},
		{"git describe without a tag is the commit", "abcdef1-dirty", "abcdef123456", nil, "abcdef1-dirty"},
		{"plain go build in a clone", "", "", vcs("0123456789abcdef0123", "false"), "(devel) (commit 0123456789ab)"},
		{"plain go build with edits", "", "", vcs("0123456789abcdef0123", "true"), "(devel) (commit 0123456789ab-dirty)"},
		{"go install of a tagged module", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"nothing known", "", "", nil, "(devel)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionString(tt.version, tt.commit, tt.bi); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// make build and make install stamp the version and commit that
// --version prints.
func TestVersionStampedByMakefile(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed here; the Makefile cannot be read without it")
	}
	for _, target := range []string{"build", "install"} {
		cmd := exec.Command("make", "-n", target, "VERSION=v7.7.7", "COMMIT=feedfacecafe")
		cmd.Dir = "../.."
		cmd.Env = os.Environ()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", target, err, out)
		}
		if !strings.Contains(string(out), "-X main.version=v7.7.7 -X main.commit=feedfacecafe") {
			t.Errorf("make %s does not stamp the version and commit:\n%s", target, out)
		}
	}
}
