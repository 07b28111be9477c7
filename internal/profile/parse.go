package profile

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ensbulk/ensbulk/batch/schema"
	"github.com/pelletier/go-toml/v2"
)

// parseConfig decodes a config file strictly.
func parseConfig(path string, data []byte) (*configFile, error) {
	var cf configFile
	err := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields().Decode(&cf)
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case err == nil:
		return &cf, nil
	case errors.As(err, &strict) && len(strict.Errors) > 0:
		// A secret is the more serious finding: report it first.
		first := &strict.Errors[0]
		for i := range strict.Errors {
			if k := strict.Errors[i].Key(); len(k) > 0 && isSecretKey(k[len(k)-1]) {
				first = &strict.Errors[i]
				break
			}
		}
		return nil, unknownKeyError(path, first, len(strict.Errors)-1)
	case errors.As(err, &de):
		line, _ := de.Position()
		pe := &Error{Path: path, Line: line, Err: errors.New(strings.TrimPrefix(de.Error(), "toml: "))}
		if k := de.Key(); len(k) == 3 && k[0] == "profiles" {
			pe.Profile, pe.Key = k[1], k[2]
			if want := keyType(k[2]); want != "" {
				pe.Err = fmt.Errorf("want %s", want)
			}
		} else if len(k) > 0 {
			pe.Key = strings.Join(k, ".")
		}
		return nil, pe
	default:
		return nil, &Error{Path: path, Err: err}
	}
}

// keyType says what a profile key holds, for decode errors (go-toml's own
// message names Go types).
func keyType(key string) string {
	switch key {
	case "url", "user", "password_file", "ca_file", "auth":
		return "a string"
	case "timeout":
		return `a duration string such as "30s"`
	case "insecure":
		return "true or false"
	case "rate":
		return "a number (requests per second)"
	case "workers":
		return "an integer"
	}
	return ""
}

func unknownKeyError(path string, e *toml.DecodeError, more int) error {
	line, _ := e.Position()
	k := e.Key()
	pe := &Error{Path: path, Line: line}
	var valid []string
	leaf := strings.Join(k, ".")
	switch {
	case len(k) >= 3 && k[0] == "profiles":
		pe.Profile, leaf = k[1], k[2]
		valid = Keys()
	case len(k) >= 1 && k[0] != "profiles":
		// [profile.a] reports "profile", the key that is wrong.
		leaf = k[0]
		valid = []string{"default_profile", "profiles"}
	}
	if len(k) > 0 && isSecretKey(k[len(k)-1]) {
		pe.Err = fmt.Errorf("key %q holds a secret: secrets never live in the config file; put the password alone in a file (chmod 600) and name it with password_file", leaf)
		return pe
	}
	msg := fmt.Sprintf("unknown key %q", leaf)
	if c := schema.Nearest(leaf, valid); c != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", c)
	} else if len(valid) > 0 {
		msg += fmt.Sprintf(" (valid keys: %s)", strings.Join(valid, ", "))
	} else {
		msg += " (profiles are [profiles.NAME] tables)"
	}
	if more > 0 {
		msg += fmt.Sprintf(", and %d more unknown key(s)", more)
	}
	pe.Err = errors.New(msg)
	return pe
}

// isSecretKey reports whether a key names a secret that must not be in a
// config file, whatever its case.
func isSecretKey(key string) bool {
	switch strings.ToLower(key) {
	case "password", "passwd", "pass", "token", "secret",
		"auth_password", "auth_token", "api_token", "api_key":
		return true
	}
	return schema.IsSecret(strings.ToLower(key)) // a mailbox's PIN
}

// resolvePaths expands a leading ~/ and makes relative file names relative
// to the config file's folder, not to wherever ensbulk runs from (cron's
// working directory is not the operator's).
func (p *Profile) resolvePaths(getenv func(string) string) error {
	for key, s := range map[string]*string{"password_file": p.PasswordFile, "ca_file": p.CAFile} {
		if s == nil || *s == "" {
			continue
		}
		v := *s
		if v == "~" || strings.HasPrefix(v, "~/") || strings.HasPrefix(v, `~\`) {
			home := getenv("HOME")
			if runtime.GOOS == "windows" {
				home = firstNonEmpty(getenv("USERPROFILE"), home)
			}
			if home == "" {
				return &Error{Path: p.Path, Profile: p.Name, Key: key, Err: errors.New("~ used but HOME is not set")}
			}
			v = filepath.Join(home, v[1:])
		} else if !filepath.IsAbs(v) {
			v = filepath.Join(filepath.Dir(p.Path), v)
		}
		*s = v
	}
	return nil
}

// checkURLSecrets refuses a URL with a password in it, in any profile of
// the file (key names are checked while parsing).
func (cf *configFile) checkURLSecrets(path string) error {
	for _, name := range cf.profileNames() {
		p := cf.Profiles[name]
		if p.URL == nil {
			continue
		}
		u, err := url.Parse(*p.URL)
		if err != nil || u.User == nil {
			continue // the client's own checks report a bad URL
		}
		if _, ok := u.User.Password(); ok {
			return &Error{Path: path, Profile: name, Key: "url", Err: errors.New("the URL holds a password: secrets never live in the config file; use user and password_file")}
		}
	}
	return nil
}
