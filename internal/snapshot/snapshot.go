// Package snapshot is a private, read-only copy of a run's input, taken
// once and read by every pass.
package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// A run reads its input several times: a local check of every row, the
// validation pass, the apply pass. Each pass must see the bytes the
// earlier ones saw, or a row edited between validation and apply would be
// sent unvalidated. So the input (a file or standard input alike) is
// copied once, while it is hashed, into a private snapshot, and every pass
// reads the snapshot.
//
// The snapshot lives beside the report, not in TMPDIR: the report's
// directory must be writable anyway, and a TMPDIR on tmpfs would hold the
// whole input in memory. It is created 0600 with O_EXCL (never through a
// link planted at its name) and, where the system allows (unix), unlinked
// at once: the open descriptor keeps the bytes, and no exit (a second
// signal, kill -9, a crash) can leave it behind. Where a file cannot be
// unlinked while open (Windows), Remove deletes it on the way out.
//
// The cost is one sequential write of the input's size, in the read that
// hashing already did; an in-memory copy or a per-row digest table would
// grow with the rows.

// ErrPlace is the snapshot's file that cannot be created: a problem of the
// directory it goes in, not of the input.
var ErrPlace = errors.New("cannot hold the run's copy of the input")

// Snapshot is a private, read-only copy of the input.
type Snapshot struct {
	f      *os.File
	size   int64
	sha256 string
	once   sync.Once
	name   string // "" once unlinked
}

// Take copies r into a new private file in dir and hashes it. A file that
// cannot be created in dir is ErrPlace; an error reading r is returned
// as it is, wrapped.
func Take(dir string, r io.Reader) (*Snapshot, error) {
	f, err := os.CreateTemp(dir, ".ensbulk-input-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPlace, err)
	}
	s := &Snapshot{f: f, name: f.Name()}
	if os.Remove(f.Name()) == nil {
		s.name = ""
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		s.Remove()
		return nil, fmt.Errorf("copy the input: %w", err)
	}
	s.size, s.sha256 = n, hex.EncodeToString(h.Sum(nil))
	return s, nil
}

// Reader reads the snapshot from its start; readers do not share an
// offset, so passes may overlap.
func (s *Snapshot) Reader() io.Reader { return io.NewSectionReader(s.f, 0, s.size) }

// SHA256 is the hex sha256 of the snapshot's bytes: the content the run
// works from.
func (s *Snapshot) SHA256() string { return s.sha256 }

// Remove closes the snapshot and deletes it if it still has a name. It is
// safe to call more than once, on nil, and from a signal handler.
func (s *Snapshot) Remove() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		s.f.Close()
		if s.name != "" {
			os.Remove(s.name)
		}
	})
}

// HashFile is the hex sha256 of the file at path as it is now, to hold
// against SHA256.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
