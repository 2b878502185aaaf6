package genesis

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"

	"github.com/trialchain/trialchain/chain/block"
)

// ErrSetChange is returned for a validator-set change that cannot apply to
// the set in force (an id or key already used, a validator not present, a
// set that would be left empty) or that is out of height order.
var ErrSetChange = errors.New("genesis: invalid validator-set change")

// Set is a validator set in force from block height From on (genesis's set
// is in force from height 1). Validators are in ascending id order. A Set
// is immutable: Apply returns a new one.
type Set struct {
	From       uint64
	Validators []Validator
}

// Set returns the genesis validator set, in force from height 1.
func (g *Genesis) Set() *Set {
	vs := append([]Validator(nil), g.Validators...)
	sort.Slice(vs, func(i, j int) bool { return vs[i].ID < vs[j].ID })
	return &Set{From: 1, Validators: vs}
}

// F is the number of Byzantine validators the set tolerates: n = 3f+1.
func (s *Set) F() int { return (len(s.Validators) - 1) / 3 }

// Quorum is SmartBFT's quorum for the set, ⌈(n+f+1)/2⌉ (2f+1 when n = 3f+1).
func (s *Set) Quorum() int { return (len(s.Validators) + s.F() + 2) / 2 }

// Validator returns the validator with id.
func (s *Set) Validator(id uint64) (Validator, bool) {
	i := sort.Search(len(s.Validators), func(i int) bool { return s.Validators[i].ID >= id })
	if i < len(s.Validators) && s.Validators[i].ID == id {
		return s.Validators[i], true
	}
	return Validator{}, false
}

// IDs returns the validator ids in ascending order.
func (s *Set) IDs() []uint64 {
	ids := make([]uint64, len(s.Validators))
	for i, v := range s.Validators {
		ids[i] = v.ID
	}
	return ids
}

// Hash commits to the set's ids and keys with the encoding of
// Genesis.ValidatorsHash (so the genesis set hashes the same either way):
// SHA-256 of uvarint count ‖ each in id order: id 8 ‖ key 32.
func (s *Set) Hash() block.Hash {
	var w block.Writer
	w.Uvarint(uint64(len(s.Validators)))
	for _, v := range s.Validators {
		w.Uint64(v.ID)
		w.Fixed(v.Key)
	}
	return block.Sum(w.Bytes())
}

// VerifyCertificate checks that c carries signatures of at least Quorum()
// distinct validators of s, each an ed25519 signature over a Vote naming
// exactly this block of chain chainID. It is a pure function.
func (s *Set) VerifyCertificate(chainID string, c *block.Committed) error {
	hash := c.Block.Hash()
	mdHash := block.Sum(c.Metadata)
	height := c.Block.Header.Height
	seen := map[uint64]bool{}
	for i, sg := range c.Cert.Sigs {
		v, ok := s.Validator(sg.Validator)
		if !ok {
			return fmt.Errorf("%w: block %d signature %d: signer %d is not a validator", ErrCertificate, height, i, sg.Validator)
		}
		if seen[sg.Validator] {
			return fmt.Errorf("%w: block %d: validator %d signed twice", ErrCertificate, height, sg.Validator)
		}
		vote, err := block.DecodeVote(sg.Msg)
		if err != nil {
			return fmt.Errorf("%w: block %d signature of validator %d: %w", ErrCertificate, height, sg.Validator, err)
		}
		if vote.ChainID != chainID || vote.Height != height || vote.BlockHash != hash ||
			vote.MetadataHash != mdHash || vote.VerSeq != c.VerSeq {
			return fmt.Errorf("%w: block %d: validator %d signed another block", ErrCertificate, height, sg.Validator)
		}
		if !ed25519.Verify(ed25519.PublicKey(v.Key), sg.Msg, sg.Sig) {
			return fmt.Errorf("%w: block %d: bad signature of validator %d", ErrCertificate, height, sg.Validator)
		}
		seen[sg.Validator] = true
	}
	if len(seen) < s.Quorum() {
		return fmt.Errorf("%w: block %d has %d validator signatures, quorum is %d", ErrCertificate, height, len(seen), s.Quorum())
	}
	return nil
}

// Operations of a Change. Values are part of the wire format.
const (
	ChangeAdd    byte = 1 // add Validator (all fields)
	ChangeRemove byte = 2 // remove the validator with Validator.ID (other fields empty)
)

// Limits of a Change's fields.
const (
	MaxAddrBytes = 255
)

// Change adds or removes one validator (a hospital joining or leaving).
type Change struct {
	Op        byte
	Validator Validator
}

const changeDomain = "trialchain/validator-change/v1"

// Encode is the canonical encoding of the change: domain ‖ op ‖ id 8, and
// for an add: name ‖ key 32 ‖ addr ‖ api (strings uvarint-length-prefixed).
func (c Change) Encode() []byte {
	var w block.Writer
	w.String(changeDomain)
	w.Byte(c.Op)
	w.Uint64(c.Validator.ID)
	if c.Op == ChangeAdd {
		w.String(c.Validator.Name)
		w.Fixed(c.Validator.Key)
		w.String(c.Validator.Addr)
		w.String(c.Validator.API)
	}
	return w.Bytes()
}

