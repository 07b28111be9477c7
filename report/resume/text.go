package resume

import (
	"fmt"
	"strings"
)

// rowList names rows for a message: "row 7", "rows 3, 9 and 12", "rows 3,
// 9, 12, 15, 20 and 41 more".
func rowList(rows []int) string {
	const show = 5
	if len(rows) == 1 {
		return fmt.Sprintf("row %d", rows[0])
	}
	var s []string
	for i, n := range rows {
		if i == show && len(rows) > show+1 {
			s = append(s, fmt.Sprintf("%d more", len(rows)-show))
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
