package ensbulk_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the architecture of STYLE.md: batch imports no
// package of ours; the adapters (reader, report, enswitch) import batch and
// never each other (reader may use enswitch's field schema, simulator uses
// enswitch's codes and schema); only cmd wires everything.
func TestDependencies(t *testing.T) {
	const mod = "github.com/ensbulk/ensbulk/"
	allowed := map[string][]string{
		"batch":     {},
		"enswitch":  {"batch"},
		"reader":    {"batch", "enswitch"},
		"report":    {"batch"},
		"simulator": {"enswitch", "batch"},
		"samples":   {},
	}
	for pkg, ok := range allowed {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+pkg).Output()
			if err != nil {
				t.Fatalf("go list %s: %v", pkg, err)
			}
			for _, dep := range strings.Fields(string(out)) {
				if !strings.HasPrefix(dep, mod) {
					continue
				}
				name := strings.TrimPrefix(dep, mod)
				if name == pkg {
					continue
				}
				if !contains(ok, name) {
					t.Errorf("%s imports %s; allowed: %v", pkg, name, ok)
				}
			}
		})
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
