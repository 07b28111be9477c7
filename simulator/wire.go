package simulator

import (
	"encoding/json"
	"github.com/ensbulk/ensbulk/batch/schema"
	"strconv"
	"time"
)

// wireRow is a mailbox as mailboxes/get and mailboxes/list write it: a
// row of the mailboxes table, typed (numbers as JSON numbers, NULL as
// null), with read-only columns that are no update parameter.
type wireRow []wireCol

type wireCol struct {
	name string
	raw  json.RawMessage
}

// MarshalJSON writes the columns in table order.
func (r wireRow) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64*len(r))
	b = append(b, '{')
	for i, c := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, c.name)
		b = append(b, ':')
		b = append(b, c.raw...)
	}
	return append(b, '}'), nil
}

// createdBase anchors the invented "created" column: the same world
// always reads back the same times.
var createdBase = time.Date(2016, 3, 7, 9, 0, 0, 0, time.UTC)

// wireMailbox returns the row of mailbox k, which must exist. The caller
// holds s.mu.
func (s *Server) wireMailbox(k boxKey) wireRow {
	vals := s.boxes[k]
	id := s.ids[k]
	extra := s.pol.invented.on(RuleExtraColumns)
	row := make(wireRow, 0, len(vals)+2)
	if extra {
		row = append(row, wireCol{"id", strconv.AppendInt(nil, int64(id), 10)})
	}
	for i, f := range s.schema {
		v := vals[i]
		var raw json.RawMessage
		switch {
		case f.Secret:
			switch s.pol.pinDisplay {
			case PINAbsent:
				continue
			case PINMasked:
				if v != "" {
					v = "****"
				}
			}
			raw = jsonString(v)
		case v == "" && s.pol.nullColumns[f.Name]:
			raw = json.RawMessage("null")
		case (f.Type == schema.Integer || f.Type == schema.Bool01) && schema.PlainInteger(v):
			// Stored values passed the state rules: plain digits are
			// valid JSON numbers as they are.
			raw = json.RawMessage(v)
		default:
			raw = jsonString(v)
		}
		row = append(row, wireCol{f.Name, raw})
	}
	if !extra {
		return row
	}
	created := createdBase.Add(time.Duration(id) * 37 * time.Minute).Format(time.DateTime)
	return append(row, wireCol{"created", jsonString(created)})
}

func jsonString(v string) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("simulator: marshal a string: " + err.Error()) // strings always marshal
	}
	return b
}
