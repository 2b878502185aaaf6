// Package procnet runs a network of trialchain validator processes on
// 127.0.0.1, as users run them (`trialchain start --home DIR`, one process
// per validator, real QUIC and Pebble), and reads their resources from
// /proc. The fault-injection harness (chain/e2e) and the benchmark
// (chain/bench) both drive it.
//
// # Usage
//
//	n, _ := procnet.New(bin, dir, 4, &params) // writes the testnet (genesis, homes, keyring)
//	_ = n.EnableMetrics()                     // optional: each node serves /metrics on its own port
//	defer n.Close()                           // kills every process it started
//	for i := range n.Homes { _ = n.Start(i) }
//	_ = n.WaitHealthy(30 * time.Second)
//	s, _ := n.Sample(0)                       // RSS, peak RSS, CPU time, threads, files of node 0
//
// Each process writes its log to HOME/node.log. Kill, Pause and Resume
// signal a process (SIGKILL, SIGSTOP, SIGCONT); Close kills them all and
// waits for them to exit, so a test that calls it in Cleanup leaks none.
package procnet

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// Network is a set of validator processes of one testnet on 127.0.0.1.
type Network struct {
	Bin     string
	Dir     string
	Genesis *genesis.Genesis
	// Keyring is the testnet keyring directory (one member key per role).
	Keyring string
	Sponsor ed25519.PrivateKey
	Homes   []string
	Clients []*client.Client
	// Metrics holds each node's metrics listener address (empty: none);
	// EnableMetrics fills it.
	Metrics []string
	// StartArgs, if set, returns more arguments of node i's start
	// command (e.g. --cpuprofile FILE).
	StartArgs func(i int) []string
	Log       func(format string, args ...any)

	mu     sync.Mutex
	procs  []*exec.Cmd // nil when down
	paused []bool
	waits  []chan struct{}
	fault  []string // per node: --byzantine mode
	// stopping marks a node Stop asked to exit (so its exit is expected).
	stopping []bool
}

// New writes a testnet of n validators in dir (genesis with params p, nil
// for the defaults) to be run by the binary bin; nothing is started.
func New(bin, dir string, n int, p *genesis.Params) (*Network, error) {
	tn, err := node.NewTestnet(dir, node.TestnetOptions{Validators: n, Params: p})
	if err != nil {
		return nil, fmt.Errorf("procnet: testnet: %w", err)
	}
	k, err := keys.Ring{Dir: tn.Keyring}.Get("sponsor")
	if err != nil {
		return nil, fmt.Errorf("procnet: sponsor key: %w", err)
	}
	nw := &Network{Bin: bin, Dir: dir, Genesis: tn.Genesis, Keyring: tn.Keyring, Sponsor: k.Private, Homes: tn.Homes,
		Metrics: make([]string, n), procs: make([]*exec.Cmd, n), paused: make([]bool, n), waits: make([]chan struct{}, n),
		fault: make([]string, n), stopping: make([]bool, n), Log: func(string, ...any) {}}
	for _, v := range tn.Genesis.Validators {
		nw.Clients = append(nw.Clients, client.New("http://"+v.API))
	}
	return nw, nil
}

// EnableMetrics gives every node a metrics listener on a free loopback
// port (start --metrics), from its next start.
func (n *Network) EnableMetrics() error {
	for i := range n.Homes {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("procnet: metrics port: %w", err)
		}
		n.Metrics[i] = l.Addr().String()
		l.Close()
	}
	return nil
}

// MetricsURL returns node i's /metrics URL ("" without a listener).
func (n *Network) MetricsURL(i int) string {
	if n.Metrics[i] == "" {
		return ""
	}
	return "http://" + n.Metrics[i] + "/metrics"
}

// FreeUDP returns a loopback UDP port free at the time of the call.
func FreeUDP() (int, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port, nil
}

// N is the number of validators.
func (n *Network) N() int { return len(n.Homes) }

// SetFault makes node i a Byzantine test double from its next start.
func (n *Network) SetFault(i int, mode string) {
	n.mu.Lock()
	n.fault[i] = mode
	n.mu.Unlock()
}

