package reader

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the dependencies pointing inward: the reader adapts
// bytes to batch rows and takes field names from batch/schema; it knows
// nothing of the HTTP client, reports, the command or the simulator.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"github.com/ensbulk/ensbulk/batch":        true,
		"github.com/ensbulk/ensbulk/batch/schema": true,
	}
	for _, imp := range pkg.Imports {
		if strings.Contains(imp, ".") && !allowed[imp] {
			t.Errorf("reader imports %s; it may import only batch and batch/schema beyond the standard library", imp)
		}
		if imp == "net/http" {
			t.Errorf("reader imports net/http: it reads files, it does not talk to servers")
		}
	}
}
