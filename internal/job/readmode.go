package job

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/enswitch"
	"github.com/ensbulk/ensbulk/internal/summaryfile"
)

// How run and plan read the mailboxes before they write (--read), and
// what they say the run will cost before it starts. docs/operating-cost.md
// is the operator's account of the modes.

// Read modes (--read), as recorded in a run's sidecar (report.Meta.Read).
const (
	// readAuto lists the customers with AutoListRows rows or more in the
	// file, and reads the others' rows by get.
	readAuto = "auto"
	// readList lists every customer the file names.
	readList = "list"
	// readGet reads each row's mailbox by get just before its update.
	readGet = "get"
	// readNone reads nothing (--no-read): every valid row is sent, no
	// undo file.
	readNone = "none"
)

// AutoListRows is how many rows of one customer make --read auto list
// it. A list is one request however many rows it decides, but carries
// the whole customer (some 500 bytes a mailbox); a get is a request a
// row. From 20 rows a list saves 19 requests or more, at the rate a
// switch operator allows (5-10 a second) 2-4 s, which covers the
// transfer of a 10,000-mailbox list (~5 MB) on any link the API is used
// over; below it, a handful of gets costs less than a large customer's
// list.
const AutoListRows = 20

// readMode is the mode this invocation reads in: --read, with --no-read
// as --read none.
func (r *Options) readMode() (string, error) {
	mode := r.Read
	if mode == "" {
		mode = readAuto
	}
	switch mode {
	case readAuto, readList, readGet, readNone:
	default:
		return "", usageErr("--read %q: want auto, list, get or none", r.Read)
	}
	if r.NoRead {
		if mode != readAuto && mode != readNone {
			return "", usageErr("--no-read and --read %s do not go together: --no-read is --read none", mode)
		}
		mode = readNone
	}
	if r.Plan && mode == readNone {
		return "", usageErr("plan reads every row's mailbox to show what it changes: --read none (--no-read) is for run")
	}
	return mode, nil
}

// readsBefore says whether a run in this recorded read mode read each
// mailbox before its update, so that its undo file covers every update
// it sent: every mode but none does (with list, a changed row is still
// read by get just before its update).
func readsBefore(mode string) bool {
	switch mode {
	case readGet, readList, readAuto:
		return true
	}
	return false
}

// listRows is batch.Options.ListRows for a read mode.
func listRows(mode string) int {
	switch mode {
	case readAuto:
		return AutoListRows
	case readList:
		return 1
	}
	return 0
}

// listing sets the engine's lists for the invocation's read mode, and
// says when one failed.
func (j *job) listing(opts *batch.Options) error {
	mode, err := j.o.readMode()
	if err != nil {
		return err
	}
	if opts.ListRows = listRows(mode); opts.ListRows == 0 {
		return nil
	}
	opts.Lister = ownCustomerSender{j.conn.Client}
	log, w := j.log, j.errw
	opts.OnList = func(r batch.ListReport) {
		who := "customer " + r.Customer
		if r.Customer == "" {
			who = "the user's own customer"
		}
		if r.Err != nil {
			msg := r.Err.Error()
			var be *batch.Error
			if errors.As(r.Err, &be) && be.Message != "" {
				msg = be.Message
			}
			fmt.Fprintf(w, "ensbulk: warning: %s; %s of %s are read one by one (mailboxes/get) instead: a list that is not whole decides nothing\n",
				msg, plural(r.Rows, "row", "rows"), who)
			log.Warn("mailboxes/list failed; rows read by get", zap.String("customer", r.Customer), zap.Int("rows", r.Rows), zap.Error(r.Err))
			return
		}
		log.Info("mailboxes/list", zap.String("customer", r.Customer), zap.Int("rows", r.Rows),
			zap.Int("mailboxes_named", r.Listed), zap.Int("unchanged", r.Unchanged))
	}
	return nil
}

