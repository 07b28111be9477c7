package simulator_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/ensbulk/ensbulk/simulator"
)

// TestSchemaFields proves that the simulator takes its field facts from
// the schema and adds none: for every field of the schema, a mailbox a
// state file leaves it out of gets the field's Default, the generator
// makes values of it that the server accepts in an update (validation=1,
// default policy), and the versions the schema names are ones the
// simulator plays. A column added to the schema alone passes this.
func TestSchemaFields(t *testing.T) {
	st := simulator.Generate(0, 1)
	st.Mailboxes = append(st.Mailboxes, simulator.Mailbox{"mailbox": "7001", "customer": strconv.Itoa(simulator.CustomerDental)})
	sparse, err := simulator.New(simulator.Config{State: st})
	if err != nil {
		t.Fatalf("a mailbox with only its keys: %v", err)
	}
	defaults, ok := sparse.Mailbox(simulator.CustomerDental, "7001")
	if !ok {
		t.Fatal("mailbox 7001 missing")
	}

	// Every seed's world is checked whole: a hint that draws a value the
	// server refuses would show in one of them. Seeds share mailbox
	// numbers; each seed's are moved to their own range to serve them all.
	var generated []simulator.Mailbox
	for seed := range 5 {
		for i, m := range simulator.Generate(60, int64(seed)).Mailboxes {
			m["mailbox"] = strconv.Itoa((seed+1)*10000 + i)
			generated = append(generated, m)
		}
	}
	_, ts := start(t, simulator.Config{State: &simulator.State{
		Customers: st.Customers, Users: st.Users, Mailboxes: generated}})
	c := newClient(t, ts.URL, "admin", demoPasswords["admin"], 0)

	for _, f := range schema.Fields() {
		t.Run(f.Name, func(t *testing.T) {
			if f.Gen.Kind != schema.GenKey {
				if got := defaults[f.Name]; got != f.Default {
					t.Errorf("left out of a state file: got %q, want the schema's default %q", got, f.Default)
				}
			}
			distinct := map[string]bool{}
			for _, m := range generated {
				v, ok := m[f.Name]
				if !ok {
					t.Fatalf("mailbox %s: generator left %s out", m["mailbox"], f.Name)
				}
				distinct[v] = true
				if f.Secret && v != "" && !schema.Plain(f.Name, v) {
					t.Errorf("mailbox %s: generated secret %s is not in its plain form, so no read would trust it", m["mailbox"], f.Name)
				}
			}
			if k := f.Gen.Kind; k != schema.GenDefault && k != schema.GenTemplate && len(distinct) < 2 {
				t.Errorf("generator made only %v over %d mailboxes, want its hint's variety", distinct, len(generated))
			}
			if f.Since == "" {
				t.Error("Since is empty: say the oldest version known to have the field")
			}
			if len(f.NewerValues) > 0 && f.NewerSince == "" {
				t.Errorf("NewerValues %v without NewerSince", f.NewerValues)
			}
			for _, v := range []string{f.Since, f.NewerSince} {
				if v == "" {
					continue
				}
				if _, err := simulator.New(simulator.Config{VersionCompat: v, State: simulator.Generate(0, 1)}); err != nil {
					t.Errorf("version %q is not one the simulator plays: %v", v, err)
				}
			}
		})
	}

	// Each generated mailbox, sent whole as an update with validation=1,
	// is valid: every value the generator makes is one the server takes
	// (the legacy customer's rate plan refuses every update: left out).
	ctx := context.Background()
	for _, m := range generated {
		if m["customer"] == strconv.Itoa(simulator.CustomerLegacy) {
			continue
		}
		var params []batch.Param
		for _, f := range schema.Fields() {
			params = append(params, batch.Param{Name: f.Name, Value: m[f.Name]})
		}
		resp, err := c.Update(ctx, params, true)
		if err != nil || resp.Code != "201" {
			t.Errorf("mailbox %s as generated: update validation=1 = %+v, %v; want 201", m["mailbox"], resp, err)
		}
	}
}

// TestDefaultNullColumns: the simulator's default NULL columns are the
// schema's nullable fields, and a secret field is never one (its display
// is the PIN display setting's).
func TestDefaultNullColumns(t *testing.T) {
	if got, want := simulator.DefaultNullColumns(), schema.Nullables(); !slices.Equal(got, want) {
		t.Errorf("DefaultNullColumns() = %v, want the schema's nullable fields %v", got, want)
	}
	for _, name := range schema.Secrets() {
		_, err := simulator.New(simulator.Config{NullColumns: []string{name}, State: simulator.Generate(0, 1)})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("secret %s as a NULL column: err = %v, want a refusal naming it", name, err)
		}
	}
}
