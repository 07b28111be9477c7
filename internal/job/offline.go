package job

import (
	"fmt"

	"github.com/ensbulk/ensbulk/batch"
)

// offlineShown is how many row errors validate --offline lists before it
// only counts them.
const offlineShown = 200

// Offline is validate --offline: local checks only, nothing sent. Row
// errors and the per-column table go to stdout (they are the data asked
// for); exit 1 when a row is invalid.
func Offline(env *Env, o *Options, path string) error {
	if err := o.Check(); err != nil {
		return err
	}
	in, cleanup, err := openInput(env, o, path, "")
	defer cleanup()
	if err != nil {
		return err
	}
	in.opts.NoHash = true // no report: the rows' digests would go unread
	if in.undo != nil {
		return usageErr("%s is an undo file: its values are the switch's own, so there is nothing to check offline; `ensbulk plan %s` shows what it would restore and what changed since", in.name, in.path)
	}
	rd, c, err := in.openChanges()
	if err != nil {
		return fileErr(err)
	}
	defer c.Close()
	invalid := 0
	for row, err := range batch.Rows(rd) {
		if err != nil {
			return fileErr(err)
		}
		if row.Err != nil {
			invalid++
			if invalid <= offlineShown {
				fmt.Fprintln(env.Stdout, row.Err.Error())
			}
		}
	}
	if invalid > offlineShown {
		fmt.Fprintf(env.Stdout, "... and %s\n", plural(invalid-offlineShown, "more invalid row", "more invalid rows"))
	}
	// The reader's own tally also counts what rows cannot carry (pins
	// given empty, so kept; columns only ever kept).
	if err := rd.Tally().WriteTable(env.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: local checks only; the server was not asked (ensbulk validate %s asks it)\n", in.name, in.path)
	if invalid > 0 {
		return Rows
	}
	return nil
}
