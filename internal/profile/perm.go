package profile

import (
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"runtime"
)

// checkConfigMode refuses, as ssh does for its config, a config file that
// someone other than its user could have written.
func checkConfigMode(path string, st fs.FileInfo) error {
	if runtime.GOOS == "windows" {
		return nil // modes and uids mean nothing there; ACLs are not checked
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return &Error{Path: path, Err: fmt.Errorf("writable by group or others (mode %v): whoever can write it can point url at their own server and collect the password; chmod 600 %s", perm, path)}
	}
	if uid, ok := fileOwner(st); ok && uid != 0 && int64(uid) != int64(os.Getuid()) {
		return &Error{Path: path, Err: fmt.Errorf("owned by uid %d, not by you (uid %d) or root", uid, os.Getuid())}
	}
	return nil
}

// checkPasswordFileOwner refuses a config file readable by group or others
// that names a password file owned by someone else than the config file's
// owner: such a file is shared, and the profile borrows another account's
// credential through it.
func (p *Profile) checkPasswordFileOwner(cst fs.FileInfo) error {
	if runtime.GOOS == "windows" || p.PasswordFile == nil || *p.PasswordFile == "" || cst.Mode().Perm()&0o077 == 0 {
		return nil
	}
	pst, err := os.Stat(*p.PasswordFile)
	if err != nil {
		return nil // reading the password reports it, with the flag's name
	}
	cuid, ok1 := fileOwner(cst)
	puid, ok2 := fileOwner(pst)
	if ok1 && ok2 && cuid != puid {
		return &Error{Path: p.Path, Profile: p.Name, Key: "password_file", Err: fmt.Errorf("the config file is readable by others (mode %v) and names %s, owned by uid %d, not by the config file's owner (uid %d); chmod 600 the config file or use a password file of your own", cst.Mode().Perm(), *p.PasswordFile, puid, cuid)}
	}
	return nil
}

// fileOwner returns the uid of a file on Unix. It reads the Uid field by
// reflection so that this one file builds on Windows too (syscall.Stat_t
// does not exist there).
func fileOwner(st fs.FileInfo) (uint64, bool) {
	v := reflect.ValueOf(st.Sys())
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 0, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0, false
	}
	f := v.FieldByName("Uid")
	if !f.IsValid() || !f.CanUint() {
		return 0, false
	}
	return f.Uint(), true
}
