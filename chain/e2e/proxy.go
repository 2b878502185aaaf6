package e2e

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy stands in front of one node's mesh socket: peers dial the proxy's
// address (the one genesis names), and it relays every datagram to the
// node's real socket and back, dropping those of links that a rule cuts or
// loses. This kernel has no netem; a user-space relay is enough for QUIC,
// which identifies peers by key, not by address.
type Proxy struct {
	ln     *net.UDPConn
	target *net.UDPAddr
	self   int              // index of the node behind the proxy
	nodeOf func(string) int // real address → node index (-1: unknown)
	rules  *Rules

	mu       sync.Mutex
	upstream map[string]*net.UDPConn // per client address
	wg       sync.WaitGroup
	closed   atomic.Bool
}

// Rules decide, per link (unordered node pair), whether a datagram passes.
type Rules struct {
	mu    sync.Mutex
	cut   map[[2]int]bool
	loss  float64
	rng   *rand.Rand
	drops atomic.Uint64
}

// NewRules returns rules that pass everything; seed drives packet loss.
func NewRules(seed uint64) *Rules {
	return &Rules{cut: map[[2]int]bool{}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func link(a, b int) [2]int {
	if a > b {
		a, b = b, a
	}
	return [2]int{a, b}
}

// Partition cuts every link between two different groups.
func (r *Rules) Partition(groups [][]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cut = map[[2]int]bool{}
	for i, g := range groups {
		for _, h := range groups[i+1:] {
			for _, a := range g {
				for _, b := range h {
					r.cut[link(a, b)] = true
				}
			}
		}
	}
}

// SetLoss drops each datagram with probability p (0 ≤ p < 1).
func (r *Rules) SetLoss(p float64) {
	r.mu.Lock()
	r.loss = p
	r.mu.Unlock()
}

// Heal removes every cut and all loss.
func (r *Rules) Heal() {
	r.mu.Lock()
	r.cut = map[[2]int]bool{}
	r.loss = 0
	r.mu.Unlock()
}

func (r *Rules) pass(a, b int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a >= 0 && b >= 0 && r.cut[link(a, b)] {
		r.drops.Add(1)
		return false
	}
	if r.loss > 0 && r.rng.Float64() < r.loss {
		r.drops.Add(1)
		return false
	}
	return true
}

// StartProxy listens on listen and relays to target.
func StartProxy(listen, target string, self int, nodeOf func(string) int, rules *Rules) (*Proxy, error) {
	la, err := net.ResolveUDPAddr("udp", listen)
	if err != nil {
		return nil, err
	}
	ta, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenUDP("udp", la)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: ta, self: self, nodeOf: nodeOf, rules: rules, upstream: map[string]*net.UDPConn{}}
	p.wg.Add(1)
	go p.run()
	return p, nil
}

func (p *Proxy) run() {
	defer p.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := p.ln.ReadFromUDP(buf)
		if err != nil {
			if p.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		src := p.nodeOf(from.String())
		if !p.rules.pass(src, p.self) {
			continue
		}
		up, err := p.up(from, src)
		if err != nil {
			continue
		}
		_, _ = up.Write(buf[:n])
	}
}

// up returns the relay socket of one client address, starting its reply
// loop on first use.
func (p *Proxy) up(from *net.UDPAddr, src int) (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := from.String()
	if c := p.upstream[key]; c != nil {
		return c, nil
	}
	if p.closed.Load() {
		return nil, net.ErrClosed
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, p.target)
	if err != nil {
		return nil, err
	}
	p.upstream[key] = c
	client := *from
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if err != nil {
				if p.closed.Load() || errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if !p.rules.pass(p.self, src) {
				continue
			}
			_, _ = p.ln.WriteToUDP(buf[:n], &client)
		}
	}()
	return c, nil
}

// Close stops the relay and waits for its goroutines.
func (p *Proxy) Close() {
	if p.closed.Swap(true) {
		return
	}
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.upstream {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
