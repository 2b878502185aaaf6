package genesis

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// ErrCertificate is returned when a block's commit certificate does not prove
// that a quorum of this genesis's validators signed it.
var ErrCertificate = errors.New("genesis: invalid commit certificate")

// VerifyCertificate checks that c carries signatures of at least Quorum()
// distinct validators of g, each an ed25519 signature over a Vote naming
// exactly this block (chain id, height, block hash, metadata hash). It is a
// pure function: offline verifiers and block sync use it alike.
func (g *Genesis) VerifyCertificate(c *block.Committed) error {
	hash := c.Block.Hash()
	mdHash := block.Sum(c.Metadata)
	seen := map[uint64]bool{}
	for i, s := range c.Cert.Sigs {
		v, ok := g.Validator(s.Validator)
		if !ok {
			return fmt.Errorf("%w: block %d signature %d: signer %d is not a validator", ErrCertificate, c.Block.Header.Height, i, s.Validator)
		}
		if seen[s.Validator] {
			return fmt.Errorf("%w: block %d: validator %d signed twice", ErrCertificate, c.Block.Header.Height, s.Validator)
		}
		vote, err := block.DecodeVote(s.Msg)
		if err != nil {
			return fmt.Errorf("%w: block %d signature of validator %d: %w", ErrCertificate, c.Block.Header.Height, s.Validator, err)
		}
		if vote.ChainID != g.ChainID || vote.Height != c.Block.Header.Height || vote.BlockHash != hash ||
			vote.MetadataHash != mdHash || vote.VerSeq != c.VerSeq {
			return fmt.Errorf("%w: block %d: validator %d signed another block", ErrCertificate, c.Block.Header.Height, s.Validator)
		}
		if !ed25519.Verify(ed25519.PublicKey(v.Key), s.Msg, s.Sig) {
			return fmt.Errorf("%w: block %d: bad signature of validator %d", ErrCertificate, c.Block.Header.Height, s.Validator)
		}
		seen[s.Validator] = true
	}
	if len(seen) < g.Quorum() {
		return fmt.Errorf("%w: block %d has %d validator signatures, quorum is %d", ErrCertificate, c.Block.Header.Height, len(seen), g.Quorum())
	}
	return nil
}
