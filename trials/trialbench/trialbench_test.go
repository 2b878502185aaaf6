package trialbench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/bench"
)

// TestCRFWorkload runs the CRF workload on 4 validator processes: the
// setup (members, consent group, deployment, registration, activation,
// enrolments) must succeed and every prepared form, in both modes, must
// commit with an ok receipt through trial-protocol.
func TestCRFWorkload(t *testing.T) {
	if testing.Short() {
		t.Skip("process network: not in -short")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "trialchain")
	if out, err := exec.Command("go", "build", "-o", exe, "github.com/trialchain/trialchain/cmd/trialchain").CombinedOutput(); err != nil {
		t.Fatalf("building trialchain: %v\n%s", err, out)
	}
	wasm := filepath.Join(dir, "contracts")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-buildmode=c-shared", "-o", filepath.Join(wasm, "trial-protocol.wasm"),
		"github.com/trialchain/trialchain/contracts-examples/trial-protocol")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building trial-protocol: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	rep, err := bench.Run(ctx, bench.Config{Bin: exe, Validators: 4, Workloads: []bench.Workload{CRF(45)}, Modes: []bench.Mode{bench.Closed, bench.Open},
		Txs: 1000, Concurrency: 16, Rate: 5, Duration: 6 * time.Second, Contracts: wasm, Progress: &progress, Dir: filepath.Join(dir, "net")})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("\n%s\n%s", progress.String(), table.String())
	if len(rep.Results) != 2 {
		t.Fatalf("%d results", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Committed == 0 || r.Committed != r.Submitted || r.Failed+r.Refused+r.Errors+r.Skipped != 0 {
			t.Errorf("crf %s: %d submitted, %d committed, %d failed, %d refused, %d errors (%s)", r.Mode,
				r.Submitted, r.Committed, r.Failed, r.Refused, r.Errors, r.FirstError)
		}
	}
	if c := rep.Results[0]; c.Submitted > 45 {
		t.Errorf("closed loop sent %d forms; CRF(45) prepares at most 45", c.Submitted)
	}
}
