package undo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/batch/schema"
)

// Is reports whether the bytes that start a file are an undo file's
// header, so that `ensbulk run FILE` applies it as an undo.
func Is(start []byte) bool {
	line, _, _ := bytes.Cut(start, []byte{'\n'})
	var h Header
	return json.Unmarshal(line, &h) == nil && h.Format > 0
}

// ReadHeader reads the header of the undo file at path.
func ReadHeader(path string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	return readHeader(bufio.NewReader(f))
}

func readHeader(br *bufio.Reader) (Header, error) {
	var h Header
	line, err := br.ReadBytes('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return h, ErrNotOurs
	}
	if json.Unmarshal(line, &h) != nil || h.Format == 0 {
		return h, ErrNotOurs
	}
	if h.Format > formatVersion {
		return h, fmt.Errorf("written by a newer ensbulk (format %d)", h.Format)
	}
	return h, nil
}

// Source reads an undo file as rows for the engine (batch.Source): each
// entry is a conditional row that restores its fields where the switch
// holds what the run set (Row.Expect). Row numbers are line numbers, as
// in any JSON lines input (the header is line 1).
type Source struct {
	name   string
	br     *bufio.Reader
	header Header
	line   int
}

// NewSource reads the header of an undo file from r.
func NewSource(r io.Reader, name string) (*Source, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	h, err := readHeader(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Source{name: name, br: br, header: h, line: 1}, nil
}

// Header is the undo file's header.
func (s *Source) Header() Header { return s.header }

// Next implements batch.Source. A line that is not an entry is a
// file-level error: an undo file is written by ensbulk, so a damaged one
// is not applied in part.
func (s *Source) Next() (batch.Row, error) {
	for {
		line, err := s.br.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return batch.Row{}, io.EOF
			}
			return batch.Row{}, err
		}
		s.line++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil || e.Mailbox == "" {
			return batch.Row{}, &batch.RowError{File: s.name, Row: s.line, Line: s.line, Message: "not an undo entry: the undo file is damaged; nothing was sent"}
		}
		return s.row(e), nil
	}
}

// row makes an entry a conditional row.
func (s *Source) row(e entry) batch.Row {
	r := batch.Row{Num: s.line, Line: s.line, Mailbox: e.Mailbox, Customer: e.Customer}
	r.Params = append(r.Params, batch.Param{Name: "mailbox", Value: e.Mailbox})
	if e.Customer != "" {
		r.Params = append(r.Params, batch.Param{Name: "customer", Value: e.Customer})
	}
	fields := slices.Clone(e.Fields)
	slices.SortStableFunc(fields, func(a, b field) int { return schema.Index(a.Name) - schema.Index(b.Name) })
	var nulls, asEmpty []string
	for _, f := range fields {
		if schema.Index(f.Name) < 0 || f.Name == "mailbox" || f.Name == "customer" {
			r.Err = &batch.RowError{File: s.name, Row: s.line, Line: s.line, Column: f.Name, Message: "not a field of mailboxes/update: the undo file is damaged"}
			continue
		}
		old := ""
		switch {
		case f.Old != nil:
			old = *f.Old
		case takesEmpty(f.Name):
			asEmpty = append(asEmpty, f.Name)
		default:
			nulls = append(nulls, f.Name)
			continue
		}
		r.Params = append(r.Params, batch.Param{Name: f.Name, Value: old})
		r.Expect = append(r.Expect, batch.Param{Name: f.Name, Value: f.Set})
	}
	var notes []string
	if len(asEmpty) > 0 {
		notes = append(notes, fmt.Sprintf("%s null before the run: restored as empty (an update cannot write null; Enswitch gives both one meaning)", strings.Join(asEmpty, ", ")))
	}
	if len(nulls) > 0 {
		notes = append(notes, fmt.Sprintf("not restored: %s null before the run, and an update cannot write null to it", strings.Join(nulls, ", ")))
	}
	if len(e.Lost) > 0 {
		notes = append(notes, fmt.Sprintf("not restored: the server did not show %s before the run", strings.Join(e.Lost, ", ")))
	}
	r.Note = strings.Join(notes, "; ")
	if len(r.Expect) == 0 && r.Err == nil {
		r.Err = &batch.RowError{File: s.name, Row: s.line, Line: s.line, Message: "nothing to restore: " + r.Note}
	}
	r.Hash = hash(r)
	return r
}

// hash is a digest of what the row writes and expects, for a resume of
// the undo's own run.
func hash(r batch.Row) string {
	h := sha256.New()
	for _, ps := range [][]batch.Param{r.Params, r.Expect} {
		for _, p := range ps {
			h.Write([]byte(strconv.Quote(p.Name)))
			h.Write([]byte(strconv.Quote(p.Value)))
		}
		h.Write([]byte{0})
	}
	h.Write([]byte(r.Note))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// takesEmpty says whether an update can set the field to "", which is
// what a null of it is restored as.
func takesEmpty(name string) bool {
	f, ok := schema.Lookup(name)
	return ok && f.EmptyMeans != "" && !f.EmptyKeeps
}
