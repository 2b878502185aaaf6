// Package witnesstest builds genuinely certified chains for witness tests:
// real headers, a real record log and commit certificates signed by the
// validator keys of a 4-validator genesis, without consensus or execution.
// Fork copies a chain so that two histories certified by the same
// validators can diverge — the split view a witness must catch.
package witnesstest

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
)

// Chain is a certified chain in memory. It implements proof.NodeReader.
type Chain struct {
	G      *genesis.Genesis
	Keys   []ed25519.PrivateKey // validator keys, validator id i+1 at index i
	blocks []*block.Committed
	log    proof.Frontier
	nodes  map[[2]uint64]block.Hash
	now    int64
}

// New makes a chain of the 4-validator genesis chainID whose keys derive
// from seed (the same seed gives the same validators).
func New(t testing.TB, chainID string, seed byte) *Chain {
	t.Helper()
	c := &Chain{G: &genesis.Genesis{ChainID: chainID, Time: time.UnixMilli(1_760_000_000_000).UTC(), Params: genesis.DefaultParams()},
		nodes: map[[2]uint64]block.Hash{}, now: 1_760_000_000_000}
	for i := 0; i < 4; i++ {
		k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed, byte(i)}, 16))
		c.Keys = append(c.Keys, k)
		c.G.Validators = append(c.G.Validators, genesis.Validator{ID: uint64(i + 1), Name: fmt.Sprint("node", i),
			Key: genesis.Key(k.Public().(ed25519.PublicKey)), Addr: fmt.Sprintf("127.0.0.1:%d", 26600+i), API: fmt.Sprintf("127.0.0.1:%d", 26700+i)})
	}
	member := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed, 0xee}, 16))
	c.G.Members = []genesis.Member{{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(member.Public().(ed25519.PublicKey))}}
	if err := c.G.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// Fork returns an independent copy: blocks committed to either afterwards
// are not seen by the other, and both stay certified by the same keys.
func (c *Chain) Fork() *Chain {
	return &Chain{G: c.G, Keys: c.Keys, blocks: slices.Clone(c.blocks), log: proof.Frontier{Size: c.log.Size, Hashes: slices.Clone(c.log.Hashes)},
		nodes: maps.Clone(c.nodes), now: c.now}
}

// LogNode reads a stored node of the record log.
func (c *Chain) LogNode(level uint, index uint64) (block.Hash, error) {
	h, ok := c.nodes[[2]uint64{uint64(level), index}]
	if !ok {
		return h, fmt.Errorf("witnesstest: no log node (%d, %d)", level, index)
	}
	return h, nil
}

// Height is the newest block's height.
func (c *Chain) Height() uint64 { return uint64(len(c.blocks)) }

// LogSize is the record log's size after the newest block.
func (c *Chain) LogSize() uint64 { return c.log.Size }

// Commit certifies a block holding records (any bytes; each one record
// of the log) and returns its checkpoint, which commits to the log as it
// was before these records (as a real header does).
func (c *Chain) Commit(t testing.TB, records ...string) *proof.Checkpoint {
	t.Helper()
	var txs [][]byte
	var leaves []block.Hash
	for _, r := range records {
		txs = append(txs, []byte(r))
		leaves = append(leaves, proof.LeafHash([]byte(r)))
	}
	h := uint64(len(c.blocks) + 1)
	c.now += 1000
	hdr := block.Header{ChainID: c.G.ChainID, Height: h, Proposer: 1, TimeUnixMilli: c.now, TxCount: uint64(len(txs)),
		TxRoot: block.TxRoot(txs), StateRoot: block.Sum([]byte(fmt.Sprint("state", h, c.log.Root()))), LogSize: c.log.Size, LogRoot: c.log.Root(),
		ValidatorsHash: c.G.ValidatorsHash()}
	if h > 1 {
		hdr.PrevHash = c.blocks[h-2].Block.Hash()
	}
	cm := &block.Committed{Block: block.Block{Header: hdr, Txs: txs}, Metadata: []byte(fmt.Sprint("view 0 seq ", h)), VerSeq: 1}
	Certify(cm, c.Keys, 1, 2, 3)
	var err error
	c.log, err = c.log.Append(leaves, func(level uint, index uint64, hh block.Hash) {
		c.nodes[[2]uint64{uint64(level), index}] = hh
	})
	if err != nil {
		t.Fatal(err)
	}
	c.blocks = append(c.blocks, cm)
	return proof.CheckpointOf(cm)
}

// Certify (re)signs a committed block's certificate with the validators
// ids (1-based) using keys.
func Certify(cm *block.Committed, keys []ed25519.PrivateKey, ids ...uint64) {
	cm.Cert.Sigs = nil
	for _, id := range ids {
		v := block.Vote{ChainID: cm.Block.Header.ChainID, Height: cm.Block.Header.Height, BlockHash: cm.Block.Hash(), MetadataHash: block.Sum(cm.Metadata), VerSeq: cm.VerSeq}
		msg := v.Encode()
		cm.Cert.Sigs = append(cm.Cert.Sigs, block.CommitSig{Validator: id, Msg: msg, Sig: ed25519.Sign(keys[id-1], msg)})
	}
}

// Checkpoint is the checkpoint of block height (0: the newest).
func (c *Chain) Checkpoint(t testing.TB, height uint64) *proof.Checkpoint {
	t.Helper()
	if height == 0 {
		height = c.Height()
	}
	if height == 0 || height > c.Height() {
		t.Fatalf("witnesstest: no block %d", height)
	}
	return proof.CheckpointOf(c.blocks[height-1])
}

// Consistency is the consistency proof between two log sizes (from ≤ to).
func (c *Chain) Consistency(t testing.TB, from, to uint64) []block.Hash {
	t.Helper()
	hs, err := proof.Consistency(c, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}