// workload has the engine hand over what the run will send, and says
// it (plan and run) before the first row is validated.
func (j *job) workload(opts *batch.Options) {
	o, w := j.o, j.errw
	opts.OnWorkload = func(wl batch.Workload) {
		j.estimate = &wl
		j.rec.setEstimate(wl, o.Rate)
		if err := j.rec.writeOutcome(summaryfile.Running); err != nil {
			j.log.Warn("--summary-json: not written", zap.Error(err))
		}
		if o.Validate || o.Quiet {
			return
		}
		verb := "run"
		if o.Plan {
			verb = "plan"
		}
		fmt.Fprintf(w, "ensbulk %s: %s\n", verb, estimateLine(wl, o.Rate))
	}
}

// estimateLine says what a run will send and how long that takes at
// rate: "1,503 requests, about 5 min at --rate 5", then what they are.
func estimateLine(wl batch.Workload, rate float64) string {
	s := counted(wl.Requests(), "request", "requests")
	switch {
	case rate <= 0:
		s += ", as fast as the server answers at --rate 0"
	default:
		s += ", " + about(wl.Duration(rate)) + " at --rate " + strconv.FormatFloat(rate, 'f', -1, 64)
	}
	var parts []string
	if wl.Lists > 0 {
		parts = append(parts, fmt.Sprintf("%s sent (%s found unchanged)", plural(wl.Lists, "list", "lists"), counted(int64(wl.Unchanged), "row", "rows")))
	}
	if wl.Validate > 0 {
		parts = append(parts, commas(int64(wl.Validate))+" to validate")
	}
	if wl.Reads > 0 {
		parts = append(parts, counted(int64(wl.Reads), "read", "reads"))
	}
	if wl.Updates > 0 {
		parts = append(parts, counted(int64(wl.Updates), "update", "updates"))
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

// costLine is the summary's account of the cost, after the fact, beside
// the estimate the run started with: "cost: 1,502 requests in 5 min 1 s
// at --rate 5 (estimated before the start: 1,503 requests, about 5
// min)". "" when the engine gave no estimate (it stopped before it could).
func costLine(sum *batch.Summary, est *batch.Workload, rate float64) string {
	if est == nil || sum == nil {
		return ""
	}
	s := fmt.Sprintf("cost: %s in %s", counted(sum.Requests, "request", "requests"), sum.Duration.Round(time.Second))
	if rate > 0 {
		s += " at --rate " + strconv.FormatFloat(rate, 'f', -1, 64)
	}
	s += " (estimated before the start: " + counted(est.Requests(), "request", "requests")
	if rate > 0 {
		s += ", " + about(est.Duration(rate))
	}
	return s + ")"
}

// counted is plural with thousands separators: "1,503 requests".
func counted(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return commas(n) + " " + many
}

// commas writes n with thousands separators: 10,000.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// about rounds a duration for a person: "about 5 min", "about 1 min 40
// s", "about 2 h 5 min", "under a second".
func about(d time.Duration) string {
	switch {
	case d < time.Second:
		return "under a second"
	case d < time.Minute:
		return fmt.Sprintf("about %d s", int(d.Round(time.Second)/time.Second))
	case d < 10*time.Minute:
		d = d.Round(10 * time.Second)
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("about %d min", m)
		}
		return fmt.Sprintf("about %d min %d s", m, s)
	case d < time.Hour:
		return fmt.Sprintf("about %d min", int(d.Round(time.Minute)/time.Minute))
	}
	d = d.Round(5 * time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m == 0 {
		return fmt.Sprintf("about %d h", h)
	}
	return fmt.Sprintf("about %d h %d min", h, m)
}

// List implements batch.Lister: mailboxes/list, streamed, with only the
// mailboxes want names decoded into values.
func (s ownCustomerSender) List(ctx context.Context, customer string, want func(string) bool, fn func(string, batch.Values) error) error {
	return s.cl.EachMailbox(ctx, customer, func(m enswitch.Mailbox) error {
		mb, present, null := m.Value("mailbox")
		if !present || null || !want(mb) {
			return nil
		}
		return fn(mb, enswitch.Values(m))
	})
}
