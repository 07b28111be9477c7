package enswitch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
)

// Entry is one entry of a response envelope.
type Entry struct {
	Code    string `json:"code"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

// Envelope is a decoded response: every entry, and data for get/list.
type Envelope struct {
	Responses []Entry
	Data      json.RawMessage
}

// code accepts a JSON string or number.
type code string

func (c *code) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = code(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("code is neither string nor number: %s", snippet(b, ""))
	}
	*c = code(n.String())
	if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1e9 {
		*c = code(strconv.FormatInt(int64(f), 10)) // 204.0 is 204
	}
	return nil
}

type wireEntry struct {
	Code    code            `json:"code"`
	Key     json.RawMessage `json:"key"`
	Message json.RawMessage `json:"message"`
}

type wireEnvelope struct {
	Responses json.RawMessage `json:"responses"`
	Data      json.RawMessage `json:"data"`
}

// DecodeEnvelope decodes a response body. responses may be an array or a
// single object; code a string or a number.
func DecodeEnvelope(body []byte) (*Envelope, error) {
	if env, ok := decodeCommon(body); ok {
		return env, nil
	}
	return decodeGeneral(body)
}

// decodeGeneral is DecodeEnvelope for every shape of envelope.
func decodeGeneral(body []byte) (*Envelope, error) {
	var w wireEnvelope
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	rs, err := decodeResponses(w.Responses)
	if err != nil {
		return nil, err
	}
	return &Envelope{Data: w.Data, Responses: rs}, nil
}

// decodeResponses decodes an envelope's responses: an array of entries
// or a single one, each with a code.
func decodeResponses(raw json.RawMessage) ([]Entry, error) {
	raw = bytes.TrimSpace(raw)
	var entries []wireEntry
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return nil, errors.New("decode envelope: no responses")
	case raw[0] == '[':
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("decode envelope: responses: %w", err)
		}
	case raw[0] == '{':
		var e wireEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decode envelope: responses: %w", err)
		}
		entries = []wireEntry{e}
	default:
		return nil, errors.New("decode envelope: responses is neither an array nor an object")
	}
	if len(entries) == 0 {
		return nil, errors.New("decode envelope: empty responses")
	}
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if e.Code == "" {
			return nil, errors.New("decode envelope: response without a code")
		}
		out = append(out, Entry{Code: string(e.Code), Key: looseString(e.Key), Message: looseString(e.Message)})
	}
	return out, nil
}

// decodeCommon decodes, in one pass and without reflection, the envelope
// nearly every answer is:
//
//	{"responses":[{"code":"204","key":"","message":"OK"}]}
//
// one or more entries with exactly those fields in that order, strings
// without escapes, no whitespace but after the end. For anything else,
// and anything it is not sure of, ok is false and the general decoder
// decides. What it accepts, it decodes exactly as the general decoder
// would (enswitch's envelope tests run both).
func decodeCommon(b []byte) (env *Envelope, ok bool) {
	b, ok = bytes.CutPrefix(b, []byte(`{"responses":[`))
	if !ok {
		return nil, false
	}
	env = &Envelope{Responses: make([]Entry, 0, 1)}
	for {
		var e Entry
		if b, ok = bytes.CutPrefix(b, []byte(`{"code":`)); !ok {
			return nil, false
		}
		if e.Code, b, ok = plainString(b); !ok {
			return nil, false
		}
		if e.Code = strings.TrimSpace(e.Code); e.Code == "" {
			return nil, false // the general decoder says what is wrong
		}
		if b, ok = bytes.CutPrefix(b, []byte(`,"key":`)); !ok {
			return nil, false
		}
		if e.Key, b, ok = plainString(b); !ok {
			return nil, false
		}
		if b, ok = bytes.CutPrefix(b, []byte(`,"message":`)); !ok {
			return nil, false
		}
		if e.Message, b, ok = plainString(b); !ok {
			return nil, false
		}
		if b, ok = bytes.CutPrefix(b, []byte("}")); !ok {
			return nil, false
		}
		env.Responses = append(env.Responses, e)
		if b, ok = bytes.CutPrefix(b, []byte(",")); !ok {
			break
		}
	}
	if b, ok = bytes.CutPrefix(b, []byte("]}")); !ok || len(bytes.Trim(b, " \t\r\n")) != 0 {
		return nil, false
	}
	return env, true
}

// plainString reads a JSON string at the start of b that needs no
// decoding: no escapes, no control characters, valid UTF-8.
func plainString(b []byte) (string, []byte, bool) {
	end, ok := plainStringEnd(b, 0)
	if !ok {
		return "", nil, false
	}
	return string(b[1 : end-1]), b[end:], true
}

// looseString reads a JSON string, or the text of any other value (servers
// have been seen to send numbers or null as keys).
func looseString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// Err returns the envelope's outcome as an error, nil when every entry is a
// success. With several failing entries, the most serious kind wins and
// every entry's message is kept.
func (e *Envelope) Err() error {
	var worst *batch.Error
	var msgs []string
	for _, r := range e.Responses {
		if IsSuccess(r.Code) {
			continue
		}
		k := CodeKind(r.Code)
		cur := &batch.Error{Kind: k, Code: r.Code, Key: r.Key, Message: r.Message}
		if r.Code == CodeRateLimited {
			cur.Throttle = true
		}
		if worst == nil || severity(k) > severity(worst.Kind) {
			worst = cur
		}
		m := r.Code
		if r.Key != "" {
			m += " " + r.Key
		}
		if r.Message != "" {
			m += ": " + r.Message
		}
		msgs = append(msgs, m)
	}
	if worst == nil {
		return nil
	}
	if len(msgs) > 1 {
		worst.Message = strings.Join(msgs, "; ")
	}
	return worst
}

func severity(k batch.Kind) int {
	switch k {
	case batch.KindUnauthorized:
		return 5
	case batch.KindForbidden:
		return 4
	case batch.KindInvalid:
		return 3
	case batch.KindNotFound:
		return 2
	case batch.KindTransient:
		return 1
	}
	return 0
}
