// Package profile reads named connection profiles.
//
// An operator with several switches keeps one profile per switch in a TOML
// file, by default <user config dir>/ensbulk/config.toml (on Linux
// ~/.config/ensbulk/config.toml, or $XDG_CONFIG_HOME/ensbulk/config.toml; on
// macOS ~/Library/Application Support/ensbulk/config.toml; on Windows
// %AppData%\ensbulk\config.toml), or the file named by --config PATH or
// ENSBULK_CONFIG:
//
//	# ~/.config/ensbulk/config.toml  (chmod 600)
//	default_profile = "lab"
//
//	[profiles.lab]
//	url = "http://127.0.0.1:8080"
//	user = "admin"
//	password_file = "lab.password"   # relative to this file's folder
//
//	[profiles.prod]
//	url = "https://switch.example.com"
//	user = "bulk"
//	password_file = "~/.config/ensbulk/prod.password"
//	ca_file = "/etc/ssl/certs/switch-ca.pem"
//	rate = 5          # requests per second
//	workers = 4
//	timeout = "30s"   # a Go duration
//	auth = "token"    # auto, token or password
//	# insecure = true # discouraged: prefer ca_file
//
// The profile is chosen by --profile NAME, else ENSBULK_PROFILE, else the
// file's default_profile; with none of these no profile is used. Each key
// stands for the flag of the same name (password_file is --password-file).
//
// Precedence, per setting: flag > environment > profile > built-in default.
// The environment (ENSWITCH_URL, ENSWITCH_USER, ENSWITCH_PASSWORD,
// ENSWITCH_AUTH) is how ensbulk was driven before profiles and how cron
// jobs still drive it, so a profile added later does not change what an
// existing job does. One exception: where the environment and the profile
// both give the switch's identity (url, user, or a password against a
// password_file) and disagree, that is an error rather than a silent
// choice, because the mix (one switch's URL with another's password file)
// changes the wrong switch's mailboxes or sends a password to the wrong
// server. A flag settles it.
//
// The file holds no secrets: a key named password, token or pin (or a URL
// with a password in it) is refused whatever the file's mode, since config
// files are copied, shared and committed; the password lives in its own
// file named by password_file. On Unix, as ssh does for its config, the
// file is refused when it is writable by group or others (whoever can
// write it can point url at their own server and collect the password) or
// owned by someone other than the user or root, and, when it is readable by
// group or others, when it names a password file owned by someone else.
//
// Keys are checked: an unknown key is an error with the file, the line and
// the nearest valid key. (go-toml matches a key to its field regardless of
// case, so URL = "..." is read as url; harmless, and not worth a parser of
// our own.)
package profile

//
// Which flag each key stands for, and how the environment and the flags
// take precedence over it, is the command's (cmd/ensbulk): this package
// reads and checks the file.
//
// Library: github.com/pelletier/go-toml/v2. TOML because it is what Go CLIs
// use for hand-written config (no indentation traps, comments allowed);
// go-toml/v2 over BurntSushi/toml because its strict mode reports each
// unknown key with its line and column (BurntSushi's Undecoded has keys
// only), it has no dependencies, and it is actively maintained.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Fields are the keys of one profile. Pointers tell a key that is
// absent from one set to the zero value.
type Fields struct {
	URL          *string  `toml:"url"`
	User         *string  `toml:"user"`
	PasswordFile *string  `toml:"password_file"`
	CAFile       *string  `toml:"ca_file"`
	Insecure     *bool    `toml:"insecure"`
	Rate         *float64 `toml:"rate"`
	Workers      *int     `toml:"workers"`
	Timeout      *string  `toml:"timeout"`
	Auth         *string  `toml:"auth"`
}

// configFile is the whole config file.
type configFile struct {
	DefaultProfile string            `toml:"default_profile"`
	Profiles       map[string]Fields `toml:"profiles"`
}

// Profile is the chosen profile of a config file.
type Profile struct {
	Name string
	Path string // the config file it came from
	Fields
}

// Keys are the keys a profile may hold, in the order help lists them.
func Keys() []string {
	return []string{"url", "user", "password_file", "ca_file", "insecure", "rate", "workers", "timeout", "auth"}
}

// Value returns the profile's value for key as flag text; false when the
// profile does not set it.
func (p *Fields) Value(key string) (string, bool) {
	str := func(s *string) (string, bool) {
		if s == nil {
			return "", false
		}
		return *s, true
	}
	switch key {
	case "url":
		return str(p.URL)
	case "user":
		return str(p.User)
	case "password_file":
		return str(p.PasswordFile)
	case "ca_file":
		return str(p.CAFile)
	case "timeout":
		return str(p.Timeout)
	case "auth":
		return str(p.Auth)
	case "insecure":
		if p.Insecure == nil {
			return "", false
		}
		return strconv.FormatBool(*p.Insecure), true
	case "rate":
		if p.Rate == nil {
			return "", false
		}
		return strconv.FormatFloat(*p.Rate, 'f', -1, 64), true
	case "workers":
		if p.Workers == nil {
			return "", false
		}
		return strconv.Itoa(*p.Workers), true
	}
	return "", false
}

