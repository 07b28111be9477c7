package batch

import "math/bits"

// RowSet is a set of row numbers, a bit each: what the engine and a resume
// plan keep per row, so that their memory stays a fixed few bits a row.
type RowSet []uint64

// Set adds row i.
func (b *RowSet) Set(i int) {
	w := i / 64
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) % 64)
}

// Has reports whether row i is in the set.
func (b RowSet) Has(i int) bool {
	w := i / 64
	return w < len(b) && b[w]&(1<<(uint(i)%64)) != 0
}

// And keeps the rows of b that are also in o, and returns how many.
func (b RowSet) And(o RowSet) int {
	n := 0
	for i := range b {
		if i < len(o) {
			b[i] &= o[i]
		} else {
			b[i] = 0
		}
		n += bits.OnesCount64(b[i])
	}
	return n
}
