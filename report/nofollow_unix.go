//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package report

import "syscall"

// noFollow makes opening the report fail on a symbolic link, so a link
// planted at its name never makes a run write another file.
const noFollow = syscall.O_NOFOLLOW
