package reader

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
)

// syntheticHeader is the header WriteSyntheticCSV writes.
var syntheticHeader = []string{"mailbox", "customer", "description", "envelope", "notify_email", "pager", "pin", "timezone"}

// WriteSyntheticCSV writes a header and rows of realistic mailbox changes, for
// benchmarks and rehearsals at scale. The output depends only on rows, and
// every row passes the local checks. Row i (from 0) is for mailbox 100000+i
// of customer 1+i%10; pins, emails and time zones vary; about one row in
// eight keeps its pin (empty cell), one in sixteen clears its pager
// (<empty>), and some descriptions need CSV quoting.
func WriteSyntheticCSV(w io.Writer, rows int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(syntheticHeader); err != nil {
		return err
	}
	zones := []string{"Europe/London", "Europe/Paris", "America/New_York", "America/Chicago", "Australia/Sydney", ""}
	depts := []string{"Sales", "Support", "Accounts", "Reception, front desk", "Warehouse \"B\"", "Engineering"}
	notify := []string{"owner", "owner_wav", "", DefaultEmptyToken}
	rec := make([]string, len(syntheticHeader))
	// A fixed xorshift sequence: varied values, the same on every run, and
	// no global random source.
	x := uint32(2463534242)
	next := func(n int) int {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return int(x % uint32(n))
	}
	for i := 0; i < rows; i++ {
		mbox := strconv.Itoa(100000 + i)
		rec[0] = mbox
		rec[1] = strconv.Itoa(1 + i%10)
		rec[2] = depts[next(len(depts))] + " " + mbox
		rec[3] = strconv.Itoa(next(2))
		rec[4] = notify[next(len(notify))]
		switch next(16) {
		case 0:
			rec[5] = DefaultEmptyToken
		case 1, 2, 3:
			rec[5] = ""
		default:
			rec[5] = "vm" + mbox + "@example.com"
		}
		if next(8) == 0 {
			rec[6] = ""
		} else {
			rec[6] = strconv.Itoa(1000 + next(9000))
		}
		rec[7] = zones[next(len(zones))]
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
