package job

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

// Staging (issue 24): run's --canary, --max-failures and --verify, and
// run --plan, which applies an approved plan report. The engine's side
// is batch/stage.go; this file turns the flags into batch.Options, the
// engine's typed stops into words, and checks the plan report.

// checkStage checks --max-failures and refuses what does not go
// together.
func (o *Options) checkStage() error {
	if o.Canary < 0 {
		return usageErr("--canary %d: want a number of rows, at least 1", o.Canary)
	}
	if _, err := parseMaxFailures(o.MaxFailures); err != nil {
		return err
	}
	if o.FromPlan != "" {
		switch {
		case o.NoRead:
			return usageErr("--plan and --no-read do not go together: a plan is applied only where each mailbox still holds the plan's old values, which takes the read")
		case o.Force:
			return usageErr("--plan and --force do not go together: a plan is applied only where the switch still holds the plan's old values; plan again to approve what it holds now")
		case o.RetryFailed != "":
			return usageErr("--plan and --retry-failed do not go together: plan the corrected input again, and run that plan")
		}
	}
	return nil
}

// parseMaxFailures reads N or P%: "" is no limit (nil).
func parseMaxFailures(s string) (*batch.FailureLimit, error) {
	if s == "" {
		return nil, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v > 0 && v < 100) {
			return nil, usageErr("--max-failures %s: want a percentage above 0%% and below 100%%, e.g. 5%%", s)
		}
		return &batch.FailureLimit{Percent: v}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, usageErr("--max-failures %s: want a number of rows (0: stop at the first failure) or a percentage, e.g. 10 or 5%%", s)
	}
	return &batch.FailureLimit{Rows: n}, nil
}

// stage sets the engine's staging options: the read-back of --verify and
// of a canary, the canary, the failure limit, and a log of the canary's
// rows for the summary.
func (j *job) stage(opts *batch.Options) {
	o := j.o
	if o.Validate || o.Plan {
		return
	}
	if o.Verify || o.Canary > 0 {
		opts.ReadBack = ownCustomerSender{j.conn.Client}
	}
	opts.Canary = o.Canary
	opts.MaxFailures, _ = parseMaxFailures(o.MaxFailures) // checked by Check
	if o.Canary > 0 {
		next := opts.OnResult
		opts.OnResult = func(r batch.Result) {
			if r.Phase == batch.PhaseApply && r.Status != batch.StatusSkipped && len(j.canaryLog) < maxCanaryShown {
				j.canaryLog = append(j.canaryLog, r)
			}
			if next != nil {
				next(r)
			}
		}
		if j.in.path != "-" && j.env.StdinTerminal != nil && j.env.StdinTerminal() && j.env.StderrTerminal && !o.Quiet {
			opts.AfterCanary = j.askAfterCanary
		}
	}
}

// maxCanaryShown bounds the canary rows the summary lists (a canary is
// meant to be small; a large one is summed up by the report).
const maxCanaryShown = 50

