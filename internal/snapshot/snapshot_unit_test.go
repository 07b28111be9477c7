package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The snapshot holds the bytes as they were taken: editing the file
// afterwards changes neither what the passes read nor the hash, while
// HashFile sees the edit.
func TestSnapshotKeepsTheBytesTaken(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "changes.csv")
	const original = "mailbox,pin\n1001,1234\n"
	if err := os.WriteFile(in, []byte(original), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Take(dir, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	sum := sha256.Sum256([]byte(original))
	if got, want := s.SHA256(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("SHA256 = %s, want %s", got, want)
	}
	if h, err := HashFile(in); err != nil || h != s.SHA256() {
		t.Errorf("HashFile before the edit = %s, %v; want %s", h, err, s.SHA256())
	}
	if err := os.WriteFile(in, []byte("mailbox,pin\n1001,9999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if h, _ := HashFile(in); h == s.SHA256() {
		t.Error("HashFile after the edit still matches the snapshot")
	}
	// Two passes at once: readers do not share an offset.
	r1, r2 := s.Reader(), s.Reader()
	head := make([]byte, 8)
	if _, err := io.ReadFull(r1, head); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{"second pass": r2, "rest of first pass": r1} {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		want := original
		if name == "rest of first pass" {
			want = original[8:]
		}
		if string(b) != want {
			t.Errorf("%s read %q, want %q", name, b, want)
		}
	}
}

// No file of the snapshot's is left in the directory once removed, and a
// second Remove (the signal handler's, after the job's) is harmless.
func TestRemoveLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Take(dir, strings.NewReader("mailbox\n1001\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.Remove()
	s.Remove()
	var nilSnap *Snapshot
	nilSnap.Remove()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestTakeErrors(t *testing.T) {
	t.Run("no directory is ErrPlace", func(t *testing.T) {
		_, err := Take(filepath.Join(t.TempDir(), "missing"), strings.NewReader("x"))
		if !errors.Is(err, ErrPlace) {
			t.Errorf("err = %v, want ErrPlace", err)
		}
	})
	t.Run("a failing input is not ErrPlace and leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		boom := errors.New("device gone")
		_, err := Take(dir, io.MultiReader(strings.NewReader("mailbox\n"), errReader{boom}))
		if !errors.Is(err, boom) || errors.Is(err, ErrPlace) {
			t.Errorf("err = %v, want the read error and not ErrPlace", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left behind: %v", entries)
		}
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
