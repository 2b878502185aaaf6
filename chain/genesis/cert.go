package genesis

import (
	"errors"

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
	return g.Set().VerifyCertificate(g.ChainID, c)
}
