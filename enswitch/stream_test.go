package enswitch_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/report/reporttest"
	"github.com/ensbulk/ensbulk/simulator"
)

// A customer of 20,000 mailboxes lists whole, through the real client
// and the real simulator: some 14 MB of JSON, beyond the 4 MiB the
// client reads of an ordinary answer (the list failed with "unexpected
// end of JSON input" when it was read whole).
func TestListLargeCustomer(t *testing.T) {
	const perCustomer = 20000
	sim, ts := startSim(t, simulator.Config{Mailboxes: 2 * perCustomer}) // half to 100, half to 101
	// The timeout bounds the whole body: generous, for -race.
	c := newClient(t, ts.URL, "admin", "admin-demo-pass", enswitch.HTTPOptions{Timeout: 2 * time.Minute})
	n, last := 0, ""
	err := c.EachMailbox(context.Background(), "100", func(m enswitch.Mailbox) error {
		n++
		last = m.Text("mailbox")
		if cust := m.Text("customer"); cust != "100" {
			return fmt.Errorf("mailbox %s of customer %s in the list of 100", last, cust)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("EachMailbox(100): %v", err)
	}
	if n != perCustomer {
		t.Errorf("EachMailbox(100) gave %d mailboxes, want %d", n, perCustomer)
	}
	want := strconv.Itoa(1001 + 2*(perCustomer-1)) // customer 100 has the even-indexed ones
	if last != want {
		t.Errorf("last mailbox %s, want %s", last, want)
	}
	if got := sim.Stats().ByFunction["mailboxes/list"]; got != 1 {
		t.Errorf("%d list requests, want 1", got)
	}
}

// mailboxJSON is one mailbox as a list writes it.
func mailboxJSON(i int) string {
	return fmt.Sprintf(`{"id":%d,"mailbox":"%d","customer":100,"description":"Reception %d","dtype":"phone","dnumber":null,"envelope":1,"pin":"****","timezone":"Europe/London"}`, i, 1000+i, i)
}

// listServer answers mailboxes/list with body(w); anything else (the
// client here sends the password) is a 404.
func listServer(t testing.TB, body func(w *bufio.Writer)) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "mailboxes/list") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriterSize(w, 64<<10)
		body(bw)
		_ = bw.Flush()
	}))
	t.Cleanup(ts.Close)
	return ts
}

func writeRows(w io.Writer, n int) {
	for i := range n {
		if i > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, mailboxJSON(i+1))
	}
}

const ok200 = `"responses":[{"code":"200","key":"","message":"OK"}]`

// A list whose body ends early, or holds something that is not JSON, is
// an error that names the customer and how far it got: never a short
// list taken as the whole customer.
func TestListTruncatedOrMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"cut after 1,234 mailboxes", "{" + ok200 + `,"data":[` + rowsText(1234), "mailboxes/list of customer 100: truncated after 1,234 mailboxes"},
		{"cut inside a mailbox", "{" + ok200 + `,"data":[` + rowsText(3) + `,{"id":4,"mailb`, "mailboxes/list of customer 100: truncated after 3 mailboxes"},
		{"cut before the responses", `{"data":[` + rowsText(2) + `],"respo`, "mailboxes/list of customer 100: truncated after 2 mailboxes"},
		{"garbage in the list", "{" + ok200 + `,"data":[` + rowsText(2) + `,<html>]}`, "mailboxes/list of customer 100: malformed after 2 mailboxes"},
		{"data not an array", "{" + ok200 + `,"data":{"mailbox":"1"}}`, "mailboxes/list of customer 100: malformed after 0 mailboxes"},
		{"data null", "{" + ok200 + `,"data":null}`, "mailboxes/list of customer 100: malformed after 0 mailboxes"},
		{"no data", "{" + ok200 + `}`, "mailboxes/list of customer 100: malformed after 0 mailboxes: no data"},
		{"no responses", `{"data":[` + rowsText(2) + `]}`, "mailboxes/list of customer 100: malformed after 2 mailboxes"},
		{"a second envelope", "{" + ok200 + `,"data":[]}{}`, "mailboxes/list of customer 100: malformed after 0 mailboxes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := listServer(t, func(w *bufio.Writer) { io.WriteString(w, tc.body) })
			c := newClient(t, ts.URL, "admin", "pw", enswitch.HTTPOptions{})
			_, err := c.List(context.Background(), "100")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("List = %v, want an error containing %q", err, tc.want)
			}
			if k := batch.KindOf(err); k != batch.KindTransient {
				t.Errorf("kind %v, want transient", k)
			}
		})
	}
	t.Run("simulator truncate fault", func(t *testing.T) {
		_, ts := startSim(t, simulator.Config{Mailboxes: 400, Faults: simulator.Faults{TruncateRate: 1}})
		c := newClient(t, ts.URL, "admin", "admin-demo-pass", enswitch.HTTPOptions{})
		n := 0
		err := c.EachMailbox(context.Background(), "101", func(enswitch.Mailbox) error { n++; return nil })
		want := fmt.Sprintf("mailboxes/list of customer 101: truncated after %s mailboxes", strconv.Itoa(n))
		if err == nil || !strings.Contains(err.Error(), want) || n == 0 || n >= 200 {
			t.Fatalf("EachMailbox = %v after %d mailboxes, want an error containing %q, some of the 200 mailboxes delivered", err, n, want)
		}
	})
}

