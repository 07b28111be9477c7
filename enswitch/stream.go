package enswitch

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/ensbulk/ensbulk/batch"
)

// The data of mailboxes/list grows with the customer: 15,000 mailboxes
// are some 10 MB of JSON, 100,000 about 70 MB. Such answers are decoded
// as they arrive (json.Decoder over the body), one mailbox at a time,
// and the bound is on each mailbox (and on each other member of the
// envelope), not on the answer: a customer of any size lists in the
// memory of one mailbox, and a hostile server that sends one huge column
// costs at most the bound.

// MaxMailboxJSON bounds the JSON text of one mailbox in get or list data,
// and of the responses and any other member of their envelope. Real
// mailboxes are a few hundred bytes; a column of megabytes under the
// bound is kept cut to MaxValueLen (Value.Altered), and a mailbox over it
// fails the call.
const MaxMailboxJSON = 8 << 20

// errMemberTooLarge is what a budgetReader returns past its budget.
var errMemberTooLarge = fmt.Errorf("one mailbox or envelope member is larger than %d MiB", MaxMailboxJSON>>20)

// budgetReader lets at most a budget of bytes through between resets:
// the decoder's buffer, and the value it decodes, cannot outgrow it
// (plus what the decoder had read ahead before the reset).
type budgetReader struct {
	r    io.Reader
	left int
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errMemberTooLarge
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

func (b *budgetReader) reset() { b.left = MaxMailboxJSON }

// streamFault is an answer that is not a whole envelope: what says how
// ("truncated", "malformed", "refused"), err why (its text redacted).
type streamFault struct {
	what string
	err  error
}

func (f *streamFault) Error() string { return f.err.Error() }
func (f *streamFault) Unwrap() error { return f.err }

// callerFault carries an error of the caller's fn through the decoding,
// unchanged.
type callerFault struct{ err error }

func (f *callerFault) Error() string { return f.err.Error() }
func (f *callerFault) Unwrap() error { return f.err }

// codeAfterData marks a failing code that came after the data was
// delivered (responses after data).
type codeAfterData struct{ err error }

func (f *codeAfterData) Error() string { return f.err.Error() }
func (f *codeAfterData) Unwrap() error { return f.err }

// dataFunc decodes the value of an envelope's data member from dec,
// resetting budget before each item it holds at once, and redacting sec
// (the request's secrets) from every text it keeps.
type dataFunc func(dec *json.Decoder, budget *budgetReader, sec *secrets) error

// callStream is call for get and list: the answer's data goes to data as
// it is decoded. A call refused with 401 with a token is repeated with a
// newer one, as call does (tokenRetries), unless data had been given anything
// (*delivered > 0).
func (c *Client) callStream(ctx context.Context, function string, params []batch.Param, delivered *int, data dataFunc) error {
	tok, err := c.credentials(ctx, nil)
	if err != nil {
		return err
	}
	err = c.sendStream(ctx, function, tok, params, data)
	for range tokenRetries {
		if tok == nil || *delivered > 0 || batch.KindOf(err) != batch.KindUnauthorized || errors.As(err, new(*callerFault)) {
			break
		}
		if tok, err = c.credentials(ctx, tok); err != nil {
			return err
		}
		if c.pace != nil {
			if err := c.pace(ctx); err != nil {
				return c.transportError(ctx, err, c.secretsFor(tok, params))
			}
		}
		err = c.sendStream(ctx, function, tok, params, data)
	}
	return err
}

// sendStream sends one request and decodes its answer as a stream. An
// answer other than HTTP 200 is read whole (bounded) and judged as post
// judges it; it carries no data.
func (c *Client) sendStream(ctx context.Context, function string, tok *token, params []batch.Param, data dataFunc) error {
	cred := c.authForm
	if tok != nil {
		cred = tok.form
	}
	sec := c.secretsFor(tok, params)
	resp, err := c.do(ctx, function, cred, params, "", sec)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if _, err := c.answer(resp, body, readErr, sec); err != nil {
			return err
		}
		return &streamFault{"malformed", fmt.Errorf("HTTP %d with a success code and no data", resp.StatusCode)}
	}
	return c.streamEnvelope(ctx, resp, sec, data)
}

