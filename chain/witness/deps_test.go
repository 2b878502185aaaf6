package witness

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the witness's core offline: bundles import it, so
// it must not pull in networking, the CLI or the node (the HTTP side is
// witnessd).
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
				!strings.HasPrefix(dep, "github.com/trialchain/trialchain/chain/proof") && !strings.HasPrefix(dep, "github.com/trialchain/trialchain/chain/genesis") &&
				dep != "github.com/trialchain/trialchain/chain/keys":
			t.Errorf("depends on %s", dep)
		}
	}
}
