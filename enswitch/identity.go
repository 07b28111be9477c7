package enswitch

import (
	"net"
	"net/url"
	"strings"
)

// SwitchID is the normalised URL that names a switch in the files a run
// keeps (report sidecar, undo file): scheme and host in lower case, no
// default port, no credentials, query or fragment, no trailing slash or
// /api/json. Two spellings of one server give one SwitchID; another
// host, port or scheme gives another. It is not a credential.
func SwitchID(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return RedactURL(raw)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, "/api/json")
	path = strings.TrimRight(path, "/")
	return scheme + "://" + host + path
}
