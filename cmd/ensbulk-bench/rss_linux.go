package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// resetPeakRSS prepares for measuring a child's peak RSS and returns this
// process's resident size now (bytes), a floor under any child's figure.
//
// os/exec starts children with vfork: until exec the child runs in this
// process's memory, and Linux carries that memory's high-water mark into
// the child's maxrss. So a child of a bench that once held a large file
// would report the bench's peak, not its own. Shrinking the heap and
// resetting the high-water mark (clear_refs 5, Linux 4.0+) leaves only
// this process's current, small, resident size as the floor.
func resetPeakRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	b, err := os.ReadFile("/proc/self/status")
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
