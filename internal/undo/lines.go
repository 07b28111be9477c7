package undo

import (
	"bytes"
	"os"
)

// backwardLines calls fn with every line of f from byte from (the
// start of a line) to size, last line first, with its 1-based number in
// the file (total is the last's), holding one chunk and one line in
// memory.
func backwardLines(f *os.File, from, size int64, total int, fn func(n int, line []byte) error) error {
	const chunk = 64 << 10
	var carry []byte // the end of a line whose start is further back
	n := total
	pos := size
	// After the range's last newline there is a line only when something
	// follows it; anywhere else an empty segment is an empty line, which
	// scanCount numbers too.
	end := true
	for pos > from {
		k := min(int64(chunk), pos-from)
		pos -= k
		buf := make([]byte, k, int(k)+len(carry))
		if _, err := f.ReadAt(buf, pos); err != nil {
			return err
		}
		buf = append(buf, carry...)
		for {
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 {
				break
			}
			if line := buf[i+1:]; !end || len(line) > 0 {
				if len(bytes.TrimSpace(line)) > 0 {
					if err := fn(n, line); err != nil {
						return err
					}
				}
				n--
			}
			end = false
			buf = buf[:i]
		}
		carry = append([]byte(nil), buf...)
	}
	if len(carry) > 0 {
		return fn(n, carry)
	}
	return nil
}