// Hash identifies the change (what a consent of the validator
// organisations signs).
func (c Change) Hash() block.Hash { return block.Sum(c.Encode()) }

// DecodeChange decodes and checks the form of an encoded change: a known
// operation, a non-zero id, and for an add a 32-byte key and an address.
// It accepts exactly the bytes Encode produces.
func DecodeChange(b []byte) (Change, error) {
	r := block.NewReader(b)
	if d := r.String(len(changeDomain), "domain"); r.Err() == nil && d != changeDomain {
		return Change{}, fmt.Errorf("%w: domain %q", ErrSetChange, d)
	}
	var c Change
	c.Op = r.Byte("op")
	c.Validator.ID = r.Uint64("id")
	if r.Err() == nil && c.Op == ChangeAdd {
		c.Validator.Name = r.String(block.MaxNameBytes, "name")
		c.Validator.Key = Key(append([]byte(nil), r.Fixed(ed25519.PublicKeySize, "key")...))
		c.Validator.Addr = r.String(MaxAddrBytes, "addr")
		c.Validator.API = r.String(MaxAddrBytes, "api")
	}
	if err := r.Done(); err != nil {
		return Change{}, fmt.Errorf("%w: %w", ErrSetChange, err)
	}
	if err := c.check(); err != nil {
		return Change{}, err
	}
	return c, nil
}

func (c Change) check() error {
	v := c.Validator
	switch {
	case c.Op != ChangeAdd && c.Op != ChangeRemove:
		return fmt.Errorf("%w: unknown operation %d", ErrSetChange, c.Op)
	case v.ID == 0:
		return fmt.Errorf("%w: validator id must be > 0", ErrSetChange)
	case c.Op == ChangeRemove && (v.Name != "" || len(v.Key) != 0 || v.Addr != "" || v.API != ""):
		return fmt.Errorf("%w: a removal names only the id", ErrSetChange)
	case c.Op == ChangeAdd && len(v.Key) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: validator %d: key must be %d bytes", ErrSetChange, v.ID, ed25519.PublicKeySize)
	case c.Op == ChangeAdd && (v.Addr == "" || len(v.Addr) > MaxAddrBytes || len(v.API) > MaxAddrBytes):
		return fmt.Errorf("%w: validator %d: addr must be 1..%d bytes", ErrSetChange, v.ID, MaxAddrBytes)
	case c.Op == ChangeAdd && len(v.Name) > block.MaxNameBytes:
		return fmt.Errorf("%w: validator %d: name over %d bytes", ErrSetChange, v.ID, block.MaxNameBytes)
	}
	return nil
}

// Apply returns the set that results from c, in force from height from
// (the block after the one that carried c). It refuses a change that does
// not fit s: an add whose id or key is in use or that exceeds
// block.MaxCertSigs validators, a removal of an absent validator or of the
// last one, or a from before s.From (from == s.From is a second change in
// the block that made s).
func (s *Set) Apply(c Change, from uint64) (*Set, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if from < s.From || from < 2 {
		return nil, fmt.Errorf("%w: change at height %d, the set in force is from %d", ErrSetChange, from, s.From)
	}
	out := &Set{From: from}
	switch c.Op {
	case ChangeAdd:
		if len(s.Validators)+1 > block.MaxCertSigs {
			return nil, fmt.Errorf("%w: the set already has %d validators", ErrSetChange, len(s.Validators))
		}
		for _, v := range s.Validators {
			if v.ID == c.Validator.ID {
				return nil, fmt.Errorf("%w: validator id %d is in use", ErrSetChange, v.ID)
			}
			if ed25519.PublicKey(v.Key).Equal(ed25519.PublicKey(c.Validator.Key)) {
				return nil, fmt.Errorf("%w: the key of validator %d is validator %d's", ErrSetChange, c.Validator.ID, v.ID)
			}
		}
		out.Validators = append(append(make([]Validator, 0, len(s.Validators)+1), s.Validators...), c.Validator)
		sort.Slice(out.Validators, func(i, j int) bool { return out.Validators[i].ID < out.Validators[j].ID })
	case ChangeRemove:
		if _, ok := s.Validator(c.Validator.ID); !ok {
			return nil, fmt.Errorf("%w: validator %d is not in the set", ErrSetChange, c.Validator.ID)
		}
		if len(s.Validators) == 1 {
			return nil, fmt.Errorf("%w: validator %d is the last one", ErrSetChange, c.Validator.ID)
		}
		for _, v := range s.Validators {
			if v.ID != c.Validator.ID {
				out.Validators = append(out.Validators, v)
			}
		}
	}
	return out, nil
}

// History is the sequence of validator sets from the genesis on, each in
// force from its From height until the next one's. It is what a verifier
// checks a certificate at a height against.
type History struct {
	chainID string
	sets    []*Set // ascending From; sets[0] is the genesis set
}

