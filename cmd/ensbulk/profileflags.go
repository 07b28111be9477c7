package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ensbulk/ensbulk/internal/profile"
)

// How a named profile (internal/profile) fills the flags of a command.
//
// The profile is chosen by --profile NAME, else ENSBULK_PROFILE, else the
// file's default_profile. Each key stands for the flag of the same name
// (password_file is --password-file). Precedence, per setting: flag >
// environment > profile > built-in default; where the environment and
// the profile disagree on the switch's identity, that is an error (see
// applyProfile).

// profileOptions holds --config and --profile.
type profileOptions struct {
	config  string
	profile string
}

// addFlags declares --config and --profile on fs.
func (o *profileOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.config, "config", "", "config file of named profiles (env ENSBULK_CONFIG; default: <user config dir>/ensbulk/config.toml)")
	fs.StringVar(&o.profile, "profile", "", "named connection profile from the config file (env ENSBULK_PROFILE; default: the file's default_profile)")
}

// loadProfile is the profile --config and --profile choose, or nil.
func loadProfile(o profileOptions, getenv func(string) string, userConfigDir func() (string, error)) (*profile.Profile, error) {
	p, err := profile.Load(profile.Options{Config: o.config, Name: o.profile}, getenv, userConfigDir)
	var pe *profile.Error
	if errors.Is(err, profile.ErrNoConfigDir) && errors.As(err, &pe) {
		pe.Err = fmt.Errorf("%w; pass --config PATH", pe.Err)
	}
	return p, err
}

// profileKey ties a profile key to its flag and environment variable.
type profileKey struct {
	key, flag, env string
	// identity keys say which switch and account: the environment and the
	// profile must not disagree on them.
	identity bool
	// pace keys tune a batch's pace; a command that sends no batch
	// (export) has no such flag and takes the rest of the profile.
	pace bool
}

// profileKeys are the keys of profile.Keys with their flags, in its
// order.
func profileKeys() []profileKey {
	return []profileKey{
		{key: "url", flag: "url", env: "ENSWITCH_URL", identity: true},
		{key: "user", flag: "user", env: "ENSWITCH_USER", identity: true},
		{key: "password_file", flag: "password-file", env: "ENSWITCH_PASSWORD", identity: true},
		{key: "ca_file", flag: "ca-file"},
		{key: "insecure", flag: "insecure"},
		{key: "rate", flag: "rate", pace: true},
		{key: "workers", flag: "workers", pace: true},
		{key: "timeout", flag: "timeout"},
		{key: "auth", flag: "auth", env: "ENSWITCH_AUTH"},
	}
}

// applyProfile sets, through fs.Set (so each flag's own parsing runs), every
// flag the profile names that was not given on the command line and whose
// environment variable is unset or empty: flag > environment > profile >
// default. Where the environment and the profile disagree on the switch's
// identity (url, user; a password against a password_file) it is an error
// unless the flag was given. A FlagSet without --url belongs to a command
// that talks to no switch (demo, sim, summary): nothing is applied, as
// demo's --rate paces its own simulator, not a switch. On a command with
// connection flags, a key whose flag is missing is an error.
func applyProfile(fs *pflag.FlagSet, p *profile.Profile, getenv func(string) string) error {
	if p == nil || fs.Lookup("url") == nil {
		return nil
	}
	same := sameAccount(p, getenv)
	for _, k := range profileKeys() {
		if err := applyKey(fs, p, k, getenv, same); err != nil {
			return &profile.Error{Path: p.Path, Profile: p.Name, Key: k.key, Err: err}
		}
	}
	return nil
}

// sameAccount says whether the environment names the profile's own switch
// and user (a cron line's env file beside a config's default_profile):
// that is the same account, and its password is the account's, not a
// second one.
func sameAccount(p *profile.Profile, getenv func(string) string) bool {
	same := true
	for _, k := range profileKeys() {
		if k.key == "url" || k.key == "user" {
			v, ok := p.Value(k.key)
			ev := envValue(getenv, k.env)
			same = same && ok && ev != "" && sameSetting(k.key, ev, v)
		}
	}
	return same
}

// applyKey sets k's flag to the profile's value, unless the profile has
// none or the command line or the environment sets it; an error when the
// command has no such flag or the environment names another switch or
// account (sameAccount: the environment names the profile's).
func applyKey(fs *pflag.FlagSet, p *profile.Profile, k profileKey, getenv func(string) string, sameAccount bool) error {
	v, ok := p.Value(k.key)
	if !ok {
		return nil
	}
	f := fs.Lookup(k.flag)
	switch {
	case f == nil && k.pace:
		return nil // export: one request at a time, no pace to set
	case f == nil:
		return fmt.Errorf("this command has no --%s flag", k.flag)
	case f.Changed:
		return nil
	}
	if ev := envValue(getenv, k.env); ev != "" {
		if k.identity && !sameSetting(k.key, ev, v) && !(k.key == "password_file" && sameAccount) {
			return conflictError(k, ev, v)
		}
		return nil
	}
	return fs.Set(k.flag, v)
}

// envValue is the environment variable name, "" when the key has none.
func envValue(getenv func(string) string, name string) string {
	if name == "" {
		return ""
	}
	return getenv(name)
}

// sameSetting reports whether the environment's value agrees with the
// profile's. A password in the environment never agrees with a
// password_file: their contents are not compared.
func sameSetting(key, env, prof string) bool {
	switch key {
	case "password_file":
		return false
	case "url":
		return strings.TrimRight(env, "/") == strings.TrimRight(prof, "/")
	}
	return env == prof
}

// conflictError says what to do when the environment and the profile
// disagree on the switch.
func conflictError(k profileKey, env, prof string) error {
	if k.key == "password_file" {
		return fmt.Errorf("ENSWITCH_PASSWORD is set and the profile names password_file %s: which password is meant? unset ENSWITCH_PASSWORD, or pass --password-file", prof)
	}
	return fmt.Errorf("%s=%s is set but the profile says %s: which switch is meant? unset %s, or pass --%s", k.env, env, prof, k.env, k.flag)
}

// completeProfiles has shell completion offer, for --profile, the profiles
// of the config file that --config (or ENSBULK_CONFIG, or the default
// place) names.
func completeProfiles(c *cobra.Command, env *Env) {
	if c.Flags().Lookup("profile") == nil {
		return
	}
	_ = c.RegisterFlagCompletionFunc("profile", func(c *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		config, _ := c.Flags().GetString("config")
		var out []string
		for _, n := range profile.Names(config, env.Getenv, env.userConfigDir) {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}
