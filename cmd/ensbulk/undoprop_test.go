package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ensbulk/ensbulk/internal/undo"
	"github.com/ensbulk/ensbulk/simulator"
)

// oddValues are values a switch can hold that a hand-written file could
// not carry as they are: empty, null (an empty null column), the CSV
// empty token and "NULL" as text, surrounding spaces, quotes and commas,
// Unicode. (Line breaks and other control characters are refused by the
// simulator's update, an invented rule, so they are held in the undo
// file's own test, internal/undo.)
var oddValues = []string{"", "<empty>", "NULL", "  spaced  ", `say "hi", then`, "Zoë 北京 ☎", "x"}

// The undo's property: random worlds holding odd values, random changes
// (several rows to a mailbox, some changing nothing, PINs shown in
// plain), run, undo: the world is as it was. (A null 0/1 field, which an
// undo cannot restore, cannot be held by the simulator's state: its
// refusal is internal/undo's test.)
func TestUndoPropertyRandomWorlds(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 99))
			gen, err := simulator.New(simulator.Config{Seed: int64(seed) + 20})
			if err != nil {
				t.Fatal(err)
			}
			st := gen.State()
			gen.Close()
			boxes := st.Mailboxes[:24]
			for _, m := range boxes {
				// Free text takes any of them; the pager is an address or
				// empty (null, as a null column).
				m["description"] = oddValues[rng.IntN(len(oddValues))]
				m["callerid"] = oddValues[rng.IntN(len(oddValues))]
				if rng.IntN(2) == 0 {
					m["pager"] = ""
				}
			}
			sim := startSim(t, simulator.Config{State: st, PINDisplay: simulator.PINPlain,
				NullColumns: []string{"dnumber", "notify_dnumber", "pager", "description"}})
			initial := sim.State()

			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			for range 40 {
				m := boxes[rng.IntN(len(boxes))]
				row := map[string]string{"mailbox": m["mailbox"], "customer": m["customer"]}
				for _, f := range []string{"description", "callerid", "pager"} {
					switch rng.IntN(3) {
					case 0:
						row[f] = fmt.Sprintf("new %s %d", f, rng.IntN(5))
					case 1:
						row[f] = m[f] // sets what it holds: no change
					}
				}
				if rng.IntN(3) == 0 {
					row["envelope"] = fmt.Sprint(rng.IntN(2))
				}
				if rng.IntN(4) == 0 {
					row["pin"] = fmt.Sprint(1000 + rng.IntN(9000))
				}
				if strings.TrimSpace(row["callerid"]) != row["callerid"] || strings.TrimSpace(row["pager"]) != row["pager"] {
					delete(row, "callerid") // the reader refuses spaces around them: keep
					delete(row, "pager")
				}
				if strings.TrimSpace(row["description"]) != row["description"] {
					delete(row, "description")
				}
				if err := enc.Encode(row); err != nil {
					t.Fatal(err)
				}
			}
			in := writeFile(t, "world.jsonl", b.String())
			if res := tb(t, sim, "run", in); res.code != exitOK && res.code != exitRows {
				t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
			}
			u := undo.PathFor(in + ".report.csv") // a JSONL input's report keeps its extension
			h, err := undo.ReadHeader(u)
			if err != nil {
				t.Fatalf("undo file: %v", err)
			}
			if h.Rows == 0 || h.Nulls != 0 || h.LostPINs != 0 {
				t.Fatalf("undo header %+v: want rows, every value restorable", h)
			}
			if res := tb(t, sim, "run", u); res.code != exitOK {
				t.Fatalf("undo: exit %d\n%s", res.code, res.stderr)
			}
			sameWorld(t, sim, initial, nil)
		})
	}
}
