package undo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkBuild measures the undo file's build at the end of a run from
// a journal of 200,000 entries (a row's worth each: four fields, one of
// them with a value the server did not show), the work a resume's tail
// does whatever it sent.
func BenchmarkBuild(b *testing.B) {
	const entries = 200_000
	dir := b.TempDir()
	path := filepath.Join(dir, "u"+Ext)
	f, err := os.OpenFile(JournalPath(path), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.Write(headerLine(lab, "r.csv"))
	for i := range entries {
		old := fmt.Sprintf("Sales %d", 100000+i)
		e := entry{Row: i + 1, Mailbox: fmt.Sprint(100000 + i), Customer: fmt.Sprint(1 + i%10), Fields: []field{
			{Name: "description", Old: &old, Set: fmt.Sprintf("Support %d", 100000+i)},
			{Name: "envelope", Old: str("0"), Set: "1"},
			{Name: "notify_email", Old: str("owner"), Set: "owner_wav"},
			{Name: "timezone", Old: str("Europe/London"), Set: "Europe/Paris"},
		}}
		if i%8 != 0 {
			// Most, as on a server that masks PINs (the bench's row 8f).
			e.Lost = []string{"pin"}
		}
		line, _ := json.Marshal(e)
		w.Write(append(line, '\n'))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(JournalPath(path))
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		s, err := Build(path, "r.csv", time.Now())
		if err != nil || s.Rows != entries {
			b.Fatalf("Build: %+v, %v", s, err)
		}
	}
}
