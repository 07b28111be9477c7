package resume

import (
	"fmt"
	"strings"
)

// rowListShow is how many rows a message names before it counts the
// rest.
const rowListShow = 5

// rowList names rows for a message, from the first few (at least
// rowListShow+1 of them when there are more) and their count: "row 7",
// "rows 3, 9 and 12", "rows 3, 9, 12, 15, 20 and 41 more".
func rowList(first []int, total int) string {
	if total == 1 {
		return fmt.Sprintf("row %d", first[0])
	}
	var s []string
	for i, n := range first {
		if i == rowListShow && total > rowListShow+1 {
			s = append(s, fmt.Sprintf("%d more", total-rowListShow))
			break
		}
		s = append(s, fmt.Sprint(n))
	}
	return "rows " + joinAnd(s)
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func boxName(mailbox, customer string) string {
	if customer == "" {
		return fmt.Sprintf("%q", mailbox)
	}
	return fmt.Sprintf("%q (customer %s)", mailbox, customer)
}
