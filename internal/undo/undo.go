// Package undo is the take-back of a run that reads before it writes.
//
// Two files hold it, both JSON lines, mode 0600 (they hold the PINs a
// server showed), never opened through a link:
//
//   - the journal (UNDO.journal): a header naming the switch and user,
//     then one entry per update, appended and fsynced before the update
//     is sent, across every --resume, --retry-failed and kill -9 of the
//     run; an entry whose update was never sent after all is withdrawn
//     by a later line;
//   - the undo file (UNDO, REPORT.undo.jsonl): a header, then the
//     journal's entries that count, last first, rewritten atomically at
//     the end of every invocation (from what the invocation added to the
//     journal and the earlier file, see Build). `ensbulk run UNDO`
//     applies it.
//
// An undo is a conditional write: each entry holds, per changed field,
// the value found before the update and the value the update set. It
// restores a field only where the switch still holds what the run set;
// a field changed since is a conflict (batch.StatusConflict), left
// alone unless forced. Entries are applied last first, so a field
// changed by several rows (or by a run and its retries) goes back step
// by step to its value before the first.
//
// The files are JSON lines whatever the input's format: JSON writes every
// value a switch can hold exactly (null, "", spaces, line breaks, any
// text a CSV empty token could be taken for) and carries the header
// in-band, so no empty token or sidecar is needed to read it back.
package undo

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Ext ends an undo file's name.
const Ext = ".undo.jsonl"

// PathFor is the undo file of a report: its name with Ext in place of
// its extension (changes.report.csv -> changes.report.undo.jsonl).
func PathFor(report string) string {
	return strings.TrimSuffix(report, filepath.Ext(report)) + Ext
}

// JournalPath is the journal of an undo file.
func JournalPath(undoPath string) string { return undoPath + ".journal" }

// Identity is whom an undo belongs to: the switch (its normalised URL),
// the API user and that user's own customer (when known). Never a
// credential.
type Identity struct {
	Switch   string `json:"switch"`
	User     string `json:"user"`
	Customer string `json:"customer,omitempty"`
}

// Same reports whether two identities are the same switch and user (the
// own customer follows from the user).
func (id Identity) Same(o Identity) bool {
	return id.Switch == o.Switch && id.User == o.User
}

func (id Identity) String() string {
	return fmt.Sprintf("%s as user %s", orUnknown(id.Switch), orUnknown(id.User))
}

func orUnknown(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

// Header is the first line of an undo file.
type Header struct {
	Format int `json:"ensbulk_undo"`
	Identity
	// Report is the report of the run the undo file takes back.
	Report  string    `json:"report,omitempty"`
	Created time.Time `json:"created"`
	// Rows counts the entries; LostPINs and LostOther the entries with a
	// PIN, or another field, the server did not show before the update
	// (those changes cannot be undone); Nulls the fields that were null
	// before the update and take no empty value (an update cannot write
	// null; a null of a field that takes "" is restored as "").
	Rows      int `json:"rows"`
	LostPINs  int `json:"lost_pins,omitempty"`
	LostOther int `json:"lost_other,omitempty"`
	Nulls     int `json:"null_fields,omitempty"`
	// Bytes is the size of the entries after this line. JournalBytes
	// and JournalLines are how much of the journal the file was built
	// from, JournalEnd a checksum of those bytes' end: the next build (a
	// resume's, a retry's) reads only what was recorded since, and
	// copies the entries of a file still that long. Absent in files of
	// earlier versions.
	Bytes        int64  `json:"bytes,omitempty"`
	JournalBytes int64  `json:"journal_bytes,omitempty"`
	JournalLines int    `json:"journal_lines,omitempty"`
	JournalEnd   string `json:"journal_end,omitempty"`
}

// journalHeader is the first line of a journal.
type journalHeader struct {
	Format int `json:"ensbulk_undo_journal"`
	Identity
	Report string `json:"report,omitempty"`
}

// formatVersion is the version of both files' layout.
const formatVersion = 1

// field is one field of an entry: Old is the value to restore (nil: it
// was null), Set the value the run set, which the switch must still hold.
type field struct {
	Name string  `json:"name"`
	Old  *string `json:"restore"`
	Set  string  `json:"expect"`
}

// entry is one line of the journal and of the undo file.
type entry struct {
	Row       int      `json:"row"` // in the run's input
	Mailbox   string   `json:"mailbox,omitempty"`
	Customer  string   `json:"customer,omitempty"`
	Fields    []field  `json:"fields,omitempty"`
	Lost      []string `json:"lost,omitempty"`
	Withdrawn bool     `json:"withdrawn,omitempty"` // journal only
}

// ExistsError refuses a new run whose undo file or journal is already
// there: it may be the only record of an earlier run's values.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string { return fmt.Sprintf("undo file %s already exists", e.Path) }

// IdentityError refuses an undo file or journal of another switch or
// user.
type IdentityError struct {
	Path              string
	Recorded, Current Identity
}

func (e *IdentityError) Error() string {
	return fmt.Sprintf("%s belongs to %s, not %s", e.Path, e.Recorded, e.Current)
}

// MissingJournalError refuses to continue a run whose undo journal is
// gone: a new one would cover only the rows from now on.
type MissingJournalError struct{ Path string }

func (e *MissingJournalError) Error() string {
	return fmt.Sprintf("undo journal %s is missing", e.Path)
}

// ErrNotOurs is wrapped when a path holds a file that is not an undo
// file (or journal) of ensbulk's, or a link: it is never written.
var ErrNotOurs = errors.New("not an ensbulk undo file")
