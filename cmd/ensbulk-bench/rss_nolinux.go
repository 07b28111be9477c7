//go:build !linux

package main

// resetPeakRSS does nothing where children do not inherit the parent's
// high-water mark (or where it cannot be reset).
func resetPeakRSS() int64 { return 0 }
