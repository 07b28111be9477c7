//go:build !unix

package main

import (
	"os"
	"time"
)

// maxRSS is unknown on this platform.
func maxRSS(*os.ProcessState) int64 { return 0 }

// cpuTime is the user+system CPU time of a finished process.
func cpuTime(ps *os.ProcessState) time.Duration { return ps.UserTime() + ps.SystemTime() }

// selfCPU is unknown on this platform.
func selfCPU() time.Duration { return 0 }
