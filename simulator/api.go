package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// maxRequestBody bounds a request body (RuleHTTP413); lenientRequestBody
// when that rule is off: the server still bounds what it reads.
const (
	maxRequestBody     = 1 << 20
	lenientRequestBody = 32 << 20
)

// apiFunction returns the function a path names ("mailboxes/update" for
// /api/json/mailboxes/update/, trailing slash optional), "" if none.
func apiFunction(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/json/")
	if !ok {
		return ""
	}
	switch fn := strings.TrimSuffix(rest, "/"); fn {
	case fnUpdate, fnGet, fnList, fnLogin:
		return fn
	}
	return ""
}

// serveAPI answers one API request: the faults drawn for it first, then
// routing, then the call itself.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	fn := apiFunction(r.URL.Path)
	if fn == fnLogin && s.cfg.Auth.NoLogin {
		fn = ""
	}
	label := fn
	if label == "" {
		label = "unknown"
	}
	inflight := s.enter(label)
	defer s.leave()
	d := s.decide(time.Now())
	if s.proxyFault(w, r, d, inflight) {
		return
	}
	if !s.serverFault(w, r, d) {
		return
	}
	if !s.route(w, r, fn) {
		return
	}
	rep, ok := s.answer(w, r, fn, d)
	if !ok {
		return
	}
	s.writeReply(w, rep, d)
}

// proxyFault plays the faults that a front proxy would apply, before the
// application sees the request: a redirect, the rate limit, the
// concurrency limit. It reports whether it answered.
func (s *Server) proxyFault(w http.ResponseWriter, r *http.Request, d decision, inflight int64) bool {
	switch {
	case d.f.RedirectTo != "":
		s.countFault(FaultRedirect)
		s.countStatus(http.StatusPermanentRedirect)
		http.Redirect(w, r, strings.TrimRight(d.f.RedirectTo, "/")+r.URL.Path, http.StatusPermanentRedirect)
		return true
	case d.limited:
		s.countFault(FaultRateLimit)
		w.Header().Set("Retry-After", retryAfter(d.f.RetryAfter))
		s.errorPage(w, http.StatusTooManyRequests, "Too Many Requests", "Request rate limit exceeded; slow down.", nil)
		return true
	case d.f.MaxConcurrent > 0 && inflight > int64(d.f.MaxConcurrent):
		s.countFault(FaultOverload)
		w.Header().Set("Retry-After", retryAfter(d.f.RetryAfter))
		s.errorPage(w, http.StatusServiceUnavailable, "Service Unavailable", "Too many concurrent requests.", nil)
		return true
	}
	return false
}

// serverFault plays the faults of the application itself: latency and a
// hang hold the request, an error page or a reset answer it. It reports
// whether the request goes on: false when answered or its client has
// gone.
func (s *Server) serverFault(w http.ResponseWriter, r *http.Request, d decision) bool {
	if d.delay > 0 || d.kind == FaultHang {
		// The http.Server notices that a client went away (r.Context
		// ends) only once the request body has been read to its end: a
		// hang "until the client gives up" held its handler forever after
		// a client timed out, and httptest.Server.Close waited on it.
		bufferBody(r, s.bodyLimit())
	}
	if d.delay > 0 {
		s.countFault(FaultLatency)
		if !s.wait(r.Context(), d.delay) {
			return false
		}
	}
	switch d.kind {
	case FaultError:
		s.countFault(FaultError)
		s.faultPage(w, r, d)
		return false
	case FaultReset:
		s.countFault(FaultReset)
		resetConn(w)
		return false
	case FaultHang:
		s.countFault(FaultHang)
		return s.wait(r.Context(), d.f.HangFor)
	}
	return true
}

// faultPage answers the error fault: an HTML page with the drawn status,
// quoting the request when Faults.EchoBody says so.
func (s *Server) faultPage(w http.ResponseWriter, r *http.Request, d decision) {
	var echo []byte
	if d.f.EchoBody {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		echo = append([]byte(r.Method+" "+r.URL.RequestURI()+"\n\n"), body...)
	}
	s.errorPage(w, d.status, http.StatusText(d.status), "The server encountered an internal error and could not complete your request.", echo)
}

