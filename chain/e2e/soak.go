package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/trialchain/trialchain/chain/procnet"
)

// SoakScenario returns a scenario of length d with a fault every 60 ± 20 s
// (seeded): a follower or the leader killed and restarted, the leader
// paused for 10 s, a 2|2 partition healed after 15 s, or 20% loss on
// every link for 20 s. It runs behind the relays (partitions and loss).
func SoakScenario(d time.Duration, seed uint64) *Scenario {
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	s := &Scenario{Name: "soak", Description: fmt.Sprintf("%v under load, a fault every 60 ± 20 s (seed %d)", d, seed),
		Proxy: true, Duration: Duration(d)}
	s.Load.Rate, s.Load.Workers = 40, 16
	s.Expect.MaxGap = Duration(10 * time.Second)
	step := func(at time.Duration, st Step) {
		if at < d {
			st.At = Duration(at)
			s.Steps = append(s.Steps, st)
		}
	}
	for at := 10 * time.Second; ; {
		at += time.Duration(40+rng.IntN(41)) * time.Second
		if at >= d-30*time.Second {
			break
		}
		switch rng.IntN(5) {
		case 0:
			step(at, Step{Do: "restart", Node: "follower", Down: Duration(2 * time.Second)})
		case 1:
			step(at, Step{Do: "restart", Node: "leader", Down: Duration(time.Second)})
		case 2:
			step(at, Step{Do: "pause", Node: "leader"})
			step(at+10*time.Second, Step{Do: "resume", Node: "same"})
		case 3:
			p := rng.Perm(4)
			step(at, Step{Do: "partition", Groups: [][]int{{p[0], p[1]}, {p[2], p[3]}}})
			step(at+15*time.Second, Step{Do: "heal"})
		case 4:
			step(at, Step{Do: "loss", Rate: 0.2})
			step(at+20*time.Second, Step{Do: "loss", Rate: 0})
		}
	}
	return s
}

// Sample is one reading of a validator process's resources.
type Sample = procnet.Sample

// WriteSoak writes the soak report: the scenario row, the commits per
// 10-s window and the resource samples.
func WriteSoak(w io.Writer, s *Scenario, rep *Report, samples []Sample) {
	fmt.Fprintf(w, "# soak: %s\n\n%s\n%s\n\n", s.Description, Header, rep.Row(s))
	for _, f := range rep.Failures {
		fmt.Fprintf(w, "- FAILURE: %s\n", f)
	}
	fmt.Fprintf(w, "\n## commits per 10-s window\n\n| window | commits |\n|---|---|\n")
	for k, n := range rep.WindowCommits {
		fmt.Fprintf(w, "| %d–%d s | %d |\n", 10*k, 10*k+10, n)
	}
	fmt.Fprintf(w, "\n## resources (every 10 s)\n\n| at | node | RSS MiB | threads | open files |\n|---|---|---|---|---|\n")
	for _, x := range samples {
		fmt.Fprintf(w, "| %.0f s | %d | %.1f | %d | %d |\n", x.At.Seconds(), x.Node, float64(x.RSS)/(1<<20), x.Threads, x.Files)
	}
}
