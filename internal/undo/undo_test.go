package undo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
)

var lab = Identity{Switch: "https://lab.example.com", User: "admin", Customer: "1"}

func str(s string) *string { return &s }

// record writes one entry for row num of mailbox mb.
func record(t *testing.T, j *Journal, num int, mb, cust string, fields ...batch.FieldUndo) {
	t.Helper()
	if err := j.Record(batch.UndoEntry{Row: &batch.Row{Num: num}, Mailbox: mb, Customer: cust, Fields: fields}); err != nil {
		t.Fatal(err)
	}
}

// rows reads an undo file back through its Source.
func rows(t *testing.T, path string) (Header, []batch.Row) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := NewSource(f, path)
	if err != nil {
		t.Fatal(err)
	}
	var out []batch.Row
	for {
		r, err := src.Next()
		if errors.Is(err, io.EOF) {
			return src.Header(), out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

func TestBuildReversesAndKeepsValuesExactly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.report"+Ext)
	j, err := Create(path, lab, "c.report.csv")
	if err != nil {
		t.Fatal(err)
	}
	odd := []string{"", " spaced ", "two\nlines", "<empty>", "NULL", "Zoë 北京 \t tab", `"quoted", comma`}
	for i, v := range odd {
		record(t, j, i+1, "100", "7", batch.FieldUndo{Name: "description", Old: batch.Value{Text: v}, Set: "new"})
	}
	record(t, j, 20, "200", "7",
		batch.FieldUndo{Name: "envelope", Old: batch.Value{Null: true}, Set: "1"},
		batch.FieldUndo{Name: "pager", Old: batch.Value{Null: true}, Set: "p@example.com"})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := Build(path, "c.report.csv", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != len(odd)+1 || st.Nulls != 1 {
		t.Errorf("stats %+v, want %d rows and 1 null that cannot be restored (envelope; pager takes \"\")", st, len(odd)+1)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("undo file: %v, mode %v, want 0600", err, info.Mode().Perm())
	}
	h, got := rows(t, path)
	if !h.Identity.Same(lab) || h.Rows != st.Rows {
		t.Errorf("header %+v, want %v and %d rows", h, lab, st.Rows)
	}
	// Last first: the null row, then the odd values backwards.
	if got[0].Mailbox != "200" {
		t.Fatalf("first row is mailbox %s, want 200 (the last entry)", got[0].Mailbox)
	}
	wantNull := []batch.Param{{Name: "mailbox", Value: "200"}, {Name: "customer", Value: "7"}, {Name: "pager", Value: ""}}
	if !reflect.DeepEqual(got[0].Params, wantNull) {
		t.Errorf("null row params %v, want %v (pager restored as empty, envelope not at all)", got[0].Params, wantNull)
	}
	if !strings.Contains(got[0].Note, "envelope null before the run, and an update cannot write null") {
		t.Errorf("null row note %q does not name envelope", got[0].Note)
	}
	for i, r := range got[1:] {
		want := odd[len(odd)-1-i]
		if len(r.Params) != 3 || r.Params[2] != (batch.Param{Name: "description", Value: want}) {
			t.Errorf("row %d params %q, want description %q", r.Num, r.Params, want)
		}
		if !reflect.DeepEqual(r.Expect, []batch.Param{{Name: "description", Value: "new"}}) {
			t.Errorf("row %d expects %v, want description \"new\"", r.Num, r.Expect)
		}
		if r.Num != i+3 {
			t.Errorf("row number %d, want line %d", r.Num, i+3)
		}
	}
}

func TestWithdrawnEntriesDoNotCount(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "u"+Ext)
	j, err := Create(path, lab, "")
	if err != nil {
		t.Fatal(err)
	}
	row := &batch.Row{Num: 3}
	record(t, j, 3, "100", "", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "stale"}, Set: "x"})
	if err := j.Withdraw(row); err != nil {
		t.Fatal(err)
	}
	record(t, j, 4, "101", "", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "kept"}, Set: "y"})
	j.Close()
	// A resume reads row 3 again (another admin changed it meanwhile)
	// and records what it found then.
	j, err = Continue(path, lab)
	if err != nil {
		t.Fatal(err)
	}
	record(t, j, 3, "100", "", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "fresh"}, Set: "x"})
	j.Close()
	if _, err := Build(path, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, got := rows(t, path)
	var restores []string
	for _, r := range got {
		restores = append(restores, r.Params[1].Value)
	}
	if want := []string{"fresh", "kept"}; !reflect.DeepEqual(restores, want) {
		t.Errorf("undo restores %q, want %q (the withdrawn stale entry left out)", restores, want)
	}
}

