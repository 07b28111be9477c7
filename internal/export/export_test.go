package export_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/internal/conn"
	"github.com/ensbulk/ensbulk/internal/console"
	"github.com/ensbulk/ensbulk/internal/export"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/internal/testkit"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/simulator"
)

const (
	simUser     = "admin"
	simPassword = "admin-demo-pass"
)

// odd are descriptions that test the file's quoting, and whether each
// is left out (kept) of a CSV and of a JSONL export: a value is written
// only when it reads back as itself.
var odd = []struct {
	value             string
	keptCSV, keptJSON bool
}{
	{`say "hi", then go`, false, false},
	{"Zoë — 東京 ✓", false, false},
	{"", false, false}, // written as the empty token, or ""
	{`a,b;c\d`, false, false},
	{`{"json":"inside"}`, false, false},
	{" padded ", false, false},              // a description's spaces read back as they are
	{reader.DefaultEmptyToken, true, false}, // the empty token as text, in CSV
	{strings.Repeat("long ", 20) + "end", false, false},
}

// startSim serves the generated world with the odd descriptions on
// customer 100's mailboxes and an empty pager (null on the wire) on the
// first, with PINs shown as pinDisplay.
func startSim(t *testing.T, pinDisplay simulator.PINDisplay) (*simulator.Server, string) {
	t.Helper()
	gen, err := simulator.New(simulator.Config{Seed: 1, Mailboxes: 30})
	if err != nil {
		t.Fatal(err)
	}
	st := gen.State()
	gen.Close()
	i := 0
	for _, m := range st.Mailboxes {
		if m["customer"] != "100" || i >= len(odd) {
			continue
		}
		m["description"] = odd[i].value
		if i == 0 {
			m["pager"] = ""
		}
		i++
	}
	if i < len(odd) {
		t.Fatalf("customer 100 has %d mailboxes, want %d", i, len(odd))
	}
	sim, err := simulator.New(simulator.Config{State: st, Seed: 1, PINDisplay: pinDisplay})
	if err != nil {
		t.Fatal(err)
	}
	return sim, testkit.Serve(t, sim)
}

// session is an export's Env against url as the demo admin with
// password, and what it wrote.
type session struct {
	env            *export.Env
	stdout, stderr *testkit.Buffer
	connects       int
}

func newSession(url, password string) *session {
	s := &session{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}}
	vars := map[string]string{"ENSWITCH_URL": url, "ENSWITCH_USER": simUser, "ENSWITCH_PASSWORD": password}
	s.env = &export.Env{Stdout: s.stdout, Stderr: s.stderr, Style: console.Style{},
		Connect: func(log *zap.Logger, timeout time.Duration) (*job.Conn, error) {
			s.connects++
			cenv := &conn.Env{Stderr: s.stderr, Getenv: func(k string) string { return vars[k] }}
			return conn.Open(cenv, &conn.Settings{Workers: 1, Timeout: timeout}, log)
		}}
	return s
}

// readBack reads an export with package reader: its header and rows.
func readBack(t *testing.T, data []byte, format reader.Format) ([]string, []batch.Row) {
	t.Helper()
	var header []string
	if format == reader.CSV {
		line, _, _ := strings.Cut(string(data), "\n")
		header = strings.Split(strings.TrimSuffix(line, "\r"), ",")
	}
	src, err := reader.New(bytes.NewReader(data), reader.Options{Format: format})
	if err != nil {
		t.Fatal(err)
	}
	var rows []batch.Row
	for row, err := range batch.Rows(src) {
		if err != nil {
			t.Fatal(err)
		}
		if row.Err != nil {
			t.Fatalf("row %d of the export is refused: %v", row.Num, row.Err)
		}
		rows = append(rows, row)
	}
	return header, rows
}

func params(r batch.Row) map[string]string {
	m := map[string]string{}
	for _, p := range r.Params {
		m[p.Name] = p.Value
	}
	return m
}

