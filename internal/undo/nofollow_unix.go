//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package undo

import "syscall"

// noFollow makes opening a file fail on a symbolic link, so a link
// planted at an undo file's name never makes a run write another file.
const noFollow = syscall.O_NOFOLLOW