// route refuses an unknown function (404) and a method other than GET
// and POST (405). It reports whether the request goes on.
func (s *Server) route(w http.ResponseWriter, r *http.Request, fn string) bool {
	if fn == "" {
		s.countStatus(http.StatusNotFound)
		http.Error(w, "unknown API function", http.StatusNotFound)
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.countStatus(http.StatusMethodNotAllowed)
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	return true
}

// answer reads the parameters and runs the call. A request refused at
// the HTTP level is answered here (ok false); a malformed form is a 400
// in the envelope.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, fn string, d decision) (rep reply, ok bool) {
	p, status, err := s.readParams(w, r)
	switch {
	case status != 0:
		s.countStatus(status)
		http.Error(w, err.Error(), status)
		return reply{}, false
	case err != nil:
		return reply{entries: []entry{{codeInvalid, "", err.Error()}}}, true
	}
	if !s.pol.invented.on(RuleDuplicateParam) {
		p.lastWins()
	}
	return s.call(fn, p, d.kind == FaultLost, d.kind == FaultIgnore), true
}

// writeReply writes the envelope of rep, unless the lost fault drops the
// connection after an applied update; the truncate fault cuts it in half.
func (s *Server) writeReply(w http.ResponseWriter, rep reply, d decision) {
	if rep.ignored {
		s.countFault(FaultIgnore)
	}
	body := s.encode(rep)
	if d.kind == FaultLost && rep.applied {
		s.countFault(FaultLost)
		resetConn(w)
		return
	}
	if d.kind == FaultTruncate {
		s.countFault(FaultTruncate)
		body = body[:len(body)/2]
	}
	s.countCode(rep.entries[0].code)
	s.countStatus(http.StatusOK)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// bufferBody reads the request body (up to one byte more than readParams
// accepts, limit) and puts it back for later readers.
func bufferBody(r *http.Request, limit int64) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	var rd io.Reader = bytes.NewReader(b)
	if err != nil {
		rd = io.MultiReader(rd, errReader{err})
	}
	r.Body = bufferedBody{rd, r.Body}
}

type bufferedBody struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// bodyLimit is the most of a request body the server reads.
func (s *Server) bodyLimit() int64 {
	if s.pol.invented.on(RuleHTTP413) {
		return maxRequestBody
	}
	return lenientRequestBody
}

// readParams reads the query string and, for POST, the form body. A
// non-zero status is an HTTP-level refusal; an error alone is a malformed
// form, answered 400 in the envelope.
func (s *Server) readParams(w http.ResponseWriter, r *http.Request) (*params, int, error) {
	p := &params{}
	if err := p.parseForm(r.URL.RawQuery); err != nil {
		return nil, 0, err
	}
	if r.Method != http.MethodPost {
		return p, 0, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			if !s.pol.invented.on(RuleHTTP415) {
				return p, 0, nil // not a form: as a CGI server, leave it unread
			}
			return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported content type %q: send application/x-www-form-urlencoded", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.bodyLimit()))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, errors.New("request body too large")
		}
		return nil, http.StatusBadRequest, errors.New("cannot read request body")
	}
	if err := p.parseForm(string(body)); err != nil {
		return nil, 0, err
	}
	return p, 0, nil
}

// entry is one entry of a response envelope.
type entry struct {
	code, key, message string
}

// reply is the outcome of one API call.
type reply struct {
	entries []entry
	data    any
	applied bool // an update changed the state
	ignored bool // an update answered as applied and not kept (Faults.IgnoreRate)
}

func fail(code, key, message string) reply {
	return reply{entries: []entry{{code, key, message}}}
}

// encode writes the envelope as configured: codes as strings or numbers,
// responses as an array or (one entry) an object.
func (s *Server) encode(rep reply) []byte {
	type wireEntry struct {
		Code    any    `json:"code"`
		Key     string `json:"key"`
		Message string `json:"message"`
	}
	es := make([]wireEntry, len(rep.entries))
	for i, e := range rep.entries {
		var c any = e.code
		if s.cfg.NumericCodes {
			c = json.Number(e.code)
		}
		es[i] = wireEntry{c, e.key, e.message}
	}
	var responses any = es
	if s.cfg.ObjectResponses && len(es) == 1 {
		responses = es[0]
	}
	b, err := json.Marshal(struct {
		Responses any `json:"responses"`
		Data      any `json:"data,omitempty"`
	}{responses, rep.data})
	if err != nil {
		// Only strings and string maps go in: cannot happen.
		panic(fmt.Sprintf("simulator: encode envelope: %v", err))
	}
	return b
}
