package client

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/view"
)

// Freshness, trusting no single node: a node can serve an old but genuine
// checkpoint (hiding everything after it) and only a comparison with other
// nodes shows it. SurveyCheckpoints asks every node for its latest
// checkpoint, verifies each against the genesis validators, takes the
// newest, and says which nodes answered it, which lagged, which failed and
// which disagree.
//
//	c := client.New(url)
//	vals, err := c.ValidatorSets(ctx, g)             // the genesis set, or the sets walked through c's blocks
//	nodes := client.NodesIn(vals, c)                 // the APIs of the validators in force, url first
//	s, err := client.SurveyCheckpointsAgainst(ctx, g, vals, nodes)
//	if errors.Is(err, client.ErrFork) { ... two certified histories ... }
//	src := &client.Source{Node: s.Source, Vals: vals, Latest: s.Checkpoint}

// Node answer states of a survey.
const (
	NodeNewest    = "newest"    // its checkpoint is the newest that verifies
	NodeLagging   = "lagging"   // a verified checkpoint below the newest, on the same chain
	NodeFailed    = "failed"    // unreachable or refused to answer
	NodeInvalid   = "invalid"   // sent a checkpoint that does not verify (forged or corrupt)
	NodeDisagrees = "disagrees" // a verified checkpoint another verified one contradicts: a fork
)

// SurveyTimeout bounds the wait for each node's answer.
const SurveyTimeout = 15 * time.Second

// NodeAnswer is what one node answered when asked for its latest checkpoint.
type NodeAnswer struct {
	Node   string     `json:"node"`
	URL    string     `json:"url"`
	State  string     `json:"state"`
	Height uint64     `json:"height,omitempty"`
	Hash   block.Hash `json:"hash,omitzero"`
	Time   string     `json:"time,omitempty"` // the checkpoint's block time, UTC
	Behind uint64     `json:"behind,omitempty"`
	Error  string     `json:"error,omitempty"`
}

// Survey is the outcome of asking several nodes for their latest checkpoint.
type Survey struct {
	// Checkpoint is the newest checkpoint that verifies; Source a node
	// that served it (the first node asked, when it did).
	Checkpoint *proof.Checkpoint `json:"-"`
	Source     *Client           `json:"-"`
	Nodes      []NodeAnswer      `json:"nodes"`
	// Verified counts the nodes that sent a checkpoint that verifies;
	// Needed is how many must, so that at least one honest node vouches
	// for freshness (f+1 of the genesis validators).
	Verified int `json:"verified"`
	Needed   int `json:"needed"`
}

// Fresh reports whether enough nodes answered with verified checkpoints
// that the newest is at least as new as an honest node's.
func (s *Survey) Fresh() bool { return s.Verified >= s.Needed }

// Count returns how many nodes answered in state.
func (s *Survey) Count(state string) int {
	n := 0
	for _, a := range s.Nodes {
		if a.State == state {
			n++
		}
	}
	return n
}

