package e2e

import (
	"context"
	"crypto/ed25519"
	"errors"
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

// Cluster is a network of validator processes on 127.0.0.1, optionally
// behind proxies, that a scenario perturbs.
type Cluster struct {
	Bin     string
	Dir     string
	Genesis *genesis.Genesis
	Sponsor ed25519.PrivateKey
	Homes   []string
	// ReportDir is where a failed linearizability check writes its
	// porcupine visualisation (beside the report; "" for the first home).
	ReportDir string
	Clients   []*client.Client
	Rules     *Rules
	Log       func(format string, args ...any)
	// Contracts is the directory of built contracts (deploy steps).
	Contracts string

	proxies []*Proxy
	mu      sync.Mutex
	procs   []*exec.Cmd // nil when down
	paused  []bool
	waits   []chan struct{}
	fault   []string // per node: --byzantine mode
}

// NewCluster writes a network of n validators in dir. With proxied, each
// node's mesh listens on its own port and genesis names a proxy in front
// of it, so links can be cut or made lossy.
func NewCluster(bin, dir string, n int, p *genesis.Params, proxied bool, seed uint64) (*Cluster, error) {
	tn, err := node.NewTestnet(dir, node.TestnetOptions{Validators: n, Params: p})
	if err != nil {
		return nil, err
	}
	k, err := keys.Ring{Dir: tn.Keyring}.Get("sponsor")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Bin: bin, Dir: dir, Genesis: tn.Genesis, Sponsor: k.Private, Homes: tn.Homes, Rules: NewRules(seed),
		procs: make([]*exec.Cmd, n), paused: make([]bool, n), waits: make([]chan struct{}, n), fault: make([]string, n),
		Log: func(string, ...any) {}}
	for _, v := range tn.Genesis.Validators {
		c.Clients = append(c.Clients, client.New("http://"+v.API))
	}
	if !proxied {
		return c, nil
	}
	real := make([]string, n)
	for i, h := range tn.Homes {
		port, err := freeUDP()
		if err != nil {
			return nil, err
		}
		real[i] = fmt.Sprintf("127.0.0.1:%d", port)
		cfg, err := node.LoadConfig(h)
		if err != nil {
			return nil, err
		}
		cfg.Listen = real[i]
		if err := cfg.Save(h); err != nil {
			return nil, err
		}
	}
	nodeOf := func(addr string) int {
		for i, r := range real {
			if r == addr {
				return i
			}
		}
		return -1
	}
	for i, v := range tn.Genesis.Validators {
		px, err := StartProxy(v.Addr, real[i], i, nodeOf, c.Rules)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("proxy for node %d: %w", i, err)
		}
		c.proxies = append(c.proxies, px)
	}
	return c, nil
}

// SetLogLevel sets every node's log level (config.toml log_level: debug,
// info, warn or error), before the nodes start.
func (c *Cluster) SetLogLevel(level string) error {
	for _, h := range c.Homes {
		cfg, err := node.LoadConfig(h)
		if err != nil {
			return err
		}
		cfg.LogLevel = level
		if err := cfg.Save(h); err != nil {
			return err
		}
	}
	return nil
}

func freeUDP() (int, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port, nil
}

// N is the number of validators.
func (c *Cluster) N() int { return len(c.Homes) }

// SetFault makes node i a Byzantine test double from its next start.
func (c *Cluster) SetFault(i int, mode string) {
	c.mu.Lock()
	c.fault[i] = mode
	c.mu.Unlock()
}

// Start starts node i's process (a no-op if it runs).
func (c *Cluster) Start(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.procs[i] != nil {
		return nil
	}
	args := []string{"start", "--home", c.Homes[i]}
	if c.fault[i] != "" {
		args = append(args, "--byzantine", c.fault[i])
	}
	cmd := exec.Command(c.Bin, args...)
	f, err := os.OpenFile(filepath.Join(c.Homes[i], "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start node %d: %w", i, err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		f.Close()
		c.mu.Lock()
		if c.procs[i] == cmd {
			// Not killed by the harness: say so (the node's log may not),
			// and let the settle phase start it again.
			c.procs[i], c.paused[i] = nil, false
			c.mu.Unlock()
			c.Log("node %d exited on its own: %v", i, err)
		} else {
			c.mu.Unlock()
		}
		close(done)
	}()
	c.procs[i], c.paused[i], c.waits[i] = cmd, false, done
	return nil
}

// Kill sends SIGKILL to node i (resuming it first if paused) and waits
// for it to exit.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	cmd, done, paused := c.procs[i], c.waits[i], c.paused[i]
	c.procs[i], c.paused[i] = nil, false
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	if paused {
		_ = cmd.Process.Signal(syscall.SIGCONT)
	}
	<-done
}

// Pause stops node i with SIGSTOP; Resume continues it.
func (c *Cluster) Pause(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.procs[i] != nil && !c.paused[i] {
		_ = c.procs[i].Process.Signal(syscall.SIGSTOP)
		c.paused[i] = true
	}
}

// Resume continues a paused node.
func (c *Cluster) Resume(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.procs[i] != nil && c.paused[i] {
		_ = c.procs[i].Process.Signal(syscall.SIGCONT)
		c.paused[i] = false
	}
}

// Up reports whether node i runs and is not paused.
func (c *Cluster) Up(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i] != nil && !c.paused[i]
}

// Status asks node i for its status (short timeout).
func (c *Cluster) Status(i int) (*view.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Clients[i].Status(ctx)
}

// Leader returns the leader as most live nodes see it (index, or -1).
func (c *Cluster) Leader() int {
	votes := map[uint64]int{}
	for i := range c.Homes {
		if !c.Up(i) {
			continue
		}
		if st, err := c.Status(i); err == nil && st.Leader != 0 {
			votes[st.Leader]++
		}
	}
	best, n := uint64(0), 0
	for id := uint64(1); id <= uint64(c.N()); id++ {
		if votes[id] > n {
			best, n = id, votes[id]
		}
	}
	if best == 0 {
		return -1
	}
	return int(best) - 1
}

// Heights returns each node's height (-1 when unreachable).
func (c *Cluster) Heights() []int64 {
	out := make([]int64, c.N())
	for i := range out {
		out[i] = -1
		if !c.Up(i) {
			continue
		}
		if st, err := c.Status(i); err == nil {
			out[i] = int64(st.Height)
		}
	}
	return out
}

// WaitHealthy waits until every running node answers its status.
func (c *Cluster) WaitHealthy(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for i := range c.Homes {
		for {
			if !c.Up(i) {
				break
			}
			if _, err := c.Status(i); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %d not healthy after %v", i, limit)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// Close kills every node and stops the proxies.
func (c *Cluster) Close() {
	for i := range c.Homes {
		c.Kill(i)
	}
	for _, p := range c.proxies {
		p.Close()
	}
}

// errNoNode is returned when no node can serve.
var errNoNode = errors.New("no live node")