func rowsText(n int) string {
	var b strings.Builder
	writeRows(&b, n)
	return b.String()
}

// The envelope's members come in either order. Responses after the data:
// the mailboxes are delivered as they come, and a failing code at the
// end fails the list, saying the list is not whole. A failing code
// before the data: no mailbox is delivered.
func TestListResponsesOrder(t *testing.T) {
	const fail400 = `"responses":[{"code":"400","key":"customer","message":"Invalid customer specified."}]`
	for _, tc := range []struct {
		name      string
		body      string
		wantRows  int
		wantKind  batch.Kind // 0: success
		wantInErr string
	}{
		{"responses first", "{" + ok200 + `,"data":[` + rowsText(5) + "]}", 5, 0, ""},
		{"responses last", `{"data":[` + rowsText(5) + "]," + ok200 + "}", 5, 0, ""},
		{"other members skipped", `{"meta":{"x":[1,2,{"y":null}]},"data":[` + rowsText(5) + "]," + ok200 + `,"more":"z"}`, 5, 0, ""},
		{"failing code first", "{" + fail400 + `,"data":[` + rowsText(5) + "]}", 0, batch.KindInvalid, "mailboxes/list of customer 100: "},
		{"failing code last", `{"data":[` + rowsText(5) + "]," + fail400 + "}", 5, batch.KindInvalid,
			"mailboxes/list of customer 100: the server answered a failure after 5 mailboxes, so the list is not whole"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := listServer(t, func(w *bufio.Writer) { io.WriteString(w, tc.body) })
			c := newClient(t, ts.URL, "admin", "pw", enswitch.HTTPOptions{})
			n := 0
			err := c.EachMailbox(context.Background(), "100", func(m enswitch.Mailbox) error {
				n++
				if got, want := m.Text("mailbox"), strconv.Itoa(1000+n); got != want {
					t.Errorf("mailbox %d is %q, want %q", n, got, want)
				}
				return nil
			})
			if n != tc.wantRows {
				t.Errorf("fn was given %d mailboxes, want %d", n, tc.wantRows)
			}
			if tc.wantKind == 0 {
				if err != nil {
					t.Fatalf("EachMailbox: %v", err)
				}
				return
			}
			if k := batch.KindOf(err); k != tc.wantKind || !strings.Contains(fmt.Sprint(err), tc.wantInErr) {
				t.Errorf("EachMailbox = %v (kind %v), want kind %v containing %q", err, k, tc.wantKind, tc.wantInErr)
			}
		})
	}
	t.Run("fn's error stops the list unchanged", func(t *testing.T) {
		ts := listServer(t, func(w *bufio.Writer) { io.WriteString(w, "{"+ok200+`,"data":[`+rowsText(5)+"]}") })
		c := newClient(t, ts.URL, "admin", "pw", enswitch.HTTPOptions{})
		stop := errors.New("disk full")
		n := 0
		err := c.EachMailbox(context.Background(), "100", func(enswitch.Mailbox) error {
			if n++; n == 2 {
				return stop
			}
			return nil
		})
		if err != stop || n != 2 {
			t.Errorf("EachMailbox = %v after %d mailboxes, want fn's own error after 2", err, n)
		}
	})
}

// A hostile server that sends one column of 50 MB: the list is refused
// once the mailbox passes MaxMailboxJSON, and the client's heap never
// holds more than a few times that bound, not the 50 MB.
func TestListHugeColumnBounded(t *testing.T) {
	const column = 50 << 20
	ts := listServer(t, func(w *bufio.Writer) {
		io.WriteString(w, "{"+ok200+`,"data":[`+mailboxJSON(1)+`,{"mailbox":"1002","description":"`)
		chunk := strings.Repeat("x", 64<<10)
		for written := 0; written < column; written += len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return // the client hung up: the point
			}
		}
		io.WriteString(w, `"}]}`)
	})
	c := newClient(t, ts.URL, "admin", "pw", enswitch.HTTPOptions{})
	var peak uint64
	stop := reporttest.WatchHeap(&peak)
	n := 0
	err := c.EachMailbox(context.Background(), "100", func(enswitch.Mailbox) error { n++; return nil })
	stop()
	if err == nil || !strings.Contains(err.Error(), "mailboxes/list of customer 100: refused after 1 mailboxes") {
		t.Fatalf("EachMailbox = %v, want it refused after the first mailbox", err)
	}
	if n != 1 {
		t.Errorf("fn given %d mailboxes, want 1", n)
	}
	const bound = 5 * enswitch.MaxMailboxJSON
	if peak > bound || peak < enswitch.MaxMailboxJSON/2 {
		t.Errorf("heap grew by %d MiB, want between %d and %d MiB: the bound of one mailbox, not the column", peak>>20, enswitch.MaxMailboxJSON>>21, bound>>20)
	}
	t.Logf("heap peak %.1f MiB for a 50 MiB column", float64(peak)/(1<<20))
}

