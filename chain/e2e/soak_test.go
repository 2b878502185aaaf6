package e2e

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/genesis"
)

var (
	soak       = flag.Duration("e2e.soak", 0, "run the soak test for this long (make soak DURATION=1h); 0: not run")
	soakReport = flag.String("e2e.soakreport", "", "write the soak report (markdown) to this file")
)

// TestSoak runs 4 validator processes under load for -e2e.soak with a
// seeded fault every 60 ± 20 s, samples each process's memory, threads
// and open files every 10 s, and checks safety and liveness at the end
// like every scenario. Not in make test or CI: make soak.
func TestSoak(t *testing.T) {
	if *soak <= 0 {
		t.Skip("soak: run with make soak DURATION=1h")
	}
	s := SoakScenario(*soak, 1)
	exe := filepath.Join(t.TempDir(), "trialchain")
	if out, err := exec.Command("go", "build", "-o", exe, "github.com/trialchain/trialchain/cmd/trialchain").CombinedOutput(); err != nil {
		t.Fatalf("building trialchain: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *soak+5*time.Minute)
	defer cancel()
	p := genesis.DefaultParams()
	c, err := NewCluster(exe, t.TempDir(), 4, &p, s.Proxy, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Log = t.Logf
	var (
		mu      sync.Mutex
		samples []Sample
		wg      sync.WaitGroup
	)
	sctx, stop := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		begin := time.Now()
		tk := time.NewTicker(10 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tk.C:
			}
			for i := range c.N() {
				if x, ok := c.Sample(i); ok {
					x.At = time.Since(begin)
					mu.Lock()
					samples = append(samples, x)
					mu.Unlock()
				}
			}
		}
	}()
	rep, err := Run(ctx, c, s, 1)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Row(s))
	if *soakReport != "" {
		f, err := os.Create(*soakReport)
		if err != nil {
			t.Fatal(err)
		}
		WriteSoak(f, s, rep, samples)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range rep.Failures {
		t.Error(f)
	}
}

func TestSoakScenario(t *testing.T) {
	s := SoakScenario(time.Hour, 1)
	if len(s.Steps) < 40 {
		t.Fatalf("%d steps in an hour, want a fault every 60 ± 20 s", len(s.Steps))
	}
	prev := time.Duration(0)
	for i, st := range s.Steps {
		if st.At.D() < prev || st.At.D() >= time.Hour {
			t.Fatalf("step %d at %v: out of order or past the end", i, st.At.D())
		}
		prev = st.At.D()
	}
	for _, st := range s.Steps {
		if st.Do == "pause" || st.Do == "partition" || st.Do == "loss" {
			return
		}
	}
	t.Fatal("no pause, partition or loss in an hour")
}
