package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// testBinary builds the trialchain binary the validator processes run, once
// per test run.
func testBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "trialchain-bench-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "trialchain")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/trialchain/trialchain/cmd/trialchain").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("building trialchain: %v", binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
