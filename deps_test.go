package ensbulk_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencies keeps the architecture of STYLE.md: batch imports no
// package of ours but batch/schema, the single source of field facts,
// a leaf that imports only the standard library; the adapters (reader, report,
// enswitch) import batch and never each other (the reader takes field names
// from batch/schema, not from the HTTP client; the simulator keeps its
// own response codes and takes only the schema: a code wrong in the
// client's table must not pass both sides); only cmd wires everything.
func TestDependencies(t *testing.T) {
	const mod = "github.com/ensbulk/ensbulk/"
	allowed := map[string][]string{
		"batch":             {"batch/schema"},
		"batch/schema":      {},
		"enswitch":          {"batch", "batch/schema"},
		"reader":            {"batch", "batch/schema"},
		"report":            {"batch", "batch/schema"},
		"report/resume":     {"batch", "report", "batch/schema"},
		"report/reporttest": {},
		"report/htmlpage":   {"batch", "report", "batch/schema"},
		"simulator":         {"batch/schema"},
		"samples":           {},
		// internal: the rooms of the command's infrastructure, below cmd.
		"internal/console":     {"batch", "batch/schema"}, // batch.Progress and batch.Result, shown
		"internal/gcpace":      {},
		"internal/lock":        {},
		"internal/profile":     {"batch/schema"}, // schema.Nearest, for an unknown key
		"internal/reqlog":      {"batch/schema"}, // schema.IsSecret: PINs are never logged
		"internal/snapshot":    {},
		"internal/summaryfile": {"batch", "batch/schema", "report"}, // the counts it holds; report.WriteFileAtomic
		"internal/window":      {"batch", "batch/schema"},           // batch.Sleep, the engine's cancellable wait
		"internal/undo":        {"batch", "batch/schema", "report"}, // report.WriteAtomic, report.CutTorn
		"internal/testkit":     {"batch/schema", "simulator"},       // for tests only: the simulator it serves
		// the run's job: everything below cmd but the simulator.
		"internal/job": {"batch", "enswitch", "batch/schema", "reader", "report", "report/resume",
			"internal/console", "internal/lock", "internal/profile", "internal/reqlog", "internal/snapshot",
			"internal/summaryfile", "internal/undo", "internal/window"},
		// conn: the client it makes (enswitch, reqlog's logging
		// transport) as a job.Conn, and through job all it reaches.
		"internal/conn": {"batch", "enswitch", "batch/schema", "reader", "report", "report/resume",
			"internal/console", "internal/job", "internal/lock", "internal/profile", "internal/reqlog", "internal/snapshot",
			"internal/summaryfile", "internal/undo", "internal/window"},
		// export: job's kinds and Conn (what the command maps to exit
		// codes and connects with), and through job all it reaches.
		"internal/export": {"batch", "enswitch", "batch/schema", "reader", "report", "report/resume",
			"internal/console", "internal/job", "internal/lock", "internal/profile", "internal/snapshot",
			"internal/summaryfile", "internal/undo", "internal/window"},
		// demo: the simulator it runs against, the sample it runs, and
		// job's (and all it reaches) for the report and the undo file it
		// checks; the commands themselves are passed in by cmd.
		"internal/demo": {"batch", "enswitch", "batch/schema", "reader", "report", "report/resume",
			"internal/console", "internal/job", "internal/lock", "internal/profile", "internal/snapshot",
			"internal/summaryfile", "internal/undo", "internal/window", "samples", "simulator"},
		// simserve: the simulator it serves, and job's kinds (and all job
		// reaches) for the command to map to exit codes.
		"internal/simserve": {"batch", "enswitch", "batch/schema", "reader", "report", "report/resume",
			"internal/console", "internal/job", "internal/lock", "internal/profile", "internal/snapshot",
			"internal/summaryfile", "internal/undo", "internal/window", "simulator"},
	}
	// Packages a package must not reach, even indirectly: the domain and
	// the reader know nothing of HTTP or of the logger.
	forbidden := map[string][]string{
		"batch":        {"net/http", "go.uber.org/zap"},
		"batch/schema": {"net/http"},
		"reader":       {"net/http"},
	}
	for pkg, ok := range allowed {
		t.Run(pkg, func(t *testing.T) {
			if len(forbidden[pkg]) > 0 {
				for _, dep := range listDeps(t, "./"+pkg) {
					if slices.Contains(forbidden[pkg], dep) {
						t.Errorf("%s depends on %s", pkg, dep)
					}
				}
			}
			for _, dep := range listDeps(t, "./"+pkg) {
				if !strings.HasPrefix(dep, mod) {
					continue
				}
				name := strings.TrimPrefix(dep, mod)
				if name == pkg {
					continue
				}
				if !slices.Contains(ok, name) {
					t.Errorf("%s imports %s; allowed: %v", pkg, name, ok)
				}
			}
		})
	}
}

// listDeps returns the import paths the packages depend on, themselves
// included.
func listDeps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", pkgs, err)
	}
	return strings.Fields(string(out))
}