// Start starts node i's process (a no-op if it runs).
func (n *Network) Start(i int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.procs[i] != nil {
		return nil
	}
	args := []string{"start", "--home", n.Homes[i]}
	if n.fault[i] != "" {
		args = append(args, "--byzantine", n.fault[i])
	}
	if n.Metrics[i] != "" {
		args = append(args, "--metrics", n.Metrics[i])
	}
	if n.StartArgs != nil {
		args = append(args, n.StartArgs(i)...)
	}
	cmd := exec.Command(n.Bin, args...)
	f, err := os.OpenFile(filepath.Join(n.Homes[i], "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("procnet: node %d log: %w", i, err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("procnet: start node %d: %w", i, err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		f.Close()
		n.mu.Lock()
		if n.procs[i] == cmd && !n.stopping[i] {
			// Not killed or stopped by the harness: say so (the node's log
			// may not) and mark it down, so a later Start starts it again.
			n.procs[i], n.paused[i] = nil, false
			n.mu.Unlock()
			if n.Log != nil {
				n.Log("node %d exited on its own: %v", i, err)
			}
		} else {
			n.mu.Unlock()
		}
		close(done)
	}()
	n.procs[i], n.paused[i], n.waits[i], n.stopping[i] = cmd, false, done, false
	return nil
}

// StartAll starts every node and waits until each answers its status.
func (n *Network) StartAll(limit time.Duration) error {
	for i := range n.Homes {
		if err := n.Start(i); err != nil {
			return err
		}
	}
	return n.WaitHealthy(limit)
}

// PID returns node i's process id (0 when down).
func (n *Network) PID(i int) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p := n.procs[i]; p != nil && p.Process != nil {
		return p.Process.Pid
	}
	return 0
}

// Kill sends SIGKILL to node i (resuming it first if paused) and waits
// for it to exit.
func (n *Network) Kill(i int) {
	n.mu.Lock()
	cmd, done, paused := n.procs[i], n.waits[i], n.paused[i]
	n.procs[i], n.paused[i] = nil, false
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	if paused {
		_ = cmd.Process.Signal(syscall.SIGCONT)
	}
	<-done
}

// Stop asks node i to stop (SIGTERM: it closes its store and writes its
// profile) and waits up to grace for it to exit, then kills it.
func (n *Network) Stop(i int, grace time.Duration) {
	n.mu.Lock()
	cmd, done, paused := n.procs[i], n.waits[i], n.paused[i]
	if cmd != nil {
		n.stopping[i] = true
	}
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	if paused {
		n.Resume(i)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		n.mu.Lock()
		n.procs[i], n.paused[i] = nil, false
		n.mu.Unlock()
	case <-time.After(grace):
		n.Kill(i)
	}
}

// Pause stops node i with SIGSTOP; Resume continues it.
func (n *Network) Pause(i int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.procs[i] != nil && !n.paused[i] {
		_ = n.procs[i].Process.Signal(syscall.SIGSTOP)
		n.paused[i] = true
	}
}

// Resume continues a paused node.
func (n *Network) Resume(i int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.procs[i] != nil && n.paused[i] {
		_ = n.procs[i].Process.Signal(syscall.SIGCONT)
		n.paused[i] = false
	}
}

// Up reports whether node i runs and is not paused.
func (n *Network) Up(i int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.procs[i] != nil && !n.paused[i]
}

// Status asks node i for its status (short timeout).
func (n *Network) Status(i int) (*view.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return n.Clients[i].Status(ctx)
}

// Leader returns the leader as most live nodes see it (index, or -1).
func (n *Network) Leader() int {
	votes := map[uint64]int{}
	for i := range n.Homes {
		if !n.Up(i) {
			continue
		}
		if st, err := n.Status(i); err == nil && st.Leader != 0 {
			votes[st.Leader]++
		}
	}
	best, k := uint64(0), 0
	for id := uint64(1); id <= uint64(n.N()); id++ {
		if votes[id] > k {
			best, k = id, votes[id]
		}
	}
	if best == 0 {
		return -1
	}
	return int(best) - 1
}

// Heights returns each node's height (-1 when unreachable).
func (n *Network) Heights() []int64 {
	out := make([]int64, n.N())
	for i := range out {
		out[i] = -1
		if !n.Up(i) {
			continue
		}
		if st, err := n.Status(i); err == nil {
			out[i] = int64(st.Height)
		}
	}
	return out
}

// WaitHealthy waits until every running node answers its status.
func (n *Network) WaitHealthy(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for i := range n.Homes {
		for {
			if !n.Up(i) {
				break
			}
			if _, err := n.Status(i); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("procnet: node %d not healthy after %v (log: %s)", i, limit, filepath.Join(n.Homes[i], "node.log"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// Close kills every node and waits for the processes to exit.
func (n *Network) Close() {
	for i := range n.Homes {
		n.Kill(i)
	}
}