// NewHistory starts a history at the genesis set.
func NewHistory(g *Genesis) *History {
	return &History{chainID: g.ChainID, sets: []*Set{g.Set()}}
}

// Latest is the set in force after the last applied change.
func (h *History) Latest() *Set { return h.sets[len(h.sets)-1] }

// Clone returns a copy of h that changes apart from it (the sets
// themselves are immutable and shared).
func (h *History) Clone() *History {
	return &History{chainID: h.chainID, sets: append([]*Set(nil), h.sets...)}
}

// Sets returns the sets in order (shared; do not modify).
func (h *History) Sets() []*Set { return h.sets }

// At returns the set in force at block height.
func (h *History) At(height uint64) *Set {
	i := sort.Search(len(h.sets), func(i int) bool { return h.sets[i].From > height })
	if i == 0 {
		return h.sets[0]
	}
	return h.sets[i-1]
}

// Apply records change c, carried by block height at (so in force from
// at+1). Changes must come in height order; several changes in one block
// apply in their order and make one set.
func (h *History) Apply(c Change, at uint64) error {
	if at == 0 {
		return fmt.Errorf("%w: no block 0 carries changes", ErrSetChange)
	}
	next, err := h.Latest().Apply(c, at+1)
	if err != nil {
		return fmt.Errorf("validator change in block %d: %w", at, err)
	}
	if len(h.sets) > 1 && h.Latest().From == next.From {
		h.sets[len(h.sets)-1] = next
		return nil
	}
	h.sets = append(h.sets, next)
	return nil
}

// ApplyCertified walks one step of the set-change chain a client holds:
// block c, certified by the set in force at its height, carries changes
// (which the caller has found in c's transactions). Its certificate and
// its header's validator-set hash are checked before the changes apply.
func (h *History) ApplyCertified(c *block.Committed, changes []Change) error {
	if err := h.VerifyCertificate(c); err != nil {
		return err
	}
	for _, ch := range changes {
		if err := h.Apply(ch, c.Block.Header.Height); err != nil {
			return err
		}
	}
	return nil
}

// ValidatorsHash is the hash of the latest set (proof.Validators).
func (h *History) ValidatorsHash() block.Hash { return h.Latest().Hash() }

// ValidatorsHashAt is the hash of the set in force at height
// (proof.SetsByHeight).
func (h *History) ValidatorsHashAt(height uint64) block.Hash { return h.At(height).Hash() }

// VerifyCertificate checks c against the set in force at its height: the
// header names that set's hash and a quorum of it signed the block.
func (h *History) VerifyCertificate(c *block.Committed) error {
	s := h.At(c.Block.Header.Height)
	if got, want := c.Block.Header.ValidatorsHash, s.Hash(); got != want {
		return fmt.Errorf("%w: block %d names validator set %s, the set in force from height %d is %s",
			ErrCertificate, c.Block.Header.Height, got, s.From, want)
	}
	return s.VerifyCertificate(h.chainID, c)
}

// MaxSetBytes bounds an encoded Set.
const MaxSetBytes = block.MaxCertSigs * (MaxAddrBytes*2 + block.MaxNameBytes + 64)

// EncodeSet is the canonical encoding of s (the state entry of the set in
// force): from 8 ‖ uvarint count ‖ each validator in id order as the
// bytes of its add Change.
func EncodeSet(s *Set) []byte {
	var w block.Writer
	w.Uint64(s.From)
	w.Uvarint(uint64(len(s.Validators)))
	for _, v := range s.Validators {
		w.VarBytes(Change{Op: ChangeAdd, Validator: v}.Encode())
	}
	return w.Bytes()
}

// DecodeSet decodes an EncodeSet encoding: 1..block.MaxCertSigs
// validators in strictly ascending id order with distinct keys.
func DecodeSet(b []byte) (*Set, error) {
	if len(b) > MaxSetBytes {
		return nil, fmt.Errorf("%w: set of %d bytes", ErrSetChange, len(b))
	}
	r := block.NewReader(b)
	s := &Set{From: r.Uint64("from")}
	n := r.Count(block.MaxCertSigs, "validators")
	keys := map[string]bool{}
	for i := 0; i < n && r.Err() == nil; i++ {
		c, err := DecodeChange(r.VarBytes(MaxSetBytes, "validator"))
		if err != nil {
			return nil, fmt.Errorf("validator %d of the set: %w", i, err)
		}
		if c.Op != ChangeAdd || (i > 0 && c.Validator.ID <= s.Validators[i-1].ID) || keys[string(c.Validator.Key)] {
			return nil, fmt.Errorf("%w: validator %d of the set is out of order or repeated", ErrSetChange, i)
		}
		keys[string(c.Validator.Key)] = true
		s.Validators = append(s.Validators, c.Validator)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetChange, err)
	}
	if len(s.Validators) == 0 || s.From == 0 {
		return nil, fmt.Errorf("%w: an empty set or one from height 0", ErrSetChange)
	}
	return s, nil
}
