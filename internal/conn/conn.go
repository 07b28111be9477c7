// Package conn makes the client of a run or an export from its connection
// settings, once the command has applied flags and profile: the server
// and user (else the environment's), the password (a file, the
// environment, or a prompt on a terminal), the CAs to trust, and the
// authentication mode. It warns when the password would cross a network
// in clear or unverified. Failures carry package job's kinds.
package conn

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/job"
	"github.com/ensbulk/ensbulk/internal/reqlog"
)

// Settings are the connection's flags; "" leaves a setting to the
// environment (ENSWITCH_URL, ENSWITCH_USER, ENSWITCH_AUTH).
type Settings struct {
	URL, User    string
	PasswordFile string
	CAFile       string // PEM certificates to trust instead of the system's
	Insecure     bool   // do not verify the server's certificate
	Auth         string // auto, token or password
	// Workers and Timeout size the HTTP client.
	Workers int
	Timeout time.Duration
}

// Env is what a connection reads of the process.
type Env struct {
	Stderr        io.Writer
	Getenv        func(string) string
	StdinTerminal func() bool
	// ReadPassword reads a line from the terminal without echo; an error
	// of kind job.Interrupted ends the prompt.
	ReadPassword func() ([]byte, error)
}

// Open makes the client of s and env; the requests it sends are logged
// to log.
func Open(env *Env, s *Settings, log *zap.Logger) (*job.Conn, error) {
	u := firstNonEmpty(s.URL, env.Getenv("ENSWITCH_URL"))
	user := firstNonEmpty(s.User, env.Getenv("ENSWITCH_USER"))
	if u == "" {
		return nil, usageErr("no server URL: pass --url or set ENSWITCH_URL")
	}
	if user == "" {
		return nil, usageErr("no API user: pass --user or set ENSWITCH_USER")
	}
	if _, err := enswitch.New(enswitch.Config{BaseURL: u, Username: user}); err != nil {
		return nil, usageErr("%v", err) // before the URL is shown anywhere
	}
	mode, err := enswitch.ParseAuthMode(firstNonEmpty(s.Auth, env.Getenv("ENSWITCH_AUTH"), string(enswitch.AuthAuto)))
	if err != nil {
		return nil, usageErr("--auth: %v", err)
	}
	notices := job.NewNotices(log)
	pw, err := password(env, s, u, user)
	if err != nil {
		return nil, err
	}
	pool, err := caPool(s.CAFile)
	if err != nil {
		return nil, err
	}
	if s.Insecure {
		fmt.Fprintln(env.Stderr, "ensbulk: WARNING: --insecure: the server's TLS certificate is NOT verified; anyone on the path can read the API password and change mailboxes")
		log.Warn("TLS certificate verification disabled by --insecure")
	}
	warnPlainHTTP(env.Stderr, u)
	hc := enswitch.NewHTTPClient(enswitch.HTTPOptions{Workers: s.Workers, Timeout: s.Timeout, CAPool: pool, Insecure: s.Insecure})
	hc.Transport = reqlog.Wrap(hc.Transport, log)
	cl, err := enswitch.New(enswitch.Config{BaseURL: u, Username: user, Password: pw, HTTPClient: hc, Auth: mode, Notice: notices.Say, Settings: enswitch.Settings{URL: "--url", CAFile: "--ca-file", Auth: "--auth"}})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return &job.Conn{URL: enswitch.RedactURL(u), User: user, Client: cl, Notices: notices}, nil
}

// caPool is the certificates of --ca-file; nil (the system's) without one.
func caPool(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fileErr(fmt.Errorf("--ca-file: %w", err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fileErr(fmt.Errorf("--ca-file %s: no PEM certificates in it", path))
	}
	return pool, nil
}

// password is the API password: --password-file, else ENSWITCH_PASSWORD,
// else a prompt on a terminal.
func password(env *Env, s *Settings, u, user string) (string, error) {
	if s.PasswordFile != "" {
		return passwordFile(env.Stderr, s.PasswordFile)
	}
	if pw := env.Getenv("ENSWITCH_PASSWORD"); pw != "" {
		return pw, nil
	}
	if env.StdinTerminal != nil && env.StdinTerminal() && env.ReadPassword != nil {
		fmt.Fprintf(env.Stderr, "Password for %s at %s: ", user, enswitch.RedactURL(u))
		b, err := env.ReadPassword()
		fmt.Fprintln(env.Stderr)
		if errors.Is(err, job.Interrupted) {
			return "", err
		}
		if err != nil {
			return "", usageErr("read password: %v", err)
		}
		if len(b) == 0 {
			return "", usageErr("empty password")
		}
		return string(b), nil
	}
	return "", usageErr("no password: set ENSWITCH_PASSWORD, pass --password-file FILE, or run on a terminal to be prompted")
}

// passwordFile reads the password of --password-file, and warns on
// stderr when other users can read the file too.
func passwordFile(stderr io.Writer, path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fileErr(fmt.Errorf("--password-file: %w", err))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fileErr(fmt.Errorf("--password-file: %w", err))
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fileErr(fmt.Errorf("--password-file %s is empty", path))
	}
	if st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "ensbulk: warning: %s is readable by other users (mode %v); chmod 600 it\n", path, st.Mode().Perm())
	}
	return pw, nil
}

func usageErr(format string, args ...any) error {
	return job.Mark(job.Usage, fmt.Errorf(format, args...))
}

func fileErr(err error) error { return job.Mark(job.File, err) }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