// streamReaders are the buffers answers are read through: a read before
// every update would otherwise allocate 32 KiB each.
var streamReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// streamEnvelope decodes an HTTP 200 answer's envelope member by member,
// in whatever order the server wrote them: responses are judged when
// they come (a failing code before the data ends the call before any
// data is read), data goes to data, anything else is skipped.
func (c *Client) streamEnvelope(ctx context.Context, resp *http.Response, sec *secrets, data dataFunc) error {
	br := streamReaders.Get().(*bufio.Reader)
	br.Reset(markReads{resp.Body})
	defer func() {
		br.Reset(nil) // holds no body between calls
		streamReaders.Put(br)
	}()
	// The start of the body, for messages: an HTML page or a login
	// portal says what it is in its first bytes.
	head, _ := br.Peek(512)
	head = append([]byte(nil), head...)
	if notJSON(head) {
		return &batch.Error{Kind: batch.KindTransient, Code: "200",
			Message: "decode envelope: not JSON (body: " + snippetOf(head, sec) + ")",
			Err:     withSetup(statusSetup(c.base.Scheme, resp.StatusCode, head), nil)}
	}
	budget := &budgetReader{r: br}
	budget.reset()
	dec := json.NewDecoder(budget)
	if err := envelopeStart(dec, head, sec); err != nil {
		return c.streamFault(ctx, err, sec)
	}
	var env *Envelope
	seen := false
	for dec.More() {
		budget.reset()
		tok, err := dec.Token()
		if err != nil {
			return c.streamFault(ctx, err, sec)
		}
		switch key, _ := tok.(string); key {
		case "responses":
			if env, err = c.streamResponses(ctx, resp, dec, sec, seen); err != nil {
				return err
			}
		case "data":
			seen = true
			if err := data(dec, budget, sec); err != nil {
				if errors.As(err, new(*callerFault)) {
					return err
				}
				return c.streamFault(ctx, err, sec)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return c.streamFault(ctx, err, sec)
			}
		}
	}
	if err := envelopeEnd(dec, env != nil, seen); err != nil {
		return c.streamFault(ctx, err, sec)
	}
	return nil
}

// envelopeStart reads the envelope's opening brace.
func envelopeStart(dec *json.Decoder, head []byte, sec *secrets) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("the answer is not a JSON object (body: %s)", snippetOf(head, sec))
	}
	return nil
}

// streamResponses decodes the envelope's responses member and judges it.
// A failing code is returned as judged, or as a codeAfterData when the
// data came before it (afterData); an answer that does not decode is a
// streamFault.
func (c *Client) streamResponses(ctx context.Context, resp *http.Response, dec *json.Decoder, sec *secrets, afterData bool) (*Envelope, error) {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, c.streamFault(ctx, err, sec)
	}
	rs, err := decodeResponses(raw)
	if err != nil {
		return nil, c.streamFault(ctx, err, sec)
	}
	env := &Envelope{Responses: rs}
	if _, err := c.judgeEnvelope(resp, env, sec); err != nil {
		if afterData {
			return nil, &codeAfterData{err}
		}
		return nil, err // the data, if any follows, is not read
	}
	return env, nil
}

// envelopeEnd reads the envelope's closing brace and the end of the body,
// and checks that the envelope held responses and data.
func envelopeEnd(dec *json.Decoder, responses, data bool) error {
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the end of the envelope")
		}
		return err
	}
	switch {
	case !responses:
		return errors.New("decode envelope: no responses")
	case !data:
		return errors.New("no data")
	}
	return nil
}

// streamFault turns an error met decoding an envelope into a streamFault
// saying how the answer failed, or into a transport error when ctx has
// ended.
func (c *Client) streamFault(ctx context.Context, err error, sec *secrets) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the body ended inside the envelope
	}
	if ctx.Err() != nil {
		return c.transportError(ctx, err, sec)
	}
	return &streamFault{faultWhat(err), errors.New(sec.clean(err.Error(), MaxMessageLen))}
}

// faultWhat says how an answer failed: "refused" (a member over the
// bound), "truncated" (the body ended, or its reading failed) or
// "malformed".
func faultWhat(err error) string {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, errMemberTooLarge):
		return "refused"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	case errors.As(err, &syn) || errors.As(err, new(*json.UnmarshalTypeError)) || !isReadError(err):
		return "malformed"
	}
	return "truncated"
}

