package resume

import (
	"bufio"
	"fmt"
	"os"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// What a plan keeps is flat in rows: a bit per row for the rows the run
// handles and one for those validated before (the engine asks about each
// row once, in its own first read), row sets that are bits too, and the
// records a retry carries over spooled to a temporary file, not held.

// rowSet is a set of rows added in increasing order, for a message that
// names a few and counts the rest, and for a membership test.
type rowSet struct {
	bits  batch.RowSet
	n     int
	first []int // the first few, for rowList
}

func (s *rowSet) add(row int) {
	s.bits.Set(row)
	s.n++
	if len(s.first) <= rowListShow {
		s.first = append(s.first, row)
	}
}

func (s *rowSet) has(row int) bool { return s.bits.Has(row) }

// String names the rows: see rowList.
func (s *rowSet) String() string { return rowList(s.first, s.n) }

// spool holds the records a plan carries over into the new report until
// the journal is open: they are encoded once, in the report's format, and
// copied into it as they are.
type spool struct {
	f        *os.File
	bw       *bufio.Writer
	enc      *report.Encoder
	n        int
	unlinked bool
}

func newSpool(format report.Format) (*spool, error) {
	if format == "" {
		format = report.CSV
	}
	f, err := os.CreateTemp("", "ensbulk-carried-*")
	if err != nil {
		return nil, fmt.Errorf("temporary file for the records carried over: %w", err)
	}
	// Unlinked at once where the system allows it: nothing is left
	// behind, however the run ends. Elsewhere close removes it.
	s := &spool{f: f, bw: bufio.NewWriterSize(f, 64<<10), unlinked: os.Remove(f.Name()) == nil}
	if s.enc, err = report.NewEncoder(s.bw, format, false); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *spool) write(r report.Record) error {
	s.n++
	if err := s.enc.Encode(r); err != nil {
		return fmt.Errorf("temporary file for the records carried over: %w", err)
	}
	return nil
}

// copyTo appends the spooled records to the journal.
func (s *spool) copyTo(j *report.Journal) error {
	if err := s.enc.Flush(); err != nil {
		return err
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, 0); err != nil {
		return err
	}
	return j.WriteEncoded(s.f)
}

func (s *spool) close() {
	s.f.Close()
	if !s.unlinked {
		os.Remove(s.f.Name())
	}
}
