package console

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// StampLayout is the time at the start of every line of a Stamper: RFC
// 3339 with milliseconds and the local offset, as journald, cron mail and
// log shippers read it.
const StampLayout = "2006-01-02T15:04:05.000Z07:00"

// Stamper is stderr off a terminal: every line but a blank one written through it starts
// with the time it was begun (StampLayout) and a tab, whoever writes it
// (the logger, a warning, the rotation notice, the summary, the error
// line). A log read after the night is then one format of lines, each
// with its time; the logger leaves its own time out (Style.Stamped).
// Writes may come from several goroutines (a signal's notice, the
// engine's writer); a line written in pieces is stamped once.
type Stamper struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
	mid bool // the last write ended inside a line
}

// NewStamper stamps the lines written to w with now's time.
func NewStamper(w io.Writer, now func() time.Time) *Stamper {
	return &Stamper{w: w, now: now}
}

// Write writes p with a stamp before each line begun in it.
func (s *Stamper) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	var buf []byte
	var stamp []byte
	rest := p
	for len(rest) > 0 {
		if !s.mid && rest[0] != '\n' { // a blank line stays blank
			if stamp == nil {
				stamp = append(s.now().AppendFormat(nil, StampLayout), '\t')
			}
			buf = append(buf, stamp...)
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			buf = append(buf, rest...)
			s.mid = true
			break
		}
		buf = append(buf, rest[:i+1]...)
		rest = rest[i+1:]
		s.mid = false
	}
	if _, err := s.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
