package smt_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestForbiddenImports keeps the package pure: it may import only the
// standard library (no clock, network, filesystem or randomness) and
// chain/block.
func TestForbiddenImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string]bool{"os": true, "net": true, "time": true, "math/rand": true, "math/rand/v2": true, "crypto/rand": true, "unsafe": true}
	for _, imp := range strings.Fields(string(out)) {
		switch {
		case forbidden[imp]:
			t.Errorf("chain/smt imports %s", imp)
		case strings.Contains(imp, ".") && imp != "github.com/trialchain/trialchain/chain/block":
			t.Errorf("chain/smt imports %s; only the standard library and chain/block are allowed", imp)
		}
	}
}
