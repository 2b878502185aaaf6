package state

import (
	"os/exec"
	"strings"
	"testing"
)

// TestForbiddenImports keeps the transition pure: no clock, network,
// filesystem or randomness can reach consensus state from here.
func TestForbiddenImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"os", "net", "time", "math/rand", "math/rand/v2", "crypto/rand"}
	deps := strings.Fields(string(out))
	// Direct imports matter; the standard library itself uses these internally.
	direct, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(direct)) {
		for _, f := range forbidden {
			if imp == f {
				t.Errorf("chain/state imports %s", f)
			}
		}
	}
	for _, d := range deps {
		if strings.Contains(d, "pebble") || strings.Contains(d, "quic-go") || strings.Contains(d, "SmartBFT") {
			t.Errorf("chain/state depends on %s", d)
		}
	}
}
