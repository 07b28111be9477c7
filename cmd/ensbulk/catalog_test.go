package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/simulator"
)

// Every case of the reader's input catalog (reader/testdata/catalog.json,
// see the README beside it) through the real binary's run against a
// simulator that has every mailbox the catalog names: the exit code the
// catalog gives, nothing sent for a file-level error, one report line per
// row with the local refusals where the catalog puts them, and the valid
// rows applied.

// catalogFile is the part of catalog.json these tests read.
type catalogFile struct {
	Entries []struct {
		File    string `json:"file"`
		Kind    string `json:"kind"`
		Exit    int    `json:"exit"`
		Options struct {
			Format     string `json:"format"`
			Delimiter  string `json:"delimiter"`
			EmptyToken string `json:"empty_token"`
		} `json:"options"`
		FileError *struct {
			Contains string `json:"contains"`
		} `json:"file_error"`
		Rows []struct {
			Row     int        `json:"row"`
			Mailbox string     `json:"mailbox"`
			Params  [][]string `json:"params"`
			Error   *struct {
				Column string `json:"column"`
			} `json:"error"`
		} `json:"rows"`
	} `json:"entries"`
}

const catalogDir = "../../reader/testdata"

// serverRefusals are the catalog's locally valid rows that the simulator
// refuses, as a real server does: the catalog's exit code is that of
// validate --offline. file -> row -> the parameter the 400 names.
var serverRefusals = map[string]map[int]string{
	"catalog/tab_in_description.csv":    {1: "description"}, // a tab is a control character
	"catalog/empty_token_literal.jsonl": {1: "pager"},       // "<empty>" is not an email address
}

// catalogWorld is the demo world plus every customer and mailbox that a
// valid catalog row names (no customer: the admin's, 1).
func catalogWorld(t *testing.T, c *catalogFile) *simulator.State {
	st := simulator.Generate(0, 1)
	customers := map[int]bool{}
	for _, cu := range st.Customers {
		customers[cu.ID] = true
	}
	boxes := map[string]bool{}
	for _, e := range c.Entries {
		for _, r := range e.Rows {
			if r.Error != nil {
				continue
			}
			cust := "1"
			for _, p := range r.Params {
				if p[0] == "customer" {
					cust = p[1]
				}
			}
			id, err := strconv.Atoi(cust)
			if err != nil {
				t.Fatalf("%s row %d: customer %q", e.File, r.Row, cust)
			}
			if !customers[id] {
				customers[id] = true
				st.Customers = append(st.Customers, simulator.Customer{ID: id, Name: "Catalog " + cust, Parent: simulator.CustomerOperator})
			}
			if k := cust + "/" + r.Mailbox; !boxes[k] {
				boxes[k] = true
				st.Mailboxes = append(st.Mailboxes, simulator.Mailbox{"mailbox": r.Mailbox, "customer": cust})
			}
		}
	}
	return st
}

func TestCatalogThroughBinary(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(catalogDir, "catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c catalogFile
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) < 40 {
		t.Fatalf("catalog has %d entries: not the reader's catalog", len(c.Entries))
	}
	world := catalogWorld(t, &c)
	for _, e := range c.Entries {
		t.Run(filepath.Base(e.File), func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, simulator.Config{State: world})
			in, err := filepath.Abs(filepath.Join(catalogDir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			rep := filepath.Join(t.TempDir(), "catalog.report.csv")
			args := []string{"run", in, "--no-read", "--report", rep, "--rate", "0", "--workers", "4", "--progress", "none"}
			if o := e.Options; o.Format != "" {
				args = append(args, "--format", o.Format)
			}
			if o := e.Options; o.Delimiter != "" {
				args = append(args, "--delimiter", o.Delimiter)
			}
			if o := e.Options; o.EmptyToken != "" {
				args = append(args, "--empty-token", o.EmptyToken)
			}
			cmd := exec.Command(binary, args...)
			cmd.Env = os.Environ()
			for k, v := range simEnv(sim) {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err = cmd.Run()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			code := cmd.ProcessState.ExitCode()

			refused := serverRefusals[e.File]
			want := e.Exit
			if len(refused) > 0 {
				want = exitRows
			}
			if code != want {
				t.Fatalf("%s (%s): exit %d, want %d\nstderr:\n%s", e.File, e.Kind, code, want, tail(stderr.String(), 20))
			}
			st := sim.Stats()
			if e.FileError != nil {
				if st.Requests != 0 {
					t.Errorf("%d requests sent for a file-level error", st.Requests)
				}
				if !strings.Contains(stderr.String(), e.FileError.Contains) {
					t.Errorf("stderr does not say %q:\n%s", e.FileError.Contains, tail(stderr.String(), 10))
				}
				for _, p := range []string{rep, rep + ".meta.json"} {
					if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("%s left behind after a file-level error (%v)", p, err)
					}
				}
				return
			}

			if n := countRecords(t, rep); n != len(e.Rows) {
				t.Errorf("report has %d lines, want one per row (%d)", n, len(e.Rows))
			}
			got := latest(t, rep)
			applied := map[string]map[string]string{} // "customer/mailbox" -> field -> value, in file order
			for _, r := range e.Rows {
				rec := got[r.Row]
				switch {
				case r.Error != nil:
					if rec.Status != "invalid" || rec.Phase != "local" || rec.Key != r.Error.Column {
						t.Errorf("row %d: %s/%s key %q (%s), want invalid/local key %q", r.Row, rec.Status, rec.Phase, rec.Key, rec.Message, r.Error.Column)
					}
				case refused[r.Row] != "":
					if rec.Status != "invalid" || rec.Phase != "validate" || rec.Code != "400" || rec.Key != refused[r.Row] {
						t.Errorf("row %d: %s/%s %s key %q (%s), want the server's 400 on %s", r.Row, rec.Status, rec.Phase, rec.Code, rec.Key, rec.Message, refused[r.Row])
					}
				default:
					if rec.Status != "ok" {
						t.Errorf("row %d: %s %s key %q (%s), want ok", r.Row, rec.Status, rec.Code, rec.Key, rec.Message)
						continue
					}
					cust := "1"
					for _, p := range r.Params {
						if p[0] == "customer" {
							cust = p[1]
						}
					}
					k := cust + "/" + r.Mailbox
					if applied[k] == nil {
						applied[k] = map[string]string{}
					}
					for _, p := range r.Params {
						applied[k][p[0]] = p[1]
					}
				}
			}
			for k, fields := range applied {
				cust, box, _ := strings.Cut(k, "/")
				id, _ := strconv.Atoi(cust)
				m, ok := sim.Mailbox(id, box)
				if !ok {
					t.Errorf("mailbox %s missing", k)
					continue
				}
				for f, v := range fields {
					if m[f] != v {
						t.Errorf("mailbox %s: %s = %q, want %q", k, f, m[f], v)
					}
				}
			}
		})
	}
}