// TestRunRoundTrip: an export of two customers holds every mailbox of
// each, in the server's order, and reading it back gives the server's
// values: quotes, commas, Unicode and "" as they are; a null, a value
// that would not read back as itself, and the PIN left out (kept).
func TestRunRoundTrip(t *testing.T) {
	t.Parallel()
	for _, format := range []reader.Format{reader.CSV, reader.JSONL} {
		t.Run(string(format), func(t *testing.T) {
			t.Parallel()
			sim, url := startSim(t, simulator.PINPlain)
			s := newSession(url, simPassword)
			err := export.Run(context.Background(), s.env, &export.Options{Customers: []string{"100", "101"}, Format: string(format)})
			if err != nil {
				t.Fatal(err)
			}
			header, rows := readBack(t, []byte(s.stdout.String()), format)
			if format == reader.CSV {
				var want []string
				for _, f := range schema.Fields() {
					if !f.Secret {
						want = append(want, f.Name)
					}
				}
				if !slices.Equal(header, want) {
					t.Errorf("header = %v, want %v", header, want)
				}
			}
			var boxes []simulator.Mailbox
			for _, m := range sim.State().Mailboxes {
				if m["customer"] == "100" || m["customer"] == "101" {
					boxes = append(boxes, m)
				}
			}
			if len(rows) != len(boxes) {
				t.Fatalf("read %d rows back, the server holds %d mailboxes", len(rows), len(boxes))
			}
			nulls := simulator.DefaultNullColumns()
			kept := 0
			for i, r := range rows {
				m := boxes[i]
				got := params(r)
				if r.Mailbox != m["mailbox"] || r.Customer != m["customer"] {
					t.Errorf("row %d is %s/%s, want %s/%s", r.Num, r.Customer, r.Mailbox, m["customer"], m["mailbox"])
				}
				for _, f := range schema.Fields() {
					v, ok := got[f.Name]
					want, keep := m[f.Name], f.Secret || m[f.Name] == "" && slices.Contains(nulls, f.Name)
					if f.Name == "description" && i < len(odd) {
						keep = format == reader.CSV && odd[i].keptCSV || format == reader.JSONL && odd[i].keptJSON
					}
					switch {
					case keep && ok:
						t.Errorf("mailbox %s: %s = %q written, want it kept (left out)", m["mailbox"], f.Name, v)
					case !keep && (!ok || v != want):
						t.Errorf("mailbox %s: %s reads back as %q (present %v), the server holds %q", m["mailbox"], f.Name, v, ok, want)
					}
					if keep && !f.Secret {
						kept++
					}
				}
			}
			if kept == 0 {
				t.Error("no value was left out: the null and odd values did not reach the export")
			}
			out := s.stderr.String()
			if !strings.Contains(out, "export: "+strconv.Itoa(len(boxes))+" mailboxes of 2 customer(s)") {
				t.Errorf("stderr = %q, want the count of mailboxes", out)
			}
			// CSV leaves out the empty token as text and says so.
			if said := strings.Contains(out, "1 value(s) cannot be written so that they read back exactly"); said != (format == reader.CSV) {
				t.Errorf("stderr = %q, want the value left out counted in CSV only", out)
			}
			if s.connects != 1 {
				t.Errorf("connected %d times, want once", s.connects)
			}
		})
	}
}