// EachMailbox calls mailboxes/list for customer ("" for the auth user's)
// and calls fn with each mailbox as it is decoded, in the server's
// order, holding one at a time: a customer of any size lists in the
// memory of one mailbox (each bounded by MaxMailboxJSON).
//
// fn's mailboxes are only trustworthy when EachMailbox returns nil. A
// server may write the envelope's responses after its data, so a list
// can fail (a code other than 200, a body cut short or malformed) after
// fn has been given mailboxes: the error then says how many. A caller
// that acts on the mailboxes as the customer's whole list must hold its
// conclusions until the end. An error of fn stops the list and is
// returned as it is; every other error names the customer.
func (c *Client) EachMailbox(ctx context.Context, customer string, fn func(Mailbox) error) error {
	var ps []batch.Param
	if customer != "" {
		ps = append(ps, batch.Param{Name: "customer", Value: customer})
	}
	n := 0
	err := c.callStream(ctx, "mailboxes/list", ps, &n, func(dec *json.Decoder, budget *budgetReader, sec *secrets) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != json.Delim('[') {
			return fmt.Errorf("data is %s, not an array of mailboxes", tokenName(tok))
		}
		var raw json.RawMessage
		for dec.More() {
			budget.reset()
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			m, err := decodeMailbox(raw, sec)
			if err != nil {
				return fmt.Errorf("mailbox %s: %w", thousands(n+1), err)
			}
			n++
			if err := fn(m); err != nil {
				return &callerFault{err}
			}
		}
		_, err = dec.Token() // the closing bracket
		return err
	})
	if err == nil {
		return nil
	}
	var cf *callerFault
	if errors.As(err, &cf) {
		return cf.err
	}
	who := "mailboxes/list of customer " + customer
	if customer == "" {
		who = "mailboxes/list of the user's own customer"
	}
	var sf *streamFault
	var late *codeAfterData
	switch {
	case errors.As(err, &sf):
		return &batch.Error{Kind: batch.KindTransient,
			Message: fmt.Sprintf("%s: %s after %s mailboxes: %s", who, sf.what, thousands(n), sf.err)}
	case errors.As(err, &late):
		return fmt.Errorf("%s: the server answered a failure after %s mailboxes, so the list is not whole: %w", who, thousands(n), late.err)
	case n > 0:
		return fmt.Errorf("%s: failed after %s mailboxes: %w", who, thousands(n), err)
	}
	return fmt.Errorf("%s: %w", who, err)
}

// List calls mailboxes/list for a customer ("" for the auth user's) and
// returns every mailbox at once: for small customers and tests. A large
// customer is read with EachMailbox.
func (c *Client) List(ctx context.Context, customer string) ([]Mailbox, error) {
	var out []Mailbox
	err := c.EachMailbox(ctx, customer, func(m Mailbox) error {
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []Mailbox{}
	}
	return out, nil
}

// Get calls mailboxes/get. customer may be "" for the auth user's. The
// mailbox is bounded by MaxMailboxJSON, not by the answer's size.
func (c *Client) Get(ctx context.Context, mailbox, customer string) (Mailbox, error) {
	ps := []batch.Param{{Name: "mailbox", Value: mailbox}}
	if customer != "" {
		ps = append(ps, batch.Param{Name: "customer", Value: customer})
	}
	var m Mailbox
	got, n := false, 0
	err := c.callStream(ctx, "mailboxes/get", ps, &n, func(dec *json.Decoder, _ *budgetReader, sec *secrets) error {
		// The data's text (bounded by the budget, as the envelope's
		// other members) goes to decodeMailbox, as each of a list's
		// mailboxes does: a flat mailbox takes its fast path. A syntax
		// error is the stream's, returned as it is.
		buf := getBufs.Get().(*[]byte)
		raw := json.RawMessage((*buf)[:0])
		err := dec.Decode(&raw)
		if err == nil {
			if m, err = decodeMailbox(raw, sec); err != nil {
				err = fmt.Errorf("decode mailboxes/get data: %w", err)
			}
		}
		if cap(raw) <= maxPooledGet {
			*buf = raw[:0]
			getBufs.Put(buf)
		}
		got = err == nil
		return err
	})
	var sf *streamFault
	var late *codeAfterData
	switch {
	case errors.As(err, &sf):
		return Mailbox{}, &batch.Error{Kind: batch.KindTransient, Message: "mailboxes/get: " + sf.what + ": " + sf.err.Error()}
	case errors.As(err, &late):
		return Mailbox{}, late.err
	case err != nil:
		return Mailbox{}, err
	case !got:
		return Mailbox{}, &batch.Error{Kind: batch.KindTransient, Message: "decode mailboxes/get data: no data"}
	}
	return m, nil
}

// getBufs hold the JSON text of get data while it is decoded (the
// mailbox keeps none of it); a buffer grown past maxPooledGet by a large
// answer is let go.
var getBufs = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledGet = 64 << 10

// readErrorMark wraps what the body's reader returned, so that a failed
// read (a reset, a timeout) is told from the decoder's own complaints.
type readErrorMark struct{ err error }

func (m *readErrorMark) Error() string { return "read: " + m.err.Error() }
func (m *readErrorMark) Unwrap() error { return m.err }

// markReads marks every error of r but io.EOF and errMemberTooLarge as a
// read error.
type markReads struct{ r io.Reader }

func (m markReads) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, errMemberTooLarge) {
		err = &readErrorMark{err}
	}
	return n, err
}

func isReadError(err error) bool { return errors.As(err, new(*readErrorMark)) }

// tokenName names a JSON token for a message.
func tokenName(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return string(v)
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// thousands writes n with commas: 15,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
