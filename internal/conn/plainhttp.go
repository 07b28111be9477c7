package conn

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// warnPlainHTTP warns, on stderr whatever --log-level says, when the
// password would cross a network unencrypted: plain http to a host that
// is not loopback. The host's resolved addresses decide, not its
// spelling: "127.0.0.1.example.com" or "localhost.evil" is not loopback,
// and a name that cannot be resolved is not known to be. It is one line,
// never also a log line (the log is not given to it): the warning said
// twice, once as the logger's, read as two problems.
func warnPlainHTTP(stderr io.Writer, rawURL string) {
	u, err := url.Parse(rawURL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return
	}
	host := u.Hostname()
	addr, loopback := resolvesToLoopback(host)
	if loopback {
		return
	}
	fmt.Fprintf(stderr, "ensbulk: WARNING: plain http to %s (%s, not loopback): the API password crosses the network unencrypted; use https\n", host, addr)
}

// resolvesToLoopback says whether every address of host is loopback, and
// names the first that is not (or why none is known).
func resolvesToLoopback(host string) (string, bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.String(), ip.Unmap().IsLoopback()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return "address unknown", false
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return a.String(), false
		}
	}
	return addrs[0].String(), true
}
