package demo

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/reader"
	"github.com/ensbulk/ensbulk/report"
	"github.com/ensbulk/ensbulk/simulator"
)

// checkRun shows the rows of the run's report that did not go through,
// then checks that the simulator holds what the ok rows set.
func checkRun(out io.Writer, f *files, sim *simulator.Server) error {
	ok, err := failures(out, f.report)
	if err != nil {
		return err
	}
	checked, mismatched, err := verify(f.input, ok, sim)
	if err != nil {
		return err
	}
	holds := "mailboxes hold"
	if checked == 1 {
		holds = "mailbox holds"
	}
	fmt.Fprintf(out, "\nchecked against the simulator: %d %s exactly what their ok rows set", checked, holds)
	if mismatched > 0 {
		fmt.Fprintf(out, "; %d DO NOT", mismatched)
	}
	fmt.Fprintln(out, ".")
	if mismatched > 0 {
		return fmt.Errorf("demo: %d mailboxes differ from their ok rows", mismatched)
	}
	return nil
}

// failures writes a table of the report's rows that are not ok and
// returns the numbers of those that are.
func failures(out io.Writer, reportPath string) (map[int]bool, error) {
	lr, err := report.OpenLatest(reportPath)
	if err != nil {
		return nil, err
	}
	defer lr.Close()
	fmt.Fprintf(out, "\nrows that did not go through (from %s):\n", reportPath)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  row\tmailbox\tstatus\tphase\tcode\tkey\tmessage")
	ok := map[int]bool{} // the demo's sample is a few dozen rows
	for r, err := range lr.All() {
		if err != nil {
			return nil, err
		}
		if r.Status == string(batch.StatusOK) {
			ok[r.Row] = true
			continue
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Row, r.Mailbox, r.Status, r.Phase, dash(r.Code), dash(r.Key), r.Message)
	}
	return ok, tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mailboxKey names a mailbox of the simulator.
type mailboxKey struct {
	customer int
	mailbox  string
}

// verify replays the ok rows of the report, in file order, and checks
// that the simulator's mailboxes hold the values they set.
func verify(input string, ok map[int]bool, sim *simulator.Server) (checked, mismatched int, err error) {
	want, err := wanted(input, ok)
	if err != nil {
		return 0, 0, err
	}
	for k, fields := range want {
		got, ok := sim.Mailbox(k.customer, k.mailbox)
		same := ok
		for f, v := range fields {
			if f != "customer" && got[f] != v {
				same = false
			}
		}
		if same {
			checked++
		} else {
			mismatched++
		}
	}
	return checked, mismatched, nil
}

// wanted is what the ok rows of input leave in each mailbox they set,
// the later rows of a mailbox over the earlier.
func wanted(input string, ok map[int]bool) (map[mailboxKey]map[string]string, error) {
	format, err := reader.DetectFormat(input, "")
	if err != nil {
		return nil, err
	}
	src, c, err := reader.Open(input, reader.Options{Format: format})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	want := map[mailboxKey]map[string]string{}
	for row, err := range batch.Rows(src) {
		if err != nil {
			return nil, err
		}
		if !ok[row.Num] {
			continue
		}
		cust, _ := strconv.Atoi(row.Customer)
		k := mailboxKey{cust, row.Mailbox}
		if want[k] == nil {
			want[k] = map[string]string{}
		}
		for _, p := range row.Params {
			want[k][p.Name] = p.Value
		}
	}
	return want, nil
}
