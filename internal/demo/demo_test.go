package demo_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/internal/conn"
	"github.com/ensbulk/ensbulk/internal/demo"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/internal/testkit"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
)

// call is one command the demo ran.
type call struct {
	plan bool
	args []string
}

// commands are plan and run as the binary makes them (job.Run with the
// flags' defaults, connected by package conn), recording each call.
type commands struct {
	mu     sync.Mutex
	calls  []call
	stderr io.Writer
	// after, if set, runs after the run of the input (not of the undo).
	after func(ctx context.Context, getenv func(string) string) error
}

func (c *commands) command(plan bool) demo.Command {
	return func(ctx context.Context, getenv func(string) string, args []string) error {
		c.mu.Lock()
		c.calls = append(c.calls, call{plan, args})
		n := len(c.calls)
		c.mu.Unlock()
		o := &job.Options{Delimiter: ",", EmptyToken: reader.DefaultEmptyToken, Workers: batch.DefaultWorkers,
			Timeout: batch.DefaultTimeout, MaxAttempts: batch.DefaultMaxAttempts, MaxRetryAfter: batch.DefaultMaxRetryAfter,
			ReportFormat: string(report.CSV), LogLevel: "error", LogLevelSet: true, Progress: "none",
			ProgressEvery: 5 * time.Second, Fsync: string(report.SyncNone), Read: "auto", Plan: plan, Now: time.Now}
		env := &job.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: c.stderr, Getenv: getenv,
			StdinTerminal: func() bool { return false },
			Connect: func(log *zap.Logger) (*job.Conn, error) {
				return conn.Open(&conn.Env{Stderr: c.stderr, Getenv: getenv}, &conn.Settings{Workers: o.Workers, Timeout: o.Timeout}, log)
			},
			ExitCode: func(err error) int {
				if err != nil {
					return 1
				}
				return 0
			}}
		err := job.Run(ctx, env, o, args[0])
		if !plan && n == 2 && c.after != nil {
			if aerr := c.after(ctx, getenv); aerr != nil {
				return aerr
			}
		}
		return err
	}
}

func (c *commands) env(stdout io.Writer) *demo.Env {
	return &demo.Env{Stdout: stdout, Plan: c.command(true), Run: c.command(false)}
}

// TestRunDemo: the demo plans, runs and undoes its sample against its
// own simulator on 127.0.0.1, through the commands it is given, with
// its Args and at --log-level error, and ends well: every ok row's
// mailbox holds what it set, and the undo took every change back.
func TestRunDemo(t *testing.T) {
	t.Parallel()
	for _, jsonl := range []bool{false, true} {
		name, ext, base := "csv", ".csv", "changes"
		if jsonl {
			name, ext, base = "jsonl", ".jsonl", "changes.jsonl"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var out testkit.Buffer
			c := &commands{stderr: io.Discard}
			o := &demo.Options{JSONL: jsonl, Dir: dir, Args: []string{"--rate", "0"}}
			if err := demo.Run(context.Background(), c.env(&out), o); err != nil {
				t.Fatalf("demo = %v\n%s", err, out.String())
			}
			input := filepath.Join(dir, "changes"+ext)
			reportFile := filepath.Join(dir, base+".report.csv")
			undoFile := filepath.Join(dir, base+".report.undo.jsonl")
			wantCalls := []call{
				{true, []string{input, "--rate", "0", "--log-level", "error"}},
				{false, []string{input, "--rate", "0", "--log-level", "error"}},
				{false, []string{undoFile, "--rate", "0", "--log-level", "error"}},
			}
			if !slices.EqualFunc(c.calls, wantCalls, func(a, b call) bool { return a.plan == b.plan && slices.Equal(a.args, b.args) }) {
				t.Errorf("commands run:\n%v\nwant\n%v", c.calls, wantCalls)
			}
			s := out.String()
			for _, re := range []string{
				`^ensbulk demo: a simulated Enswitch server is listening on http://127\.0\.0\.1:\d+\n`,
				`\nrows that did not go through \(from ` + regexp.QuoteMeta(reportFile) + `\):\n`,
				`\nchecked against the simulator: [1-9]\d* mailboxes hold exactly what their ok rows set\.\n`,
				`\nchecked against the simulator after the undo: 0 fields differ from before the run`,
				`\nnext: ensbulk summary ` + regexp.QuoteMeta(reportFile) + `\n$`,
			} {
				if !regexp.MustCompile(re).MatchString(s) {
					t.Errorf("output does not match %s:\n%s", re, s)
				}
			}
			if strings.Contains(s, "DO NOT") {
				t.Errorf("output reports mismatches:\n%s", s)
			}
			// The sample's 6 wrong rows are listed, one line each.
			if n := strings.Count(s[strings.Index(s, "rows that did not go through"):strings.Index(s, "checked against")], "\n  "); n != 1+6 {
				t.Errorf("table of rows that did not go through has %d lines, want a header and 6:\n%s", n, s)
			}
			for _, f := range []string{input, undoFile, reportFile} {
				if _, err := os.Stat(f); err != nil {
					t.Errorf("the demo left no %s: %v", filepath.Base(f), err)
				}
			}
		})
	}
}

