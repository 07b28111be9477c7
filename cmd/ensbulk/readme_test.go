package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeCommandsParse checks that every ensbulk command line in the
// README's code blocks (the crontab line, the systemd unit, the examples)
// uses subcommands and flags that exist.
func TestReadmeCommandsParse(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	inBlock := false
	re := regexp.MustCompile(`(?:^|[\s=/])ensbulk\s+(run|validate|sim|summary|demo|version)\b(.*)$`)
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rest := m[2]
		if i := strings.Index(rest, " #"); i >= 0 {
			rest = rest[:i]
		}
		for _, cut := range []string{">>", "2>&1", "&&", "|"} {
			if i := strings.Index(rest, cut); i >= 0 {
				rest = rest[:i]
			}
		}
		args := append([]string{m[1]}, shellWords(t, strings.TrimSuffix(strings.TrimSpace(rest), "\\"))...)
		found++
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			root := newRoot(context.Background(), &Env{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, Getenv: func(string) string { return "" }})
			cmd, rest, err := root.Find(args)
			if err != nil {
				t.Fatalf("find: %v", err)
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("flags do not parse: %v", err)
			}
			if cmd.Args != nil {
				if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
					t.Errorf("arguments: %v", err)
				}
			}
			if w := cmd.Flags().Lookup("window"); w != nil && w.Value.String() != "" {
				if _, err := parseWindow(w.Value.String(), nil); err != nil {
					t.Errorf("--window: %v", err)
				}
			}
		})
	}
	if found < 8 {
		t.Errorf("found %d ensbulk command lines in README code blocks, want the examples, crontab and systemd lines", found)
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
