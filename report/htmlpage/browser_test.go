package htmlpage

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// update rewrites the screenshots of docs/img from the browser test.
var update = flag.Bool("update", false, "write docs/img/run-page.png and docs/img/plan-page.png from the browser test")

// chromium returns the browser to drive: $ENSBULK_CHROMIUM, else
// chromium on PATH or /usr/bin/chromium. Without one the test is skipped,
// unless ENSBULK_REQUIRE_BROWSER=1 (CI), where it fails: a skipped browser
// test there would pass a page no browser opened.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("ENSBULK_CHROMIUM"), "chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "no Chromium to open the page in: install it (Debian/Ubuntu: apt-get install -y chromium; or make browser), or set ENSBULK_CHROMIUM to its path"
	if os.Getenv("ENSBULK_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " (ENSBULK_REQUIRE_BROWSER=1: required)")
	}
	t.Skip(msg)
	return ""
}

// browser is what the page did while it was open: its console errors and
// exceptions, and the URLs it requested.
type browser struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (b *browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if e.Type == "error" || e.Type == "assert" || e.Type == "warning" {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		b.problems = append(b.problems, "exception: "+e.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == "warning" {
			b.problems = append(b.problems, fmt.Sprintf("%s %s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	}
}

// open opens the page in a fresh headless Chromium and returns its
// context and what it records.
func open(t *testing.T, exe, page string) (context.Context, *browser) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root, where the sandbox refuses to start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	b := &browser{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(page)}).String()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.problems {
			t.Errorf("the page logged %s", p)
		}
		for _, r := range b.requests {
			if r != u {
				t.Errorf("the page requested %s; only %s may be loaded", r, u)
			}
		}
		if !slices.Contains(b.requests, u) {
			t.Errorf("no request for the page itself seen (requests: %v): the network is not watched", b.requests)
		}
	})
	return ctx, b
}

// text is the text of the element with data-testid id.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="`+id+`"]`)))
	if err != nil {
		t.Fatalf("element %s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// screenshot saves the page as a PNG: to $ENSBULK_ARTIFACTS (CI keeps
// it) or the test's temporary directory, and with -update to docs/img.
func screenshot(t *testing.T, ctx context.Context, pkgDir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("ENSBULK_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(pkgDir, dir) // the test runs in another directory
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", filepath.Join(dir, name), len(png))
	if *update {
		if err := os.WriteFile(filepath.Join(pkgDir, "..", "..", "docs", "img", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowser writes the page of a run report and of a plan report, as
// ensbulk writes them (journal, finalize, sidecar), opens each in headless
// Chromium, and checks what the page shows against what the report
// holds; that the page logs no error, fetches nothing and runs nothing
// of what the switch or the file put in it.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	const (
		hostileScript = `<script>window.pwned=1</script>`
		hostileAttr   = `x"onerror="window.pwned2=1`
	)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		g    gen
		rows int
	}{
		{"run", gen{mode: "run", start: start, perSecond: 40, customers: 12, hostile: hostileScript, hostileField: hostileAttr}, 2400},
		{"plan", gen{mode: "plan", start: start, perSecond: 120, customers: 12, hostile: hostileScript, hostileField: hostileAttr}, 1200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Relative names, as an operator types them (and as the
			// screenshots in docs/ show them).
			dir := t.TempDir()
			wd, err := os.Getwd()
			if err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			rep := "changes." + tc.name + ".report.csv"
			meta := report.Meta{Input: "changes.csv", InputFormat: "csv", Started: start, Switch: "https://pbx.example.net", User: "ops<b>", Customer: "7"}
			tc.g.writeReport(t, rep, tc.rows, meta)
			page := filepath.Join(dir, tc.name+".html")
			// Ten mailboxes of the plan, field by field: the rest is
			// counted (and the screenshot stays small).
			lim := Limits{PlanMailboxes: 10}
			if _, err := Write(Options{Report: rep, Page: page, Limits: lim, Retry: "ensbulk run changes.csv --retry-failed " + rep, Resume: "ensbulk " + tc.name + " changes.csv --resume"}); err != nil {
				t.Fatal(err)
			}
			ctx, _ := open(t, exe, page)

			want := tc.g.counts(tc.rows)
			for _, st := range batch.Statuses {
				if want[st] == 0 && (st == batch.StatusChange || st == batch.StatusUnchanged || st == batch.StatusAppliedUnvalidated || st == batch.StatusMismatch) {
					continue
				}
				if got := text(t, ctx, "count-"+string(st)); got != fmtInt(want[st]) {
					t.Errorf("page shows %s = %s, want %s", st, got, fmtInt(want[st]))
				}
			}
			if got := text(t, ctx, "rows-total"); got != fmtInt(tc.rows) {
				t.Errorf("page shows %s rows, want %d", got, tc.rows)
			}
			if tc.name == "plan" {
				if got, wantMore := text(t, ctx, "plan-more"), plural(want[batch.StatusChange]-10, "more mailbox", "more mailboxes"); !strings.HasPrefix(got, wantMore) {
					t.Errorf("page says %q, want %q...", got, wantMore)
				}
				if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="plan-mailbox"]').length`)); err != nil || n != 10 {
					t.Errorf("%d mailboxes shown field by field, want 10 (%v)", n, err)
				}
				for id, st := range map[string]batch.Status{"plan-change": batch.StatusChange, "plan-unchanged": batch.StatusUnchanged, "plan-invalid": batch.StatusInvalid} {
					if got := text(t, ctx, id); got != fmtInt(want[st]) {
						t.Errorf("page shows %s = %s, want %d", id, got, want[st])
					}
				}
			}
			for id, w := range map[string]string{"id-switch": meta.Switch, "id-user": meta.User, "id-customer": meta.Customer, "id-input": meta.Input, "id-mode": tc.name} {
				if got := text(t, ctx, id); got != w {
					t.Errorf("page shows %s = %q, want %q", id, got, w)
				}
			}

			// Escaping: the hostile text is shown, and did nothing.
			pwned, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.pwned !== undefined || window.pwned2 !== undefined`))
			if err != nil || pwned {
				t.Errorf("an injected script ran (%v)", err)
			}
			attrs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[onerror], script, img, iframe, object').length`))
			if err != nil || attrs != 0 {
				t.Errorf("%d elements or attributes came from the report's text (%v)", attrs, err)
			}
			body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{hostileScript, hostileAttr, "ops<b>"} {
				if !strings.Contains(body, s) {
					t.Errorf("the page does not show %q as text", s)
				}
			}
			if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('table')].filter(e => e.dataset.testid === `+strconv.Quote("column-"+hostileAttr)+`).length`)); err != nil || n != 1 {
				t.Errorf("the column named %q has %d tables, want 1: its name must stay one attribute value (%v)", hostileAttr, n, err)
			}
			screenshot(t, ctx, wd, tc.name+"-page.png")
		})
	}
}
