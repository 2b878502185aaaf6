package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/genesis"
)

var (
	all    = flag.Bool("e2e.all", false, "run every scenario (make e2e), not only the short ones")
	only   = flag.String("e2e.run", "", "run only the scenarios whose name contains this")
	report = flag.String("e2e.report", "", "append a markdown table of the figures to this file")
	bin    = flag.String("e2e.bin", "", "trialchain binary to test (default: built from this tree)")
	wasm   = flag.String("e2e.contracts", "../../bin/contracts", "built contracts, for deploy steps (make contracts)")
	level  = flag.String("e2e.loglevel", "", "the nodes' log level (default: the node's, info)")
	logs   = flag.String("e2e.logs", "", "copy each node's log to DIR/SCENARIO/nodeN.log after the scenario")
)

// TestScenarios runs the scenario manifests of scenarios/ on 4 validator
// processes on 127.0.0.1: the short ones by default (make test), all of
// them with -e2e.all (make e2e). Each must keep safety (no acknowledged
// transaction lost, none duplicated, one chain everywhere, every block
// certified) and be live once the faults are lifted; the liveness figures
// are logged and compared with the manifest's targets.
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("process network: not in -short")
	}
	scs, err := LoadScenarios("scenarios")
	if err != nil {
		t.Fatal(err)
	}
	exe := *bin
	if exe == "" {
		exe = filepath.Join(t.TempDir(), "trialchain")
		out, err := exec.Command("go", "build", "-o", exe, "github.com/trialchain/trialchain/cmd/trialchain").CombinedOutput()
		if err != nil {
			t.Fatalf("building trialchain: %v\n%s", err, out)
		}
	}
	var rows []string
	for k, s := range scs {
		if !*all && !s.Short {
			continue
		}
		if *only != "" && !strings.Contains(s.Name, *only) {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), s.Duration.D()+4*time.Minute)
			defer cancel()
			p := genesis.DefaultParams()
			c, err := NewCluster(exe, t.TempDir(), 4, &p, s.Proxy, uint64(k+1))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if *level != "" {
				if err := c.SetLogLevel(*level); err != nil {
					t.Fatal(err)
				}
			}
			c.Log = t.Logf
			c.Contracts = *wasm
			if *report != "" {
				c.ReportDir = filepath.Dir(*report)
			}
			rep, err := Run(ctx, c, s, uint64(k+1))
			if err != nil {
				t.Fatal(err)
			}
			row := rep.Row(s)
			t.Log(row)
			rows = append(rows, row)
			for _, f := range rep.Failures {
				t.Error(f)
			}
			if s.Expect.Assert && rep.MaxGap > s.Expect.MaxGap.D() {
				t.Errorf("liveness: longest commit gap %v, the target is %v", rep.MaxGap.Round(100*time.Millisecond), s.Expect.MaxGap.D())
			}
			if *logs != "" {
				keepLogs(t, c, filepath.Join(*logs, s.Name))
			}
			if t.Failed() {
				for _, h := range c.Homes {
					if b, err := os.ReadFile(filepath.Join(h, "node.log")); err == nil {
						t.Logf("--- %s (tail)\n%s", h, tail(string(b), 40))
					}
				}
			}
		})
	}
	if *report != "" && len(rows) > 0 {
		f, err := os.OpenFile(*report, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fmt.Fprintln(f, Header)
		for _, r := range rows {
			fmt.Fprintln(f, r)
		}
	}
}

// keepLogs copies each node's log into dir (nodeN.log), for reading after
// the temporary homes are gone.
func keepLogs(t *testing.T, c *Cluster, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("keeping logs: %v", err)
		return
	}
	for i, h := range c.Homes {
		b, err := os.ReadFile(filepath.Join(h, "node.log"))
		if err != nil {
			t.Logf("keeping logs: %v", err)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("node%d.log", i)), b, 0o644); err != nil {
			t.Logf("keeping logs: %v", err)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func TestScenarioManifestsValid(t *testing.T) {
	scs, err := LoadScenarios("scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 10 {
		t.Fatalf("%d scenarios, want at least 10", len(scs))
	}
	bad := []string{
		`{"name": "x", "duration": "10s", "load": {"rate": 1, "workers": 1}, "steps": [{"at": "1s", "do": "explode"}]}`,
		`{"name": "x", "duration": "10s", "load": {"rate": 1, "workers": 1}, "steps": [{"at": "1s", "do": "partition", "groups": [[0],[1]]}]}`,
		`{"name": "x", "duration": "10s", "load": {"rate": 0, "workers": 1}}`,
		`{"name": "x", "duration": "10s", "load": {"rate": 1, "workers": 1}, "steps": [{"at": "20s", "do": "kill"}]}`,
		`{"name": "x", "duration": "10s", "load": {"rate": 1, "workers": 1}, "unknown": 1}`,
	}
	for i, b := range bad {
		p := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(p, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadScenario(p); err == nil {
			t.Errorf("bad manifest %d accepted", i)
		}
	}
}
