package e2e

import (
	"context"
	"errors"
	"fmt"
	"github.com/trialchain/trialchain/chain/view"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/store"
)

// Tampered says what Tamper altered in a node's store.
type Tampered struct {
	Height uint64     // the block whose header time was changed
	Tx     block.Hash // the transaction whose receipt was changed
	Doc    block.Hash // the document whose anchor label was changed
}

// Tamper alters the Pebble store of node i, which must be down, the way
// someone editing its files would: in its newest block holding an anchor,
// the anchor's label, the transaction's receipt and the header's time.
func (c *Cluster) Tamper(i int) (*Tampered, error) {
	if c.Up(i) {
		return nil, fmt.Errorf("tamper: node %d is running", i)
	}
	s, err := store.Open(c.dbDir(i))
	if err != nil {
		return nil, fmt.Errorf("tamper node %d: %w", i, err)
	}
	defer s.Close()
	for h := s.Head().Height; h >= 1; h-- {
		b, err := s.Block(h)
		if err != nil {
			return nil, fmt.Errorf("tamper node %d: %w", i, err)
		}
		for _, raw := range b.Block.Txs {
			tx, err := block.DecodeTx(raw)
			if err != nil || tx.Kind != block.KindAnchor {
				continue
			}
			p, err := block.DecodeAnchor(tx.Payload)
			if err != nil {
				continue
			}
			t := &Tampered{Height: h, Tx: block.Sum(raw), Doc: p.Hash}
			if err := s.TamperAnchorLabel(t.Doc, "altered on disk"); err != nil {
				return nil, fmt.Errorf("tamper node %d: %w", i, err)
			}
			if err := s.TamperReceipt(t.Tx, func(rc *block.Receipt) { rc.Status, rc.Error = block.StatusFailed, "altered on disk" }); err != nil {
				return nil, fmt.Errorf("tamper node %d: %w", i, err)
			}
			if err := s.TamperBlock(h, func(c *block.Committed) { c.Block.Header.TimeUnixMilli -= 86_400_000 }); err != nil {
				return nil, fmt.Errorf("tamper node %d: %w", i, err)
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("tamper node %d: no anchor in its store", i)
}

// Doctor runs `trialchain doctor` on node i's home (the node must be down)
// and returns its exit code and output.
func (c *Cluster) Doctor(i int) (int, string, error) {
	out, err := exec.Command(c.Bin, "doctor", "--home", c.Homes[i]).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out), nil
	}
	if err != nil {
		return 0, string(out), fmt.Errorf("doctor node %d: %w", i, err)
	}
	return 0, string(out), nil
}

// Repair removes node i's data directory (store, consensus WAL, VM cache),
// which must be down, so that it starts from genesis and catches up from
// its peers: what an operator does once doctor reports damage.
func (c *Cluster) Repair(i int) error {
	if c.Up(i) {
		return fmt.Errorf("repair: node %d is running", i)
	}
	cfg, err := node.LoadConfig(c.Homes[i])
	if err != nil {
		return err
	}
	return os.RemoveAll(cfg.Path(cfg.DataDir))
}

func (c *Cluster) dbDir(i int) string {
	cfg, err := node.LoadConfig(c.Homes[i])
	if err != nil {
		return filepath.Join(c.Homes[i], "data", "db")
	}
	return filepath.Join(cfg.Path(cfg.DataDir), "db")
}

// checkRepaired checks that node i, restarted on the store Tamper
// altered, repairs itself from its peers: within wait its status lists no
// damage, and it serves the anchor, receipt and block Tamper altered
// exactly as node ref does (the block's signers aside: each node keeps the
// quorum of signatures it collected).
func checkRepaired(ctx context.Context, c *Cluster, i, ref int, t *Tampered, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		st, err := c.Status(i)
		if err == nil && len(st.StoreDamage) == 0 && st.Height >= t.Height {
			break
		}
		if time.Now().After(deadline) {
			return []string{fmt.Sprintf("tamper: node %d did not repair its store within %s (status %+v, %v)", i, wait, st, err)}
		}
		select {
		case <-ctx.Done():
			return []string{fmt.Sprintf("tamper: node %d: %v", i, ctx.Err())}
		case <-time.After(100 * time.Millisecond):
		}
	}
	var fails []string
	if i < len(c.Homes) { // the node says what it did in its log
		b, err := os.ReadFile(filepath.Join(c.Homes[i], "node.log"))
		if err != nil || !strings.Contains(string(b), "store damaged") || !strings.Contains(string(b), "store rebuilt from the certified chain") {
			fails = append(fails, fmt.Sprintf("tamper: node %d's log does not show it found the damage and rebuilt its store (%v)", i, err))
		}
	}
	same := func(what string, get func(cl int) (any, error)) {
		got, err := get(i)
		want, rerr := get(ref)
		switch {
		case err != nil || rerr != nil:
			fails = append(fails, fmt.Sprintf("tamper: %s on repaired node %d: %v; on node %d: %v", what, i, err, ref, rerr))
		case !reflect.DeepEqual(got, want):
			fails = append(fails, fmt.Sprintf("tamper: repaired node %d serves %s as %+v, node %d as %+v", i, what, got, ref, want))
		}
	}
	// The load goes on anchoring the same document: the two nodes are
	// compared on the anchors up to the tampered block, which both hold
	// (a later one may be committed on one and not yet on the other).
	same("the anchor of "+t.Doc.String(), func(n int) (any, error) {
		as, err := c.Clients[n].Anchors(ctx, t.Doc)
		var upTo []view.Anchor
		for _, a := range as {
			if a.Height <= t.Height {
				upTo = append(upTo, a)
			}
		}
		return upTo, err
	})
	same("transaction "+t.Tx.String(), func(n int) (any, error) { return c.Clients[n].Tx(ctx, t.Tx) })
	same(fmt.Sprintf("block %d", t.Height), func(n int) (any, error) {
		b, err := c.Clients[n].Block(ctx, t.Height)
		if b != nil {
			b.Signers = nil
		}
		return b, err
	})
	return fails
}
