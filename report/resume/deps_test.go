package resume

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps planning apart from how inputs are read and sent
// and from the command line: of this module it reaches only batch and
// report (and batch/schema, the field facts batch takes), and it
// imports neither cobra nor zap itself.
func TestDependencies(t *testing.T) {
	const mod = "github.com/ensbulk/ensbulk/"
	allowed := map[string]bool{mod + "batch": true, mod + "report": true, mod + "report/resume": true, mod + "batch/schema": true}
	for _, dep := range goList(t, "{{.ImportPath}}", "-deps") {
		if strings.HasPrefix(dep, mod) && !allowed[dep] {
			t.Errorf("report/resume depends on %s; want only batch, report and batch/schema of this module", dep)
		}
	}
	for _, imp := range goList(t, `{{join .Imports "\n"}}`) {
		if strings.Contains(imp, "cobra") || strings.Contains(imp, "zap") {
			t.Errorf("report/resume imports %s; want no cobra or zap", imp)
		}
	}
}

func goList(t *testing.T, format string, flags ...string) []string {
	t.Helper()
	args := append(append([]string{"list"}, flags...), "-f", format, ".")
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go %v: %v", args, err)
	}
	return strings.Fields(string(out))
}
