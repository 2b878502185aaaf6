package bundle

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the verifier offline and out of the domain: no
// networking below it, no CLI, no node, no trial code.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Deps " "}}`, ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net" || strings.HasPrefix(dep, "net/"),
			strings.Contains(dep, "spf13/cobra"),
			strings.HasPrefix(dep, "github.com/trialchain/trialchain/") && !strings.HasPrefix(dep, "github.com/trialchain/trialchain/chain/block") &&
				!strings.HasPrefix(dep, "github.com/trialchain/trialchain/chain/proof") && !strings.HasPrefix(dep, "github.com/trialchain/trialchain/chain/consent") &&
				!strings.HasPrefix(dep, "github.com/trialchain/trialchain/chain/genesis") &&
				// the pure state transition's record sets and state tree, and the ABI constants it shares
				dep != "github.com/trialchain/trialchain/chain/state" && dep != "github.com/trialchain/trialchain/chain/smt" &&
				dep != "github.com/trialchain/trialchain/vm/abi" &&
				!strings.HasPrefix(dep, "github.com/trialchain/trialchain/chain/witness") && dep != "github.com/trialchain/trialchain/chain/keys":
			t.Errorf("depends on %s", dep)
		}
	}
}
