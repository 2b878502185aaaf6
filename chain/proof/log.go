package proof

import (
	"crypto"
	"crypto/sha256" // also registers SHA-256 for rfc6962.New
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/trialchain/trialchain/chain/block"
)

var (
	hasher  = rfc6962.New(crypto.SHA256)
	factory = &compact.RangeFactory{Hash: hashChildren}
)

// hashChildren is hasher.HashChildren, SHA-256(0x01 ‖ l ‖ r), with one
// allocation (the result) instead of four: the log hashes about two nodes
// per record, twice per block (ledger and store). TestHashChildren
// compares the two.
func hashChildren(l, r []byte) []byte {
	if len(l) != sha256.Size || len(r) != sha256.Size {
		return hasher.HashChildren(l, r)
	}
	var in [1 + 2*sha256.Size]byte
	in[0] = rfc6962.RFC6962NodeHashPrefix
	copy(in[1:], l)
	copy(in[1+sha256.Size:], r)
	h := sha256.Sum256(in[:])
	return h[:]
}

// LeafHash is the RFC 9162 leaf hash of a record: SHA-256(0x00 ‖ data).
func LeafHash(data []byte) block.Hash {
	// A record that fits is hashed from a buffer on the stack.
	var in [512]byte
	if len(data) < len(in) {
		in[0] = rfc6962.RFC6962LeafHashPrefix
		n := copy(in[1:], data)
		return sha256.Sum256(in[:1+n])
	}
	var h block.Hash
	copy(h[:], hasher.HashLeaf(data))
	return h
}

// Frontier is the state of the log needed to append to it.
type Frontier struct {
	Size   uint64
	Hashes []block.Hash // compact range [0, Size), left to right
}

func (f Frontier) rng() (*compact.Range, error) {
	hs := make([][]byte, len(f.Hashes))
	for i := range f.Hashes {
		hs[i] = f.Hashes[i][:]
	}
	r, err := factory.NewRange(0, f.Size, hs)
	if err != nil {
		return nil, fmt.Errorf("proof: frontier of size %d: %w", f.Size, err)
	}
	return r, nil
}

// Append adds leaves (leaf hashes) and returns the new frontier. visit, if
// not nil, sees every tree node completed by the append (for storage of
// proof material).
func (f Frontier) Append(leaves []block.Hash, visit func(level uint, index uint64, h block.Hash)) (Frontier, error) {
	r, err := f.rng()
	if err != nil {
		return f, err
	}
	var v compact.VisitFn
	if visit != nil {
		v = func(id compact.NodeID, hash []byte) {
			var h block.Hash
			copy(h[:], hash)
			visit(id.Level, id.Index, h)
		}
	}
	// The range reads leaves[i] in place (it never writes a hash it is
	// given, and out copies what it keeps), so no leaf is copied.
	for i := range leaves {
		if err := r.Append(leaves[i][:], v); err != nil {
			return f, fmt.Errorf("proof: append: %w", err)
		}
	}
	out := Frontier{Size: r.End()}
	for _, h := range r.Hashes() {
		var x block.Hash
		copy(x[:], h)
		out.Hashes = append(out.Hashes, x)
	}
	return out, nil
}

// Root returns the RFC 9162 tree hash of the log.
func (f Frontier) Root() block.Hash {
	var h block.Hash
	if f.Size == 0 {
		copy(h[:], hasher.EmptyRoot())
		return h
	}
	r, err := f.rng()
	if err != nil {
		return h
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return h
	}
	copy(h[:], root)
	return h
}

// Encode: size 8 ‖ uvarint count ‖ hashes.
func (f Frontier) Encode() []byte {
	var w block.Writer
	w.Uint64(f.Size)
	w.Uvarint(uint64(len(f.Hashes)))
	for _, h := range f.Hashes {
		w.Fixed(h[:])
	}
	return w.Bytes()
}

// DecodeFrontier decodes and checks a frontier.
func DecodeFrontier(b []byte) (Frontier, error) {
	r := block.NewReader(b)
	f := Frontier{Size: r.Uint64("log size")}
	n := r.Count(64, "frontier hashes")
	for i := 0; i < n && r.Err() == nil; i++ {
		f.Hashes = append(f.Hashes, r.Hash("frontier hash"))
	}
	if err := r.Done(); err != nil {
		return Frontier{}, fmt.Errorf("frontier: %w", err)
	}
	if _, err := f.rng(); err != nil {
		return Frontier{}, err
	}
	return f, nil
}
