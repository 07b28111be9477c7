package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ownRSS is this process's resident size now, in bytes; 0 if unknown.
func ownRSS() int64 { return statusRSS("/proc/self/status") }

// pidRSS is the resident size of process pid now, in bytes; 0 if unknown.
func pidRSS(pid int) int64 { return statusRSS("/proc/" + strconv.Itoa(pid) + "/status") }

func statusRSS(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kib * 1024
		}
	}
	return 0
}

// childAttr makes the helper's child die with it: a bench killed at its
// time limit leaves no ensbulk behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
