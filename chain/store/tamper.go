package store

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

// The Tamper functions rewrite one stored value behind the chain's back,
// as someone editing the Pebble files would: they exist for the tests and
// the fault-injection harness (chain/e2e) that show a node and
// `trialchain doctor` find such damage. Nothing else calls them.

// TamperBlock rewrites the stored block at height with what edit makes of
// it (its certificate is kept, so an edited header no longer verifies).
func (s *Store) TamperBlock(height uint64, edit func(*block.Committed)) error {
	c, err := s.Block(height)
	if err != nil {
		return err
	}
	edit(c)
	return s.tamper(heightKey(pBlock, height), c.Encode())
}

// TamperReceipt rewrites the stored receipt of transaction h with what
// edit makes of it.
func (s *Store) TamperReceipt(h block.Hash, edit func(*block.Receipt)) error {
	loc, _, err := s.txIndex(h)
	if err != nil {
		return err
	}
	rc, err := s.Receipt(h)
	if err != nil {
		return err
	}
	edit(rc)
	return s.tamper(append([]byte{pReceipt}, loc...), rc.Encode())
}

// TamperState overwrites the stored value of a state key (the flat copy
// reads are served from, not the state tree).
func (s *Store) TamperState(key, value []byte) error {
	return s.tamper(stateKey(key), value)
}

func (s *Store) tamper(k, v []byte) error {
	err := s.db.Set(k, v, pebble.Sync)
	s.state.reset()
	if err != nil {
		return fmt.Errorf("store: tamper: %w", err)
	}
	return nil
}

// TamperAnchorLabel rewrites the label of every stored anchor of document
// doc (the flat state value; the state tree keeps the committed one).
func (s *Store) TamperAnchorLabel(doc block.Hash, label string) error {
	var as []*state.Anchor
	var derr error
	if err := s.Iterate(state.AnchorPrefix(doc), func(k, v []byte) bool {
		a, err := state.DecodeAnchor(k, v)
		if err != nil {
			derr = err
			return false
		}
		as = append(as, a)
		return true
	}); err != nil {
		return err
	}
	if derr != nil {
		return fmt.Errorf("store: tamper: %w", derr)
	}
	if len(as) == 0 {
		return fmt.Errorf("store: tamper: document %s: %w", doc, ErrNotFound)
	}
	for _, a := range as {
		key := append(state.AnchorPrefix(doc), binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, a.Height), a.Index)...)
		a.Label = label
		if err := s.TamperState(key, a.Encode()); err != nil {
			return err
		}
	}
	return nil
}

// TamperDeleteState removes the stored value of a state key.
func (s *Store) TamperDeleteState(key []byte) error {
	err := s.db.Delete(stateKey(key), pebble.Sync)
	s.state.reset()
	if err != nil {
		return fmt.Errorf("store: tamper: %w", err)
	}
	return nil
}
