package e2e

import (
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/procnet"
)

// Cluster is a network of validator processes on 127.0.0.1 (a
// procnet.Network), optionally behind proxies, that a scenario perturbs.
type Cluster struct {
	*procnet.Network
	Rules *Rules
	// ReportDir is where a failed linearizability check writes its
	// porcupine visualisation (beside the report; "" for the first home).
	ReportDir string
	// Contracts is the directory of built contracts (deploy steps).
	Contracts string

	proxies []*Proxy
}

// NewCluster writes a network of n validators in dir. With proxied, each
// node's mesh listens on its own port and genesis names a proxy in front
// of it, so links can be cut or made lossy.
func NewCluster(bin, dir string, n int, p *genesis.Params, proxied bool, seed uint64) (*Cluster, error) {
	nw, err := procnet.New(bin, dir, n, p)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Network: nw, Rules: NewRules(seed)}
	if !proxied {
		return c, nil
	}
	real := make([]string, n)
	for i, h := range nw.Homes {
		port, err := procnet.FreeUDP()
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
	for i, v := range nw.Genesis.Validators {
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

// Close kills every node and stops the proxies.
func (c *Cluster) Close() {
	if c.Network != nil {
		c.Network.Close()
	}
	for _, p := range c.proxies {
		p.Close()
	}
}

// errNoNode is returned when no node can serve.
var errNoNode = errors.New("no live node")
