package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// checkRefuses checks that node i, restarted on the store Tamper altered,
// serves none of it: its status lists the damage, and the altered anchor,
// receipt and block are refused rather than served.
func checkRefuses(ctx context.Context, c *Cluster, i int, t *Tampered) []string {
	var fails []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.Status(i)
		if err == nil && len(st.StoreDamage) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return append(fails, fmt.Sprintf("tamper: node %d does not say its store is damaged (status %+v, %v)", i, st, err))
		}
		time.Sleep(100 * time.Millisecond)
	}
	cl := c.Clients[i]
	if as, err := cl.Anchors(ctx, t.Doc); err == nil || !strings.Contains(err.Error(), "store_damaged") {
		fails = append(fails, fmt.Sprintf("tamper: node %d served the altered anchor of %s: %+v (%v)", i, t.Doc, as, err))
	}
	if rc, err := cl.Tx(ctx, t.Tx); err == nil || !strings.Contains(err.Error(), "store_damaged") {
		fails = append(fails, fmt.Sprintf("tamper: node %d served the altered receipt of %s: %+v (%v)", i, t.Tx, rc, err))
	}
	if b, err := cl.Block(ctx, t.Height); err == nil || !strings.Contains(err.Error(), "store_damaged") {
		fails = append(fails, fmt.Sprintf("tamper: node %d served the altered block %d: %+v (%v)", i, t.Height, b, err))
	}
	return fails
}
