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
	first []int // the first few, for Rows
}

func (s *rowSet) add(row int) {
	s.bits.Set(row)
	s.n++
	if len(s.first) <= RowsShown {
		s.first = append(s.first, row)
	}
}

func (s *rowSet) has(row int) bool { return s.bits.Has(row) }

// rows are the rows for a message.
func (s *rowSet) rows() Rows { return Rows{First: s.first, Total: s.n} }

// spool holds the records a plan carries over into the new report until
// the journal is open: they are encoded once, in the report's format, and
// copied into it as they are. The encoding runs on a goroutine of its own,
// a few batches behind write: the plan of a retry of a million-row report
// reads the input, decodes the report (ahead) and encodes the records it
// carries over at once, and encoding them in line with the reading made
// its first request wait 2.1 s.
type spool struct {
	f        *os.File
	bw       *bufio.Writer
	enc      *report.Encoder
	n        int
	unlinked bool

	batch []report.Record      // being filled by write
	full  chan []report.Record // to the encoder
	free  chan []report.Record // back from it
	done  chan struct{}        // closed when the encoder has stopped
	err   error                // the encoder's first error; read after done
	ended bool                 // full is closed
}

const spoolBatch = 512

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
		s.ended = true
		s.close()
		return nil, err
	}
	s.full, s.free, s.done = make(chan []report.Record, 4), make(chan []report.Record, 5), make(chan struct{})
	for range 5 {
		s.free <- make([]report.Record, 0, spoolBatch)
	}
	s.batch = <-s.free
	go s.encode()
	return s, nil
}

// encode is the spool's one writer.
func (s *spool) encode() {
	defer close(s.done)
	for b := range s.full {
		for _, r := range b {
			if s.err == nil {
				s.err = s.enc.Encode(r)
			}
		}
		s.free <- b[:0]
	}
	if s.err == nil {
		s.err = s.enc.Flush()
	}
	if s.err == nil {
		s.err = s.bw.Flush()
	}
}

func (s *spool) write(r report.Record) error {
	s.n++
	s.batch = append(s.batch, r)
	if len(s.batch) == cap(s.batch) {
		s.full <- s.batch
		s.batch = <-s.free
	}
	return nil
}

// end hands the last batch to the encoder and waits for it: its error,
// if any, is the spool's.
func (s *spool) end() error {
	if !s.ended {
		s.ended = true
		if len(s.batch) > 0 {
			s.full <- s.batch
		}
		close(s.full)
		<-s.done
	}
	if s.err != nil {
		return fmt.Errorf("temporary file for the records carried over: %w", s.err)
	}
	return nil
}

// copyTo appends the spooled records to the journal.
func (s *spool) copyTo(j *report.Journal) error {
	if err := s.end(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, 0); err != nil {
		return err
	}
	return j.WriteEncoded(s.f)
}

func (s *spool) close() {
	_ = s.end() // the encoder must stop before the file closes
	s.f.Close()
	if !s.unlinked {
		os.Remove(s.f.Name())
	}
}