// TestRunColumns: --columns chooses the fields after mailbox and
// customer, in schema order whatever the order given; an unknown or
// reserved one is refused before anything is sent.
func TestRunColumns(t *testing.T) {
	t.Parallel()
	_, url := startSim(t, simulator.PINMasked)
	s := newSession(url, simPassword)
	if err := export.Run(context.Background(), s.env, &export.Options{Customers: []string{"101"}, Format: "csv", Columns: "timezone, description"}); err != nil {
		t.Fatal(err)
	}
	if line, _, _ := strings.Cut(s.stdout.String(), "\n"); line != "mailbox,customer,description,timezone" {
		t.Errorf("header = %q", line)
	}
	for _, cols := range []string{"timezon", "pin,nosuch", "auth_password"} {
		s := newSession(url, simPassword)
		err := export.Run(context.Background(), s.env, &export.Options{Customers: []string{"101"}, Format: "csv", Columns: cols})
		if job.KindOf(err) != job.Usage || !strings.Contains(err.Error(), "--columns") {
			t.Errorf("--columns %s: err = %v, want a usage error naming --columns", cols, err)
		}
		if s.connects != 0 || s.stdout.String() != "" {
			t.Errorf("--columns %s: connected %d times, wrote %q; want nothing done", cols, s.connects, s.stdout)
		}
	}
	err := export.Run(context.Background(), s.env, &export.Options{Customers: []string{"101"}, Format: "csv", Columns: "timezon"})
	if err == nil || !strings.Contains(err.Error(), "did you mean timezone?") {
		t.Errorf("err = %v, want the field it may mean", err)
	}
	// A PIN asked for by name without --with-pin is refused, not left out
	// in silence.
	s = newSession(url, simPassword)
	err = export.Run(context.Background(), s.env, &export.Options{Customers: []string{"101"}, Format: "csv", Columns: "description,pin"})
	if job.KindOf(err) != job.Usage || !strings.Contains(err.Error(), "only with --with-pin") || s.connects != 0 {
		t.Errorf("--columns description,pin without --with-pin: err = %v, %d connects; want a usage error naming --with-pin, nothing sent", err, s.connects)
	}
}

// TestRunRefusesCustomers: no customer, or one that is not a number, is
// a usage error before anything is sent.
func TestRunRefusesCustomers(t *testing.T) {
	t.Parallel()
	for _, custs := range [][]string{nil, {"100", "1e3"}, {"-1"}, {" 100"}} {
		s := newSession("http://127.0.0.1:1", simPassword)
		err := export.Run(context.Background(), s.env, &export.Options{Customers: custs, Format: "csv"})
		if job.KindOf(err) != job.Usage {
			t.Errorf("customers %q: err = %v, want a usage error", custs, err)
		}
		if s.connects != 0 {
			t.Errorf("customers %q: connected before refusing", custs)
		}
	}
}

// TestRunPIN: PINs are left out unless WithPIN; with it, a PIN the
// server shows in plain is written (and the file is 0600), one it masks
// is left out and counted.
func TestRunPIN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		display simulator.PINDisplay
		withPIN bool
	}{
		{"plain, without PIN", simulator.PINPlain, false},
		{"plain, with PIN", simulator.PINPlain, true},
		{"masked, with PIN", simulator.PINMasked, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, url := startSim(t, tt.display)
			s := newSession(url, simPassword)
			path := filepath.Join(t.TempDir(), "boxes.csv")
			err := export.Run(context.Background(), s.env, &export.Options{Customers: []string{"101"}, Format: "csv", Output: path, WithPIN: tt.withPIN})
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			header, rows := readBack(t, data, reader.CSV)
			if got := slices.Contains(header, "pin"); got != tt.withPIN {
				t.Errorf("pin column = %v, want %v (header %v)", got, tt.withPIN, header)
			}
			written := 0
			for _, r := range rows {
				m, _ := sim.Mailbox(101, r.Mailbox)
				pin, ok := params(r)["pin"]
				switch {
				case ok && (pin != m["pin"] || tt.display != simulator.PINPlain || !tt.withPIN):
					t.Errorf("mailbox %s: pin %q written (server holds %q)", r.Mailbox, pin, m["pin"])
				case ok:
					written++
				}
			}
			masked := strings.Contains(s.stderr.String(), "does not show") && strings.Contains(s.stderr.String(), "PIN(s) in plain")
			switch {
			case tt.withPIN && tt.display == simulator.PINPlain && written != len(rows):
				t.Errorf("%d of %d PINs written", written, len(rows))
			case tt.withPIN && tt.display == simulator.PINMasked && !masked:
				t.Errorf("stderr = %q, want the masked PINs counted", s.stderr)
			case !tt.withPIN && masked:
				t.Errorf("stderr = %q counts PINs it was not asked for", s.stderr)
			}
			if runtime.GOOS != "windows" {
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				want := os.FileMode(0o644)
				if tt.withPIN {
					want = 0o600
				}
				if st.Mode().Perm() != want {
					t.Errorf("mode = %v, want %v", st.Mode().Perm(), want)
				}
			}
		})
	}
}

