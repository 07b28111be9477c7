package main

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
// unlinked while open (Windows), remove deletes it on the way out.
//
// The cost is one sequential write of the input's size, in the read that
// hashing already did; an in-memory copy or a per-row digest table would
// grow with the rows.

// errSnapshotPlace is the snapshot's file that cannot be created: a
// problem of the directory it goes in, not of the input.
var errSnapshotPlace = errors.New("cannot hold the run's copy of the input")

// snapshot is a private, read-only copy of the input.
type snapshot struct {
	f      *os.File
	size   int64
	sha256 string
	once   sync.Once
	name   string // "" once unlinked
}

// takeSnapshot copies r into a new private file in dir and hashes it.
func takeSnapshot(dir string, r io.Reader) (*snapshot, error) {
	f, err := os.CreateTemp(dir, ".ensbulk-input-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errSnapshotPlace, err)
	}
	s := &snapshot{f: f, name: f.Name()}
	if os.Remove(f.Name()) == nil {
		s.name = ""
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		s.remove()
		return nil, fmt.Errorf("copy the input: %w", err)
	}
	s.size, s.sha256 = n, hex.EncodeToString(h.Sum(nil))
	return s, nil
}

// reader reads the snapshot from its start; readers do not share an
// offset, so passes may overlap.
func (s *snapshot) reader() io.Reader { return io.NewSectionReader(s.f, 0, s.size) }

// remove closes the snapshot and deletes it if it still has a name. It is
// safe to call more than once and from a signal handler.
func (s *snapshot) remove() {
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

// hashFile is the sha256 of the file at path as it is now.
func hashFile(path string) (string, error) {
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