// Summary says in one line who answered what, for people.
func (s *Survey) Summary() string {
	var parts []string
	for _, st := range []string{NodeNewest, NodeLagging, NodeFailed, NodeInvalid, NodeDisagrees} {
		var names []string
		for _, a := range s.Nodes {
			if a.State == st {
				n := a.Node
				if st == NodeLagging {
					n = fmt.Sprintf("%s (block %d, %d behind)", a.Node, a.Height, a.Behind)
				}
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", st, strings.Join(names, ", ")))
		}
	}
	return strings.Join(parts, "; ")
}

// NodesOf returns clients for the genesis validators' client APIs, named
// as in the genesis, with primary (the node the user named; nil: none)
// first. A validator whose API address is primary's is not asked twice.
func NodesOf(g *genesis.Genesis, primary *Client) []*Client {
	return NodesOfSet(g.Validators, primary)
}

// NodesIn returns clients for the client APIs of the validators in force
// at the head of vals — the genesis set, or the latest set of a
// genesis.History (Client.ValidatorSets) — with primary first: a
// validator added by a set change is asked (by the API address its add
// change recorded), a removed one no longer.
func NodesIn(vals proof.Validators, primary *Client) []*Client {
	switch v := vals.(type) {
	case *genesis.History:
		return NodesOfSet(v.Latest().Validators, primary)
	case *genesis.Genesis:
		return NodesOf(v, primary)
	}
	if primary == nil {
		return nil
	}
	return []*Client{primary}
}

// NodesOfSet is NodesOf for the validators vs (a genesis.Set's).
func NodesOfSet(vs []genesis.Validator, primary *Client) []*Client {
	var out []*Client
	if primary != nil {
		out = append(out, primary)
	}
	for _, v := range vs {
		if v.API == "" {
			continue
		}
		scheme := "http://" // the others are reached the way primary was
		if primary != nil {
			for _, s := range []string{"https://", SchemeH3 + "://"} {
				if strings.HasPrefix(primary.Base, s) {
					scheme = s
				}
			}
		}
		u := scheme + v.API
		if primary != nil && strings.TrimRight(primary.Base, "/") == u {
			if primary.Name == "" {
				primary.Name = v.Name
			}
			if primary.NodeKey == nil {
				primary.NodeKey = append([]byte(nil), v.Key...)
			}
			continue
		}
		c := Pinned(u, ed25519.PublicKey(v.Key))
		c.Name = v.Name
		if scheme == "http://" && primary != nil && primary.HTTP != nil {
			c.HTTP = primary.HTTP
		}
		out = append(out, c)
	}
	return out
}

// SurveyCheckpoints asks every node (concurrently, each within
// SurveyTimeout) for its latest checkpoint and verifies each against g.
// The newest verified checkpoint wins; a node whose verified checkpoint is
// lower is compared with the winner's chain (the winner's source must
// serve a certified block at that height with the same hash).
//
// # Errors
//
// ErrFork, with the survey, when two verified checkpoints contradict each
// other (different certified blocks at one height): the validators signed
// two histories, which a quorum of honest validators never does — say it
// loudly and trust neither. An error when no node sent a checkpoint that
// verifies.
func SurveyCheckpoints(ctx context.Context, g *genesis.Genesis, nodes []*Client) (*Survey, error) {
	return SurveyCheckpointsAgainst(ctx, g, g, nodes)
}

// SurveyCheckpointsAgainst is SurveyCheckpoints with the checkpoints
// verified against vals: the validator sets walked from the genesis
// (Client.SetHistory) on a chain whose set changed.
func SurveyCheckpointsAgainst(ctx context.Context, g *genesis.Genesis, vals proof.Validators, nodes []*Client) (*Survey, error) {
	s := &Survey{Nodes: make([]NodeAnswer, len(nodes)), Needed: g.F() + 1}
	if h, ok := vals.(*genesis.History); ok {
		s.Needed = h.Latest().F() + 1
	}
	cps := make([]*proof.Checkpoint, len(nodes))
	var wg sync.WaitGroup
	for i, c := range nodes {
		s.Nodes[i] = NodeAnswer{Node: c.Name, URL: c.Base}
		if c.Name == "" {
			s.Nodes[i].Node = c.Base
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			actx, cancel := context.WithTimeout(ctx, SurveyTimeout)
			defer cancel()
			cp, err := c.Checkpoint(actx, 0)
			a := &s.Nodes[i]
			if err != nil {
				a.State, a.Error = NodeFailed, err.Error()
				return
			}
			a.Height, a.Hash, a.Time = cp.Height(), cp.Hash(), view.FormatMilli(cp.Header.TimeUnixMilli)
			if err := cp.Verify(vals); err != nil {
				a.State, a.Error = NodeInvalid, err.Error()
				return
			}
			cps[i] = cp
		}()
	}
	wg.Wait()
	best := -1
	for i, cp := range cps {
		if cp == nil {
			continue
		}
		s.Verified++
		if best < 0 || cp.Height() > cps[best].Height() {
			best = i
		}
	}
	if best < 0 {
		return s, fmt.Errorf("client: no node sent a checkpoint that verifies against the validator sets walked from the genesis (%s)", s.Summary())
	}
	s.Checkpoint, s.Source = cps[best], nodes[best]
	top := cps[best]
	// Same height: the same block, or a fork.
	var forks []string
	for i, cp := range cps {
		if cp == nil || cp.Height() != top.Height() {
			continue
		}
		if cp.Hash() != top.Hash() {
			s.Nodes[i].State, s.Nodes[best].State = NodeDisagrees, NodeDisagrees
			forks = append(forks, fmt.Sprintf("%s and %s both show a certified block %d: %s and %s",
				s.Nodes[best].Node, s.Nodes[i].Node, top.Height(), top.Hash(), cp.Hash()))
			continue
		}
		s.Nodes[i].State = NodeNewest
	}
	// Lower heights: the newest chain must hold the same certified block.
	byHeight := map[uint64]*block.Committed{}
	for i, cp := range cps {
		if cp == nil || cp.Height() == top.Height() {
			continue
		}
		a := &s.Nodes[i]
		a.State, a.Behind = NodeLagging, top.Height()-cp.Height()
		theirs, ok := byHeight[cp.Height()]
		if !ok {
			actx, cancel := context.WithTimeout(ctx, SurveyTimeout)
			b, err := s.Source.VerifiedBlock(actx, vals, cp.Height())
			cancel()
			if err != nil {
				a.Error = fmt.Sprintf("not compared with the newest chain: %v", err)
				continue
			}
			theirs, byHeight[cp.Height()] = b, b
		}
		if theirs.Block.Hash() != cp.Hash() {
			a.State = NodeDisagrees
			forks = append(forks, fmt.Sprintf("%s shows certified block %d %s, %s's chain has %s there",
				a.Node, cp.Height(), cp.Hash(), s.Nodes[best].Node, theirs.Block.Hash()))
		}
	}
	if len(forks) > 0 {
		return s, fmt.Errorf("%w: FORK: two certified histories: %s", ErrFork, strings.Join(forks, "; "))
	}
	// Prefer the first node (the one the user named) when it is among the newest.
	if cps[0] != nil && s.Nodes[0].State == NodeNewest {
		s.Checkpoint, s.Source = cps[0], nodes[0]
	}
	return s, nil
}