// Error is a problem with the config file or the chosen profile, found
// before anything is sent.
type Error struct {
	Path    string // config file
	Line    int    // 1-based; 0 when not known
	Profile string // "" when the problem is not in one profile
	Key     string // "" when the problem is not one key
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config ")
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Profile != "" {
		fmt.Fprintf(&b, "profile %q: ", e.Profile)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNoConfigDir is a profile named when the user's config directory,
// the default place of the config file, is not known.
var ErrNoConfigDir = errors.New("no config file")

// Options choose the config file and the profile: Config and Name as
// given on the command line, "" when not.
type Options struct {
	Config string // else ENSBULK_CONFIG, else the user's config dir
	Name   string // else ENSBULK_PROFILE, else the file's default_profile
}

// Load finds the config file and returns the chosen profile, or nil
// when no profile is chosen (none named, no default_profile, or no config
// file at the default place). getenv is os.Getenv and userConfigDir
// os.UserConfigDir outside tests. Every problem is an *Error.
func Load(o Options, getenv func(string) string, userConfigDir func() (string, error)) (*Profile, error) {
	name := firstNonEmpty(o.Name, getenv("ENSBULK_PROFILE"))
	path, explicit, err := configPath(o, name, getenv, userConfigDir)
	if err != nil || path == "" {
		return nil, err
	}
	cf, st, err := readConfig(path, name, explicit)
	if err != nil || cf == nil {
		return nil, err
	}
	if name == "" {
		name = cf.DefaultProfile
		if name == "" {
			return nil, nil
		}
	}
	fields, ok := cf.Profiles[name]
	if !ok {
		return nil, cf.noSuchProfile(path, name, o.Name == "" && getenv("ENSBULK_PROFILE") == "")
	}
	p := &Profile{Name: name, Path: path, Fields: fields}
	if err := p.resolvePaths(getenv); err != nil {
		return nil, err
	}
	if err := p.checkPasswordFileOwner(st); err != nil {
		return nil, err
	}
	return p, nil
}

// configPath is the config file to read, and whether it was named (by
// Options or ENSBULK_CONFIG) rather than found at the default place; ""
// when there is none to read and no profile is named.
func configPath(o Options, name string, getenv func(string) string, userConfigDir func() (string, error)) (string, bool, error) {
	if path := firstNonEmpty(o.Config, getenv("ENSBULK_CONFIG")); path != "" {
		return path, true, nil
	}
	dir, err := userConfigDir()
	if err != nil {
		if name == "" {
			return "", false, nil
		}
		return "", false, &Error{Path: "(default)", Profile: name, Err: fmt.Errorf("%w: %v", ErrNoConfigDir, err)}
	}
	return filepath.Join(dir, "ensbulk", "config.toml"), false, nil
}

// readConfig reads and checks the config file at path: its keys, its
// secrets and its mode. A file missing from the default place, with no
// profile named, is no config (nil, nil).
func readConfig(path, name string, explicit bool) (*configFile, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit && name == "" {
			return nil, nil, nil
		}
		pe := &Error{Path: path, Profile: name, Err: err}
		if errors.Is(err, fs.ErrNotExist) {
			pe.Err = errors.New("the config file does not exist")
		}
		return nil, nil, pe
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, &Error{Path: path, Err: err}
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, nil, &Error{Path: path, Err: err}
	}
	cf, err := parseConfig(path, buf.Bytes())
	if err != nil {
		return nil, nil, err
	}
	if err := cf.checkURLSecrets(path); err != nil {
		return nil, nil, err
	}
	if err := checkConfigMode(path, st); err != nil {
		return nil, nil, err
	}
	return cf, st, nil
}

// noSuchProfile says that the file has no profile name, and which it has;
// byDefault when the name came from default_profile.
func (cf *configFile) noSuchProfile(path, name string, byDefault bool) error {
	names := cf.profileNames()
	msg := fmt.Sprintf("no such profile; the file has: %s", strings.Join(names, ", "))
	if len(names) == 0 {
		msg = "no such profile; the file has no [profiles.NAME] tables"
	}
	if byDefault {
		msg = "default_profile names " + msg
	}
	return &Error{Path: path, Profile: name, Err: errors.New(msg)}
}

// profileNames lists a config file's profiles, sorted; for help and errors.
func (cf *configFile) profileNames() []string {
	names := make([]string, 0, len(cf.Profiles))
	for n := range cf.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// firstNonEmpty is the first of s that is not "".
func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Names lists the profiles of the config file config (else
// ENSBULK_CONFIG, else the default place), sorted, for shell completion of
// --profile. A file that is missing or that Load would refuse has none.
func Names(config string, getenv func(string) string, userConfigDir func() (string, error)) []string {
	path, explicit, err := configPath(Options{Config: config}, "", getenv, userConfigDir)
	if err != nil || path == "" {
		return nil
	}
	cf, _, err := readConfig(path, "", explicit)
	if err != nil || cf == nil {
		return nil
	}
	return cf.profileNames()
}