// An answer with an HTTP status other than 200 whose body is an Enswitch
// envelope is that envelope: its code decides, through the client's one
// table, so a 401 or a 400 so sent is not retried as a transport fault.
// A body that is not an envelope (an HTML error page) stays a transport
// fault.
func TestHTTPErrorWithEnvelope(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int
		body         string
		wantKind     batch.Kind
		wantCode     string
		wantKey      string
		wantThrottle bool
	}{
		{"401 envelope", 401, `{"responses":[{"code":"401","key":"","message":"Authentication failed"}]}`, batch.KindUnauthorized, "401", "", false},
		{"400 envelope", 400, `{"responses":[{"code":"400","key":"pin","message":"Must be digits"}]}`, batch.KindInvalid, "400", "pin", false},
		{"404 envelope", 404, `{"responses":{"code":404,"key":"mailbox","message":"Not found"}}`, batch.KindNotFound, "404", "mailbox", false},
		{"500 envelope with 403", 500, `{"responses":[{"code":"403","key":"","message":"Rate plan"}]}`, batch.KindForbidden, "403", "", false},
		{"503 envelope with an unknown code", 503, `{"responses":[{"code":"503","key":"","message":"Busy"}]}`, batch.KindTransient, "503", "", true},
		{"502 HTML page", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", batch.KindTransient, "502", "", false},
		{"500 cut envelope", 500, `{"responses":[{"code":"4`, batch.KindTransient, "500", "", false},
		{"401 plain text", 401, "Unauthorized", batch.KindTransient, "401", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests := 0
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests++
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			t.Cleanup(ts.Close)
			c := newClient(t, ts.URL, "admin", "pw", enswitch.HTTPOptions{})
			for _, call := range []struct {
				name string
				f    func() error
			}{
				{"update", func() error { _, err := c.Update(context.Background(), row1001, false); return err }},
				{"get", func() error { _, err := c.Get(context.Background(), "1001", "100"); return err }},
				{"list", func() error { _, err := c.List(context.Background(), "100"); return err }},
			} {
				requests = 0
				err := call.f()
				be := asBatchError(t, err)
				if be.Kind != tc.wantKind || be.Code != tc.wantCode || be.Key != tc.wantKey || be.Throttle != tc.wantThrottle {
					t.Errorf("%s: %v (kind %v code %q key %q throttle %v), want kind %v code %q key %q throttle %v",
						call.name, err, be.Kind, be.Code, be.Key, be.Throttle, tc.wantKind, tc.wantCode, tc.wantKey, tc.wantThrottle)
				}
				if requests != 1 {
					t.Errorf("%s: %d requests, want 1", call.name, requests)
				}
			}
		})
	}
}

// BenchmarkListStream lists a customer of 100,000 mailboxes (about 20 MB
// of JSON) from a server that writes them as it goes, and reports the
// live heap's peak above its start: flat in the customer's size.
//
//	go test ./enswitch -run '^$' -bench ListStream -benchmem -benchtime 3x
func BenchmarkListStream(b *testing.B) {
	const mailboxes = 100000
	ts := listServer(b, func(w *bufio.Writer) {
		io.WriteString(w, "{"+ok200+`,"data":[`)
		writeRows(w, mailboxes)
		io.WriteString(w, "]}")
	})
	hc := enswitch.NewHTTPClient(enswitch.HTTPOptions{})
	b.Cleanup(hc.CloseIdleConnections)
	c, err := enswitch.New(enswitch.Config{BaseURL: ts.URL, Username: "admin", Password: "pw", HTTPClient: hc})
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	stop := reporttest.WatchHeap(&peak)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		if err := c.EachMailbox(context.Background(), "100", func(enswitch.Mailbox) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != mailboxes {
			b.Fatalf("%d mailboxes, want %d", n, mailboxes)
		}
	}
	b.StopTimer()
	stop()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/mailboxes, "ns/mailbox")
}
