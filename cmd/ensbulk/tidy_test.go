package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/simulator"
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

// After Ctrl-C the summary says "interrupted" and ends with the exit
// line; nothing says it again after that line.
func TestInterruptSaidOnceBeforeExitLine(t *testing.T) {
	t.Parallel()
	sim := startWatchedSim(t, simulator.Config{Seed: 1, Mailboxes: 200})
	in := writeFile(t, "changes.csv", manyRows(60))
	p := startEnsbulk(t, simEnv(sim.testSim), "run", in, "--rate", "20", "--workers", "2")
	<-sim.when(func(s simulator.Stats) bool { return s.Requests >= 5 })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code, _ := p.wait(t, time.Minute)
	stderr := unstamp(p.stderr.String())
	if code != exitAborted {
		t.Fatalf("exit %d, want %d\n%s", code, exitAborted, stderr)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "exit 3" {
		t.Errorf("last line %q, want the summary's %q:\n%s", last, "exit 3", stderr)
	}
	if !strings.Contains(stderr, ": interrupted in ") {
		t.Errorf("the summary does not say the run was interrupted:\n%s", stderr)
	}
}

// A command without its FILE says what is missing in words, and a
// mistyped flag gets the flags of that command it is close to; both are
// usage errors (exit 2).
func TestFlagAndArgumentMistakesInWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "run needs the input FILE: ensbulk run FILE"},
		{[]string{"validate"}, "validate needs the input FILE: ensbulk validate FILE"},
		{[]string{"plan"}, "plan needs the input FILE: ensbulk plan FILE"},
		{[]string{"summary"}, "summary needs the REPORT: ensbulk summary REPORT"},
		{[]string{"run", "x.csv", "--wokers", "3"}, "unknown flag: --wokers (see 'ensbulk run --help')\n\nDid you mean this?\n\t--workers\n"},
		{[]string{"plan", "x.csv", "--reprot=a.csv"}, "Did you mean this?\n\t--report\n"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := runBinaryIn(t, nil, t.TempDir(), tt.args...)
			stderr := unstamp(res.stderr)
			if res.code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d saying %q:\n%s", res.code, exitUsage, tt.want, stderr)
			}
			if strings.Contains(stderr, "arg(s)") {
				t.Errorf("cobra's words:\n%s", stderr)
			}
		})
	}
	// A flag far from every flag gets no guess.
	res := runBinaryIn(t, nil, t.TempDir(), "run", "x.csv", "--frobnicate")
	if res.code != exitUsage || strings.Contains(res.stderr, "Did you mean") {
		t.Errorf("--frobnicate: exit %d, want %d without a guess:\n%s", res.code, exitUsage, res.stderr)
	}
}

// --profile completes the names of the configured profiles.
func TestProfileCompletion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.toml")
	body := "[profiles.lab]\nurl = \"https://lab.example.com\"\n\n[profiles.prod]\nurl = \"https://prod.example.com\"\n\n[profiles.prod-oslo]\nurl = \"https://oslo.example.com\"\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "run", "x.csv", "--config", conf, "--profile", ""}, []string{"lab", "prod", "prod-oslo"}},
		{[]string{"__complete", "plan", "x.csv", "--config", conf, "--profile", "pr"}, []string{"prod", "prod-oslo"}},
		{[]string{"__complete", "export", "--config", filepath.Join(dir, "none.toml"), "--profile", ""}, nil},
	} {
		res := runBinaryIn(t, map[string]string{"ENSBULK_CONFIG": ""}, dir, tt.args...)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				got = append(got, l)
			}
		}
		if res.code != 0 || !slices.Equal(got, tt.want) {
			t.Errorf("%v: exit %d, completions %q, want %q\n%s", tt.args, res.code, got, tt.want, res.stderr)
		}
	}
}

// A .xlsx or .tsv named on the command line gets its specific advice on
// the first try, and the advice for the .tsv runs as printed.
func TestFormatAdviceAtOnce(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simulator.Config{Seed: 1})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "book.xlsx"), []byte("PK\x03\x04rest of a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	tsv := strings.ReplaceAll(twoRows, ",", "\t")
	if err := os.WriteFile(filepath.Join(dir, "tabs.tsv"), []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runBinaryIn(t, simEnv(sim), dir, "validate", "book.xlsx")
	if res.code != exitUsage || !strings.Contains(res.stderr, "export it as CSV UTF-8") {
		t.Errorf("book.xlsx: exit %d, want %d with the export advice:\n%s", res.code, exitUsage, res.stderr)
	}
	res = runBinaryIn(t, simEnv(sim), dir, "validate", "tabs.tsv")
	if res.code != exitUsage || !strings.Contains(res.stderr, `pass --format csv --delimiter '\t'`) {
		t.Fatalf("tabs.tsv: exit %d, want %d with the delimiter advice:\n%s", res.code, exitUsage, res.stderr)
	}
	res = runBinaryIn(t, simEnv(sim), dir, "validate", "tabs.tsv", "--format", "csv", "--delimiter", `\t`)
	if res.code != exitRows { // one row of the two has a PIN the server refuses
		t.Errorf("tabs.tsv as advised: exit %d, want %d:\n%s", res.code, exitRows, res.stderr)
	}
	if n := sim.Stats().Requests; n == 0 {
		t.Errorf("the advised command sent nothing")
	}
}

// No error the binary prints starts with a Go package name
// ("enswitch: server URL ..."): the operator reads words, not our layout.
func TestErrorsNameNoPackage(t *testing.T) {
	t.Parallel()
	list := exec.Command("go", "list", "-f", "{{.Name}}", "./...")
	list.Dir = "../.."
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var names []string
	for _, n := range strings.Fields(string(out)) {
		if n != "main" && n != "ensbulk" && !slices.Contains(names, n) {
			names = append(names, regexp.QuoteMeta(n))
		}
	}
	pkgFirst := regexp.MustCompile(`(?m)^ensbulk: (` + strings.Join(names, "|") + `):`)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte(twoRows), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ENSWITCH_USER": "admin", "ENSWITCH_PASSWORD": "pw"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "in.csv", "--url", "switch.example.com"}, "has no scheme"},
		{[]string{"run", "in.csv", "--url", "https://u:p@switch.example.com"}, "must not carry credentials"},
		{[]string{"run", "in.csv", "--url", "ftp://switch.example.com"}, "scheme must be http or https"},
		{[]string{"run", "in.csv", "--url", "https://switch.example.com/?x=1"}, "must not have a query"},
		{[]string{"validate", "in.csv", "--url", "https://"}, "has no host"},
		{[]string{"plan", "nosuch.csv", "--url", "https://switch.example.com"}, "nosuch.csv"},
		{[]string{"summary", "nosuch.report.csv"}, "nosuch.report.csv"},
	} {
		res := runBinaryIn(t, env, dir, tt.args...)
		stderr := unstamp(res.stderr)
		if res.code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, want %d saying %q:\n%s", tt.args, res.code, exitUsage, tt.want, stderr)
		}
		if l := pkgFirst.FindString(stderr); l != "" {
			t.Errorf("%v: an error starts with a package name (%q):\n%s", tt.args, l, stderr)
		}
	}
}
