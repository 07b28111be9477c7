//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package report

import "syscall"

// newPage allocates a page of the offset index outside the Go heap: the
// index is most of what a walk of a large report holds, and on the heap
// the collector would let garbage grow as large again before it runs
// (GOGC), doubling its cost in resident memory.
func newPage(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, size)
	}
	return b
}

// freePage releases a page newPage allocated; a page of the heap is left
// to the collector.
func freePage(b []byte) {
	_ = syscall.Munmap(b)
}