// askAfterCanary asks, on a terminal, whether to go on after a clean
// canary. Anything but y or yes stops, as off a terminal.
func (j *job) askAfterCanary(ctx context.Context, r batch.CanaryReport) bool {
	w := j.errw
	fmt.Fprintf(w, "\ncanary: %s ok and read back as sent:\n", plural(r.Rows, "row", "rows"))
	j.printCanary(w)
	fmt.Fprintf(w, "go on with the %s left? [y/N] ", plural(r.Left, "row", "rows"))
	line, err := bufio.NewReader(j.env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) || ctx.Err() != nil {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// wordStop puts an engine's typed stop into the command's words (flag
// names): the summary's outcome line and --summary-json's reason.
func (j *job) wordStop(sum *batch.Summary) {
	if sum == nil || sum.Stopped == nil {
		return
	}
	var ce *batch.CanaryError
	var fe *batch.FailureLimitError
	switch {
	case errors.As(sum.Stopped, &ce) && ce.Clean:
		sum.Stopped.Reason = fmt.Sprintf("--canary %d: every canary row ok and read back as sent; %s left, not sent", ce.Rows, plural(ce.Left, "row", "rows"))
	case errors.As(sum.Stopped, &ce):
		sum.Stopped.Reason = fmt.Sprintf("--canary %d: NOT every canary row is ok and read back as sent (see below); %s left, not sent", ce.Rows, plural(ce.Left, "row", "rows"))
	case errors.As(sum.Stopped, &fe):
		sum.Stopped.Reason = fmt.Sprintf("--max-failures %s: %d of %s sent failed at apply", j.o.MaxFailures, fe.Failed, plural(int(fe.Sent), "row", "rows"))
	}
}

// printStage says what the staging did: the canary's rows, the
// read-back, the plan applied.
func (j *job) printStage(w io.Writer, sum *batch.Summary) {
	o := j.o
	if o.Quiet || sum == nil {
		return
	}
	var ce *batch.CanaryError
	if sum.Stopped != nil && errors.As(sum.Stopped, &ce) {
		fmt.Fprintf(w, "\ncanary: what the %s changed:\n", plural(ce.Rows, "row", "rows"))
		j.printCanary(w)
	}
	if rb := sum.ReadBack; o.Verify || o.Canary > 0 {
		fmt.Fprintf(w, "read back after the update: %d as sent, %d differ (mismatch), %d not read back\n", rb.Verified, rb.Mismatched, rb.Unverified)
	}
	if o.FromPlan != "" || j.plan.Meta.Plan != "" {
		fmt.Fprintf(w, "plan applied: %s; a row whose mailbox changed since the plan is conflict, not sent: plan again to see it\n", firstNonEmpty(o.FromPlan, j.plan.Meta.Plan))
	}
}

// printCanary lists the canary rows, in row order: status, mailbox,
// what changed.
func (j *job) printCanary(w io.Writer) {
	slices.SortFunc(j.canaryLog, func(a, b batch.Result) int { return a.Row - b.Row })
	for _, r := range j.canaryLog {
		what := report.FormatChanges(r.Changes)
		if r.Status != batch.StatusOK && r.Status != batch.StatusUnchanged || what == "" {
			what = strings.TrimSpace(what + " " + r.Message)
		}
		fmt.Fprintf(w, "  row %-6d %-9s mailbox %s", r.Row, r.Status, r.Mailbox)
		if r.Customer != "" {
			fmt.Fprintf(w, " (customer %s)", r.Customer)
		}
		fmt.Fprintf(w, ": %s\n", what)
	}
	if n := j.o.Canary; len(j.canaryLog) == maxCanaryShown && n > maxCanaryShown {
		fmt.Fprintf(w, "  (the first %d shown; the report has every row)\n", maxCanaryShown)
	}
}

// stageMeta records the staging in a new report's sidecar.
func stageMeta(m *report.Meta, o *Options, in *input) {
	if o.Validate || o.Plan {
		return
	}
	m.Canary = o.Canary
	m.Verify = o.Verify
	if in.approved != nil {
		m.Plan, m.PlanSHA256 = in.approved.path, in.approved.sha256
	}
}

// planAgain is the next step after a run of a plan with rows not applied
// as planned (a conflict: the mailbox changed since): a new plan of the
// input, in a report of its own, to be approved and run with --plan. A
// retry would send those rows without the plan's checks.
func planAgain(reportPath string, meta report.Meta) string {
	stem := strings.TrimSuffix(PlanPath(meta.Input, meta.Format), ".plan."+string(meta.Format))
	p := ""
	for i := 2; ; i++ {
		p = fmt.Sprintf("%s.Plan%d.%s", stem, i, meta.Format)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	meta.Mode, meta.Format = "plan", report.CSV
	return commandLine("plan", meta, "--report", shellQuote(p))
}