// TestRunDemoAgain: a demo in the directory of an earlier one starts
// afresh (its report, plan report and undo file are removed first), and
// ends as well.
func TestRunDemoAgain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := range 2 {
		var out testkit.Buffer
		c := &commands{stderr: io.Discard}
		if err := demo.Run(context.Background(), c.env(&out), &demo.Options{Dir: dir, Args: []string{"--rate", "0"}}); err != nil {
			t.Fatalf("demo %d = %v\n%s", i+1, err, out.String())
		}
		if !strings.Contains(out.String(), "after the undo: 0 fields differ") {
			t.Errorf("demo %d:\n%s", i+1, out.String())
		}
	}
}

// TestRunDemoMismatch: a mailbox that does not hold what its ok row set
// (changed behind the run's back) is reported, and fails the demo
// before the undo.
func TestRunDemoMismatch(t *testing.T) {
	t.Parallel()
	var out testkit.Buffer
	c := &commands{stderr: io.Discard}
	c.after = func(ctx context.Context, getenv func(string) string) error {
		cn, err := conn.Open(&conn.Env{Stderr: io.Discard, Getenv: getenv}, &conn.Settings{Workers: 1, Timeout: 5 * time.Second}, zap.NewNop())
		if err != nil {
			return err
		}
		// Row 1 of the sample sets 1001's description.
		_, err = cn.Client.Update(ctx, []batch.Param{{Name: "mailbox", Value: "1001"}, {Name: "customer", Value: "100"}, {Name: "description", Value: "changed behind the run"}}, false)
		return err
	}
	err := demo.Run(context.Background(), c.env(&out), &demo.Options{Dir: t.TempDir(), Args: []string{"--rate", "0"}})
	if err == nil || !strings.Contains(err.Error(), "1 mailboxes differ from their ok rows") {
		t.Fatalf("demo = %v, want 1 mailbox reported different\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "; 1 DO NOT.") {
		t.Errorf("output does not report the mismatch:\n%s", out.String())
	}
	if len(c.calls) != 2 {
		t.Errorf("%d commands run, want plan and run only (no undo after a failed check)", len(c.calls))
	}
}

// TestRunDemoCommandErrors: a plan or run that ends with rows not
// applied (the sample's wrong rows) goes on; any other failure of a
// command ends the demo with that error.
func TestRunDemoCommandErrors(t *testing.T) {
	t.Parallel()
	boom := job.Mark(job.Aborted, errors.New("server gone"))
	fail := func(context.Context, func(string) string, []string) error { return boom }
	var out testkit.Buffer
	c := &commands{stderr: io.Discard}
	env := c.env(&out)
	env.Plan = fail
	if err := demo.Run(context.Background(), env, &demo.Options{Dir: t.TempDir()}); !errors.Is(err, boom) {
		t.Errorf("failing plan: demo = %v, want %v", err, boom)
	}
	if len(c.calls) != 0 {
		t.Errorf("a run followed a failed plan: %v", c.calls)
	}

	env = c.env(&out)
	env.Plan = func(context.Context, func(string) string, []string) error {
		return job.Mark(job.Rows, errors.New("6 rows"))
	}
	env.Run = fail
	if err := demo.Run(context.Background(), env, &demo.Options{Dir: t.TempDir()}); !errors.Is(err, boom) {
		t.Errorf("failing run: demo = %v, want %v", err, boom)
	}
}
