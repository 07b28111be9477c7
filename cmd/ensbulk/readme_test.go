package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/internal/window"
)

// readmeDocs are the documents whose ensbulk command lines must parse: the
// README and every docs/*.md.
func readmeDocs(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../../README.md"}, docs...)
}

// commandLine finds an ensbulk command line: ensbulk at the start of a line
// (after environment assignments) or a path ending in /ensbulk, then what
// follows. Prose mentioning ensbulk ("Description=ensbulk nightly ...",
// cmd/ensbulk/) does not match.
var commandLine = regexp.MustCompile(`(?:^\s*(?:[A-Z_][A-Z0-9_]*=\S*\s+)*|/)ensbulk\s+(\S.*)$`)

// TestReadmeCommandsParse checks that every ensbulk command line of the
// documents (the README's code blocks: the crontab line, the systemd
// unit, the examples; and the commands quoted inline) names a command that
// exists and flags that parse; in code blocks, the arguments too.
func TestReadmeCommandsParse(t *testing.T) {
	t.Parallel()
	inline := regexp.MustCompile("`((?:[A-Z_][A-Z0-9_]*=\\S*\\s+)*ensbulk\\s[^`]*)`")
	found, commands := 0, map[string]bool{}
	for _, doc := range readmeDocs(t) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		inBlock := false
		for n, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "```") {
				inBlock = !inBlock
				continue
			}
			var lines []string
			if inBlock {
				lines = []string{line}
			} else {
				for _, m := range inline.FindAllStringSubmatch(line, -1) {
					lines = append(lines, m[1])
				}
			}
			for _, l := range lines {
				m := commandLine.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				rest := m[1]
				if i := strings.Index(rest, " #"); i >= 0 {
					rest = rest[:i]
				}
				for _, cut := range []string{">>", "2>&1", "&&", "|"} {
					if i := strings.Index(rest, cut); i >= 0 {
						rest = rest[:i]
					}
				}
				args := shellWords(t, strings.TrimSuffix(strings.TrimSpace(rest), "\\"))
				found++
				checkArgs := inBlock // an inline quote may leave the file out
				t.Run(fmt.Sprintf("%s:%d %s", filepath.Base(doc), n+1, strings.Join(args, " ")), func(t *testing.T) {
					root := newRoot(context.Background(), &Env{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, Getenv: func(string) string { return "" }})
					// What Execute adds before it looks for the command.
					root.InitDefaultHelpFlag()
					root.InitDefaultVersionFlag()
					root.InitDefaultHelpCmd()
					root.InitDefaultCompletionCmd(args...)
					cmd, rest, err := root.Find(args)
					if err != nil {
						t.Fatalf("find: %v", err)
					}
					if cmd == root && (len(rest) == 0 || !strings.HasPrefix(rest[0], "-")) {
						t.Fatalf("%q is not a command of ensbulk", args)
					}
					if path := strings.Fields(cmd.CommandPath()); len(path) > 1 {
						commands[path[1]] = true // completion, not bash
					}
					if err := cmd.ParseFlags(rest); err != nil {
						t.Errorf("flags do not parse: %v", err)
					}
					if checkArgs && cmd.Args != nil {
						if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
							t.Errorf("arguments: %v", err)
						}
					}
					if w := cmd.Flags().Lookup("window"); w != nil && w.Value.String() != "" {
						if _, err := window.Parse(w.Value.String(), nil); err != nil {
							t.Errorf("--window: %v", err)
						}
					}
				})
			}
		}
	}
	if found < 8 {
		t.Errorf("found %d ensbulk command lines in the documents, want the examples, crontab and systemd lines", found)
	}
	// The commands the README shows in use, each found as a command line
	// (a pattern that skipped one, as it once skipped plan and export,
	// fails here).
	for _, c := range []string{"run", "validate", "plan", "export", "summary", "sim", "version", "completion"} {
		if !commands[c] {
			t.Errorf("no command line of the documents runs ensbulk %s", c)
		}
	}
}

// shellWords splits a command line with single and double quotes.
func shellWords(t *testing.T, s string) []string {
	var out []string
	var cur strings.Builder
	in := rune(0)
	have := false
	for _, r := range s {
		switch {
		case in != 0 && r == in:
			in = 0
		case in != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			in, have = r, true
		case r == ' ' || r == '\t':
			if have || cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
		}
	}
	if in != 0 {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if have || cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
