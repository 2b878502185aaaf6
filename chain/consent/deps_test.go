package consent

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the package a leaf: no networking anywhere below
// it, no other TrialChain package but chain/block, no global randomness or
// process spawning in its own imports (randomness is a parameter).
func TestDependencies(t *testing.T) {
	list := func(format string) []string {
		out, err := exec.Command("go", "list", "-f", format, ".").Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		return strings.Fields(string(out))
	}
	for _, dep := range list(`{{join .Deps " "}}`) {
		switch {
		case dep == "net" || strings.HasPrefix(dep, "net/"):
			t.Errorf("depends on %s", dep)
		case strings.HasPrefix(dep, "github.com/trialchain/trialchain/") &&
			!strings.HasPrefix(dep, "github.com/trialchain/trialchain/chain/block"):
			t.Errorf("depends on %s; chain/consent may depend only on chain/block", dep)
		}
	}
	for _, imp := range list(`{{join .Imports " "}}`) {
		switch imp {
		case "math/rand", "math/rand/v2", "os/exec", "unsafe", "reflect":
			t.Errorf("imports %s", imp)
		}
	}
}
