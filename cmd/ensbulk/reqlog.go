package main

import (
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/enswitch/schema"
)

// logRequests wraps next so that every request to the server is a debug
// log line (-v): the API function, its parameters with secrets redacted,
// the HTTP status and how long it took. Below debug level next is
// returned as it is, and nothing is spent on it.
func logRequests(next http.RoundTripper, log *zap.Logger) http.RoundTripper {
	if !log.Core().Enabled(zap.DebugLevel) {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &requestLogger{next: next, log: log}
}

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

// secretParams are the form parameters never logged: credentials and
// tokens; the schema's secret fields (PINs) are never logged either
// (schema.IsSecret).
var secretParams = map[string]bool{
	"auth_password": true, "auth_token": true, "password": true, "token": true,
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
			if secretParams[strings.ToLower(k)] || schema.IsSecret(strings.ToLower(k)) {
				v = "REDACTED"
			}
			s.WriteString(k + "=" + v)
		}
	}
	return s.String()
}
