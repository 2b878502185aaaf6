package trials_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps package trials light: the standard library, trials/model,
// trials/care and sdk/jsonfast (trials/model's reflection-free JSON reader,
// standard library only) only, so the CLI and tools can import it without pulling the
// node (no VM, store, consensus or transport).
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		switch p {
		case "github.com/trialchain/trialchain/trials", "github.com/trialchain/trialchain/trials/model", "github.com/trialchain/trialchain/trials/care",
			"github.com/trialchain/trialchain/sdk/jsonfast":
		default:
			t.Errorf("package trials imports %s", p)
		}
	}
}