func TestRefusals(t *testing.T) {
	t.Run("existing undo file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "u"+Ext)
		os.WriteFile(path, []byte("x\n"), 0o600)
		var ee *ExistsError
		if _, err := Create(path, lab, ""); !errors.As(err, &ee) {
			t.Errorf("Create over an existing file: %v, want ExistsError", err)
		}
	})
	t.Run("another switch", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "u"+Ext)
		j, err := Create(path, lab, "")
		if err != nil {
			t.Fatal(err)
		}
		j.Close()
		prod := Identity{Switch: "https://prod.example.com", User: "admin"}
		var ie *IdentityError
		if _, err := Continue(path, prod); !errors.As(err, &ie) || ie.Recorded.Switch != lab.Switch || ie.Current.Switch != prod.Switch {
			t.Errorf("Continue against another switch: %v, want an IdentityError naming both", err)
		}
	})
	t.Run("missing journal", func(t *testing.T) {
		var me *MissingJournalError
		if _, err := Continue(filepath.Join(t.TempDir(), "u"+Ext), lab); !errors.As(err, &me) {
			t.Errorf("Continue without a journal: %v, want MissingJournalError", err)
		}
	})
	t.Run("planted link at the journal", func(t *testing.T) {
		dir := t.TempDir()
		victim := filepath.Join(dir, "victim.txt")
		os.WriteFile(victim, []byte("precious\n"), 0o644)
		path := filepath.Join(dir, "u"+Ext)
		if err := os.Symlink(victim, JournalPath(path)); err != nil {
			t.Skip("no symlinks here:", err)
		}
		if _, err := Create(path, lab, ""); err == nil {
			t.Error("Create wrote through a planted link")
		}
		if _, err := Continue(path, lab); err == nil {
			t.Error("Continue opened a planted link")
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
			t.Errorf("the link's target changed: %q", b)
		}
	})
	t.Run("undo path holds another file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "u"+Ext)
		j, err := Create(path, lab, "")
		if err != nil {
			t.Fatal(err)
		}
		record(t, j, 1, "100", "", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "a"}, Set: "b"})
		j.Close()
		os.WriteFile(path, []byte("mailbox,description\n100,mine\n"), 0o644)
		if _, err := Build(path, "", time.Now()); !errors.Is(err, ErrNotOurs) {
			t.Errorf("Build over a file that is not an undo file: %v, want ErrNotOurs", err)
		}
		if b, _ := os.ReadFile(path); !strings.Contains(string(b), "mine") {
			t.Error("the file that is not ours was replaced")
		}
	})
}

func TestTornJournalLineIsCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u"+Ext)
	j, err := Create(path, lab, "")
	if err != nil {
		t.Fatal(err)
	}
	record(t, j, 1, "100", "", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "a"}, Set: "b"})
	j.Close()
	f, _ := os.OpenFile(JournalPath(path), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"row":2,"mailbox":"1`)
	f.Close()
	j, err = Continue(path, lab)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	st, err := Build(path, "", time.Now())
	if err != nil || st.Rows != 1 {
		t.Errorf("after a torn line: %+v, %v; want 1 row", st, err)
	}
}

