// Package reqlog logs every request to the server at debug level, with
// its secrets redacted.
package reqlog

import (
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch/schema"
)

// Wrap wraps next so that every request to the server is a debug log
// line: the API function, its parameters with secrets redacted, the HTTP
// status and how long it took. Below debug level next is returned as it
// is, and nothing is spent on it. A nil next is http.DefaultTransport.
func Wrap(next http.RoundTripper, log *zap.Logger) http.RoundTripper {
	if !log.Core().Enabled(zap.DebugLevel) {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &requestLogger{next: next, log: log}
}

// requestLogger is the RoundTripper Wrap returns.
type requestLogger struct {
	next http.RoundTripper
	log  *zap.Logger
}

func (l *requestLogger) RoundTrip(req *http.Request) (*http.Response, error) {
	params := requestParams(req)
	start := time.Now()
	resp, err := l.next.RoundTrip(req)
	fields := []zap.Field{
		zap.String("function", strings.Trim(strings.TrimPrefix(req.URL.Path, "/api/json/"), "/")),
		zap.String("params", params),
		zap.Duration("took", time.Since(start).Round(time.Microsecond)),
	}
	if err != nil {
		l.log.Debug("request", append(fields, zap.Error(err))...)
		return resp, err
	}
	l.log.Debug("request", append(fields, zap.Int("http", resp.StatusCode))...)
	return resp, nil
}

// secret says whether a form parameter is never logged: credentials and
// tokens, whatever their case, and the schema's secret fields (PINs).
func secret(param string) bool {
	p := strings.ToLower(param)
	switch p {
	case "auth_password", "auth_token", "password", "token":
		return true
	}
	return schema.IsSecret(p)
}

// requestParams is the request's form with every secret replaced by
// "REDACTED", read from a copy of the body (GetBody) so that the request
// itself is untouched.
func requestParams(req *http.Request) string {
	if req.GetBody == nil {
		return ""
	}
	body, err := req.GetBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 64<<10))
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return "(unparsed)"
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var s strings.Builder
	for _, k := range keys {
		for _, v := range form[k] {
			if s.Len() > 0 {
				s.WriteByte(' ')
			}
			if secret(k) {
				v = "REDACTED"
			}
			s.WriteString(k + "=" + v)
		}
	}
	return s.String()
}
