package reader

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the dependencies pointing inward: the reader adapts
// bytes to batch rows and takes names from enswitch; it knows nothing of
// reports, the command or the simulator.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"github.com/ensbulk/ensbulk/batch":    true,
		"github.com/ensbulk/ensbulk/enswitch": true,
	}
	for _, imp := range pkg.Imports {
		if strings.Contains(imp, ".") && !allowed[imp] {
			t.Errorf("reader imports %s; it may import only batch and enswitch beyond the standard library", imp)
		}
	}
}
