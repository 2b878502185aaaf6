package contracts_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps execution deterministic and the layers apart: no
// clock, randomness, filesystem or network in this package's own imports,
// and no storage, consensus or transport below it (the VM and CIRCL are
// reached only through vm and chain/consent).
func TestImports(t *testing.T) {
	list := func(format string) []string {
		out, err := exec.Command("go", "list", "-f", format, ".").Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		return strings.Fields(string(out))
	}
	for _, imp := range list(`{{join .Imports " "}}`) {
		switch {
		case imp == "os", imp == "net", imp == "time", imp == "math/rand", imp == "math/rand/v2", imp == "crypto/rand",
			strings.HasPrefix(imp, "github.com/tetratelabs/"), strings.HasPrefix(imp, "github.com/cloudflare/"):
			t.Errorf("chain/contracts imports %s", imp)
		}
	}
	for _, dep := range list(`{{join .Deps " "}}`) {
		for _, bad := range []string{"pebble", "quic-go", "SmartBFT", "/chain/node", "/chain/store", "/chain/consensus", "/transport"} {
			if strings.Contains(dep, bad) {
				t.Errorf("chain/contracts depends on %s", dep)
			}
		}
	}
}
