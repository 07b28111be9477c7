//go:build !linux

package main

import "syscall"

// ownRSS is not known here.
func ownRSS() int64 { return 0 }

// pidRSS is not known here.
func pidRSS(int) int64 { return 0 }

// childAttr has no parent-death signal to set here.
func childAttr() *syscall.SysProcAttr { return nil }