// A run killed while creating its journal must leave nothing its
// --resume refuses: either no journal (the temporary file of placeNew,
// removed by the next Create) or, from an older build, an empty one.
func TestJournalKilledAtCreationIsContinued(t *testing.T) {
	t.Run("killed before the link", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "u"+Ext)
		stale := filepath.Join(dir, "."+filepath.Base(JournalPath(path))+".tmp123")
		if err := os.WriteFile(stale, []byte(`{"format":1,"ident`), 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Create(path, lab, "")
		if err != nil {
			t.Fatal(err)
		}
		record(t, j, 1, "100", "", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "a"}, Set: "b"})
		j.Close()
		if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale temporary file left: %v", err)
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
		if len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
		if st, err := Build(path, "", time.Now()); err != nil || st.Rows != 1 {
			t.Errorf("Build: %+v, %v; want 1 row", st, err)
		}
	})
	t.Run("empty journal", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "u"+Ext)
		if err := os.WriteFile(JournalPath(path), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		j, err := Continue(path, lab)
		if err != nil {
			t.Fatalf("Continue of an empty journal: %v", err)
		}
		record(t, j, 1, "100", "", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "a"}, Set: "b"})
		j.Close()
		if st, err := os.Stat(JournalPath(path)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("journal mode: %v, %v; want 0600", st.Mode(), err)
		}
		if _, err := Continue(path, Identity{Switch: "https://other.example.com", User: "admin"}); err == nil {
			t.Error("the journal, now headed, was continued by another switch")
		}
		if st, err := Build(path, "", time.Now()); err != nil || st.Rows != 1 {
			t.Errorf("Build: %+v, %v; want 1 row", st, err)
		}
	})
	t.Run("journal already there", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "u"+Ext)
		j, err := Create(path, lab, "")
		if err != nil {
			t.Fatal(err)
		}
		j.Close()
		var ex *ExistsError
		if _, err := Create(path, lab, ""); !errors.As(err, &ex) {
			t.Errorf("second Create: %v, want ExistsError", err)
		}
	})
}

// Build copies the journal's entries as they are, so a line that is not
// an entry must stop it (naming the line), not reach the undo file.
func TestBuildRefusesALineThatIsNotAnEntry(t *testing.T) {
	for _, bad := range []string{`not json at all`, `{"row":3,"mailbox":"1`, `{"mailbox":"100"}x`} {
		path := filepath.Join(t.TempDir(), "u"+Ext)
		j, err := Create(path, lab, "")
		if err != nil {
			t.Fatal(err)
		}
		record(t, j, 1, "100", "", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "a"}, Set: "b"})
		j.Close()
		f, _ := os.OpenFile(JournalPath(path), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(bad + "\n")
		f.Close()
		_, err = Build(path, "", time.Now())
		if err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("journal line %q: Build gave %v, want an error naming line 3", bad, err)
		}
		if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("journal line %q: an undo file was written", bad)
		}
	}
}

// Build counts without decoding most lines (count, lostOnly): its figures
// must be those of decoding every entry.
func TestBuildCountsAsDecodingEveryEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u"+Ext)
	j, err := Create(path, lab, "")
	if err != nil {
		t.Fatal(err)
	}
	lost := [][]string{nil, {"pin"}, {"pin", "description"}, {"description"}, {"pager", "timezone"}, {"pin", "pin"}}
	var want Stats
	for i := range 60 {
		fields := []batch.FieldUndo{{Name: "description", Old: batch.Value{Text: fmt.Sprintf("d%d", i)}, Set: "x"}}
		switch i % 4 {
		case 1:
			fields = append(fields, batch.FieldUndo{Name: "pager", Old: batch.Value{Null: true}, Set: "p"}) // takes ""
		case 2:
			fields = append(fields, batch.FieldUndo{Name: "envelope", Old: batch.Value{Null: true}, Set: "1"}) // cannot be restored
		}
		e := batch.UndoEntry{Row: &batch.Row{Num: i + 1}, Mailbox: fmt.Sprint(1000 + i), Fields: fields, Lost: lost[i%len(lost)]}
		if err := j.Record(e); err != nil {
			t.Fatal(err)
		}
		want.add(entryOf(e))
	}
	j.Close()
	got, err := Build(path, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Build counted %+v, decoding every entry counts %+v", got, want)
	}
	if want.LostPINs == 0 || want.LostOther == 0 || want.Nulls == 0 {
		t.Fatalf("the journal does not exercise every figure: %+v", want)
	}
}

// entryOf is e as the journal records it.
func entryOf(e batch.UndoEntry) entry {
	ent := entry{Row: e.Row.Num, Mailbox: e.Mailbox, Customer: e.Customer, Lost: e.Lost}
	for _, f := range e.Fields {
		fd := field{Name: f.Name, Set: f.Set}
		if !f.Old.Null {
			old := f.Old.Text
			fd.Old = &old
		}
		ent.Fields = append(ent.Fields, fd)
	}
	return ent
}