// TestRunOutputFile: --output replaces an earlier export (or an empty
// file) and a link at its name (never writing through it), and refuses
// any other file or a directory, leaving it as it was; no temporary
// file is left behind.
func TestRunOutputFile(t *testing.T) {
	t.Parallel()
	_, url := startSim(t, simulator.PINMasked)
	run := func(t *testing.T, path, format string) error {
		s := newSession(url, simPassword)
		return export.Run(context.Background(), s.env, &export.Options{Customers: []string{"101"}, Format: format, Output: path})
	}
	isExport := func(t *testing.T, path string) {
		t.Helper()
		st, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		if !st.Mode().IsRegular() || !strings.HasPrefix(string(data), "mailbox,customer,") {
			t.Errorf("%s: mode %v, starts %.30q; want a regular file holding the export", path, st.Mode(), data)
		}
	}
	noTemp := func(t *testing.T, dir string) {
		t.Helper()
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	}

	t.Run("earlier export and empty file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		for name, old := range map[string]string{"a.csv": "mailbox,customer,description\n1,101,old\n", "b.csv": "", "c.jsonl": `{"mailbox":"1"}` + "\n"} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := run(t, path, "csv"); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			isExport(t, path)
		}
		noTemp(t, dir)
	})
	t.Run("not an export", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "notes.txt")
		const notes = "my notes, not an export\n"
		if err := os.WriteFile(path, []byte(notes), 0o644); err != nil {
			t.Fatal(err)
		}
		err := run(t, path, "csv")
		if job.KindOf(err) != job.Usage || !strings.Contains(err.Error(), "is not an export") {
			t.Errorf("err = %v, want a usage error: not an export", err)
		}
		if data, _ := os.ReadFile(path); string(data) != notes {
			t.Errorf("the file was changed: %q", data)
		}
		noTemp(t, dir)
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "out")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		err := run(t, path, "csv")
		if job.KindOf(err) != job.Usage || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("err = %v, want a usage error: not a regular file", err)
		}
		noTemp(t, dir)
	})
	t.Run("link", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" {
			t.Skip("symbolic links need privileges")
		}
		dir := t.TempDir()
		target := filepath.Join(dir, "target")
		const secret = "not to be overwritten\n"
		if err := os.WriteFile(target, []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "boxes.csv")
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		if err := run(t, path, "csv"); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(target); string(data) != secret {
			t.Errorf("written through the link: target holds %q", data)
		}
		isExport(t, path)
		noTemp(t, dir)
	})
}

// TestRunFailedList: a list that fails (a wrong password; a customer
// the user cannot see) aborts the export, and leaves the file at
// --output as it was: a partial list is no export.
func TestRunFailedList(t *testing.T) {
	t.Parallel()
	_, url := startSim(t, simulator.PINMasked)
	tests := []struct {
		name, password string
		customers      []string
	}{
		{"wrong password", "wrong-password", []string{"100"}},
		{"second customer unknown", simPassword, []string{"100", "424242"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "boxes.csv")
			const earlier = "mailbox,customer,description\n1,100,earlier\n"
			if err := os.WriteFile(path, []byte(earlier), 0o644); err != nil {
				t.Fatal(err)
			}
			s := newSession(url, tt.password)
			err := export.Run(context.Background(), s.env, &export.Options{Customers: tt.customers, Format: "csv", Output: path})
			if job.KindOf(err) != job.Aborted {
				t.Fatalf("err = %v (kind %q), want aborted", err, job.KindOf(err))
			}
			if strings.Contains(err.Error(), tt.password) {
				t.Errorf("err %q shows the password", err)
			}
			if data, _ := os.ReadFile(path); string(data) != earlier {
				t.Errorf("the earlier export was replaced by a partial one: %q", data)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("files left in the directory: %v", ents)
			}
			if strings.Contains(s.stderr.String(), "export: ") {
				t.Errorf("stderr = %q, tells of an export that did not happen", s.stderr)
			}
		})
	}
}