// The usual entry of a run on a server that masks PINs (fields, then
// lost) is counted without decoding: at a million entries, decoding each
// was most of a resume's tail (issue 22, row 8f).
func TestBuildCountsLostEntriesWithoutDecoding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u"+Ext)
	j, err := Create(path, lab, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, lost := range [][]string{{"pin"}, {"pin", "pager"}, {"pager"}} {
		e := batch.UndoEntry{Row: &batch.Row{Num: i + 1}, Mailbox: "1000", Customer: "8", Lost: lost,
			Fields: []batch.FieldUndo{{Name: "description", Old: batch.Value{Text: `a "quoted" ] value`}, Set: "x"}}}
		if err := j.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	b, err := os.ReadFile(JournalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
	want := [][2]bool{{true, false}, {true, true}, {false, true}}
	for i, line := range lines {
		pin, other, ok := lostOnly([]byte(line))
		if !ok || [2]bool{pin, other} != want[i] {
			t.Errorf("lostOnly(%s) = %v, %v, %v; want %v, %v, true", line, pin, other, ok, want[i][0], want[i][1])
		}
		if cut := line[:len(line)-1]; func() bool { _, _, ok := lostOnly([]byte(cut)); return ok }() {
			t.Errorf("lostOnly took a line cut short: %s", cut)
		}
	}
}

// A build after a resume reads only the entries recorded since the last
// (extend): the file it writes must be the one a build of the whole
// journal writes, and where it cannot be (an earlier entry withdrawn
// since, a journal that is not the one the file was built from), the
// whole journal is read.
func TestExtendedBuildIsTheWholeBuild(t *testing.T) {
	at := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	desc := func(i int) []batch.FieldUndo {
		return []batch.FieldUndo{{Name: "description", Old: batch.Value{Text: fmt.Sprintf("d%d", i)}, Set: "x"},
			{Name: "envelope", Old: batch.Value{Null: true}, Set: "1"}}
	}
	for _, tc := range []struct {
		name     string
		second   func(t *testing.T, j *Journal, path string) // what the resume records
		extended bool                                        // built from the earlier file
	}{
		{"entries and their own withdrawal", func(t *testing.T, j *Journal, _ string) {
			for i := 11; i <= 20; i++ {
				record(t, j, i, fmt.Sprint(1000+i), "2", desc(i)...)
			}
			if err := j.Withdraw(&batch.Row{Num: 15}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"nothing", func(t *testing.T, j *Journal, _ string) {}, true},
		{"a journal that is not the one the file was built from", func(t *testing.T, j *Journal, path string) {
			record(t, j, 11, "1011", "2", desc(11)...)
			j.Close()
			b, _ := os.ReadFile(JournalPath(path))
			other := strings.Replace(string(b), `"restore":"d10"`, `"restore":"e10"`, 1)
			if other == string(b) {
				t.Fatalf("no entry of row 10 in %s", b)
			}
			if err := os.WriteFile(JournalPath(path), []byte(other), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"an undo file an entry was taken out of", func(t *testing.T, j *Journal, path string) {
			record(t, j, 11, "1011", "2", desc(11)...)
			b, _ := os.ReadFile(path)
			lines := strings.SplitAfter(string(b), "\n")
			if err := os.WriteFile(path, []byte(lines[0]+strings.Join(lines[2:], "")), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a withdrawal of an entry of the first invocation", func(t *testing.T, j *Journal, _ string) {
			record(t, j, 12, "1012", "2", desc(12)...)
			if err := j.Withdraw(&batch.Row{Num: 3}); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.report"+Ext)
			j, err := Create(path, lab, "c.report.csv")
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 10; i++ {
				record(t, j, i, fmt.Sprint(1000+i), "2", desc(i)...)
			}
			j.Close()
			if _, err := Build(path, "c.report.csv", at); err != nil {
				t.Fatal(err)
			}
			// A mark in the earlier file's body, which only a build
			// that extends it carries over.
			first, _ := os.ReadFile(path)
			marked := strings.Replace(string(first), `"restore":"d1"`, `"restore":"D1"`, 1)
			if marked == string(first) {
				t.Fatalf("no entry of row 1 in %s", first)
			}
			if err := os.WriteFile(path, []byte(marked), 0o600); err != nil {
				t.Fatal(err)
			}
			if j, err = Continue(path, lab); err != nil {
				t.Fatal(err)
			}
			tc.second(t, j, path)
			j.Close()
			got, err := Build(path, "c.report.csv", at)
			if err != nil {
				t.Fatal(err)
			}
			gotFile, _ := os.ReadFile(path)
			if ext := strings.Contains(string(gotFile), `"D1"`); ext != tc.extended {
				t.Errorf("built from the earlier file: %v, want %v", ext, tc.extended)
			}
			gotFile = []byte(strings.Replace(string(gotFile), `"D1"`, `"d1"`, 1))
			os.Remove(path)
			want, err := Build(path, "c.report.csv", at)
			if err != nil {
				t.Fatal(err)
			}
			wantFile, _ := os.ReadFile(path)
			if got != want || string(gotFile) != string(wantFile) {
				t.Errorf("extended build: %+v\n%s\nwhole build: %+v\n%s", got, gotFile, want, wantFile)
			}
		})
	}
}

// Where hard links are not to be had, the journal is made in place: a
// new file, 0600, never over an existing file or through a link.
func TestCreateNewInPlace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "j")
	if err := createNew(p, []byte("header\n")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("created %v, %v; want a file of mode 0600", st, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "header\n" {
		t.Errorf("content %q", b)
	}
	var ee *ExistsError
	if err := createNew(p, []byte("again\n")); !errors.As(err, &ee) {
		t.Errorf("over an existing file: %v, want an ExistsError", err)
	}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if err := createNew(link, []byte("x\n")); err == nil {
		t.Error("written through a link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the link's target was written: %q", b)
	}
}

// An empty line in a journal is a line: the entries before it keep their
// numbers, so a withdrawal after it cancels its own row's entry, not the
// one before (backwardLines counts as scanCount counts).
func TestEmptyJournalLineKeepsEntriesInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u"+Ext)
	j, err := Create(path, lab, "")
	if err != nil {
		t.Fatal(err)
	}
	record(t, j, 1, "1001", "2", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "one"}, Set: "x"})
	record(t, j, 2, "1002", "2", batch.FieldUndo{Name: "description", Old: batch.Value{Text: "two"}, Set: "x"})
	j.Close()
	f, err := os.OpenFile(JournalPath(path), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n")
	f.Close()
	if j, err = Continue(path, lab); err != nil {
		t.Fatal(err)
	}
	if err := j.Withdraw(&batch.Row{Num: 2}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if _, err := Build(path, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, got := rows(t, path)
	if len(got) != 1 || got[0].Mailbox != "1001" {
		t.Errorf("undo rows %+v, want row 1's entry alone (row 2's was withdrawn)", got)
	}
}

// The same with the empty line where backwardLines' chunks meet: the
// chunk read first starts with the empty line's newline, and the one
// before it ends with the newline of the line before.
func TestEmptyJournalLineAtAChunkBoundary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u"+Ext)
	line := func(e entry) string {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	field := func(old string) []field { return []field{{Name: "description", Old: &old, Set: "x"}} }
	head := string(headerLine(lab, "")) + line(entry{Row: 1, Mailbox: "1001", Fields: field("one")}) +
		line(entry{Row: 2, Mailbox: "1002", Fields: field("two")}) + "\n"
	w := line(entry{Row: 2, Withdrawn: true})
	c := line(entry{Row: 3, Mailbox: "1003", Fields: field("")})
	const chunk = 64 << 10
	// The bytes after the empty line's newline: chunk-1, so that the
	// chunk read first starts at that newline.
	pad := chunk - 1 - len(w) - len(c)
	c = line(entry{Row: 3, Mailbox: "1003", Fields: field(strings.Repeat("p", pad))})
	if err := os.WriteFile(JournalPath(path), []byte(head+c+w), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := len(c) + len(w); got != chunk-1 {
		t.Fatalf("%d bytes after the empty line, want %d", got, chunk-1)
	}
	if _, err := Build(path, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, got := rows(t, path)
	if len(got) != 2 || got[0].Mailbox != "1003" || got[1].Mailbox != "1001" {
		t.Errorf("undo rows %+v, want rows 3 and 1 (row 2's entry was withdrawn)", got)
	}
}
