package vm

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/trialchain/trialchain/vm/abi"
)

// SealStore keeps one contract's seals (see abi.FnStateSeal) in a KV the
// contract cannot name: the chain passes a view of chain-owned state (see
// chain/contracts), a test an in-memory KV. Layout:
//
//	'k' ‖ key     → height 8 (BE)   the key is sealed
//	'p' ‖ prefix  → height 8 (BE)   every key starting with prefix is sealed;
//	                                prefix ends with abi.SealSep
//
// A key k is sealed iff 'k'‖k is present, or 'p'‖k[:i+1] is present for
// some i with k[i] == abi.SealSep. So checking a write costs one lookup
// plus one per separator in its key, however many seals exist; with a
// PrefixSeals (WithPrefixes), only the separator-prefixes it holds are
// looked up. The gas of a check is the same either way (sealLookups).
type SealStore struct {
	kv       KV
	height   uint64
	prefixes *PrefixSeals // nil: every separator-prefix is looked up
	buf      []byte       // the record key of a lookup
}

// Seal kinds: the first byte of a seal record's key.
const (
	sealKey    = 'k'
	sealPrefix = 'p'
)

// NewSealStore returns the seal store kept in kv; new seals record height.
func NewSealStore(kv KV, height uint64) *SealStore { return &SealStore{kv: kv, height: height} }

// sealLookups is the number of lookups Sealed makes for key.
func sealLookups(key []byte) uint64 { return 1 + uint64(bytes.Count(key, []byte{abi.SealSep})) }

// WithPrefixes makes s skip the lookup of every separator-prefix that p
// does not hold (p holds every sealed prefix of s's KV, see PrefixSeals),
// and record in p the prefixes s seals. It returns s.
func (s *SealStore) WithPrefixes(p *PrefixSeals) *SealStore {
	s.prefixes = p
	return s
}

// Sealed reports whether key is sealed, and by which seal (the sealed key
// or prefix, for the error message).
func (s *SealStore) Sealed(key []byte) (sealed bool, by string, err error) {
	if ok, err := s.has(sealKey, key); err != nil || ok {
		return ok, string(key), err
	}
	for i, c := range key {
		if c != abi.SealSep || !s.prefixes.mayHold(key[:i+1]) {
			continue
		}
		if ok, err := s.has(sealPrefix, key[:i+1]); err != nil || ok {
			return ok, string(key[:i+1]) + "…", err
		}
	}
	return false, "", nil
}

// has reports whether the seal record kind ‖ key is present.
func (s *SealStore) has(kind byte, key []byte) (bool, error) {
	s.buf = append(append(s.buf[:0], kind), key...)
	_, ok, err := s.kv.Get(s.buf)
	return ok, err
}

// Seal seals key, or every key starting with it if prefix. A prefix must
// be non-empty and end with abi.SealSep. Sealing what is sealed already
// keeps the first seal's height.
func (s *SealStore) Seal(key []byte, prefix bool) error {
	kind := byte(sealKey)
	if prefix {
		if len(key) == 0 || key[len(key)-1] != abi.SealSep {
			return fmt.Errorf("a sealed prefix must end with %q, have %q", abi.SealSep, key)
		}
		kind = sealPrefix
		s.prefixes.add(key) // before the lookup: held even if that fails
	}
	k := append([]byte{kind}, key...)
	if _, ok, err := s.kv.Get(k); err != nil || ok {
		return err
	}
	return s.kv.Set(k, binary.BigEndian.AppendUint64(nil, s.height))
}

// PrefixSeals holds a superset of the prefixes sealed in one contract's
// seal store, so that checking a write looks up only the separator-prefixes
// of its key that it holds: none at all for a contract that sealed no
// prefix. The chain loads it once per block (LoadPrefixSeals) from the
// block's state and passes it to every SealStore of that contract in the
// block (SealStore.WithPrefixes); each records the prefixes it seals, so
// a prefix sealed earlier in the block is held, also when the call that
// sealed it failed and its seal was dropped (then it is looked up in
// vain: a superset only costs lookups). It never decides that a key is
// sealed, only that a prefix is not: results and gas are the same with it
// or without it.
//
// A PrefixSeals is not safe for concurrent use: a block's calls run in
// order. A nil *PrefixSeals holds every prefix.
type PrefixSeals struct {
	set map[string]struct{}
}

// LoadPrefixSeals reads the sealed prefixes of a seal store's kv (see
// SealStore). It returns nil (look every prefix up) if there are more than
// max: the load must stay cheap, since the chain pays it per block outside
// gas.
func LoadPrefixSeals(kv KV, max int) (*PrefixSeals, error) {
	p := &PrefixSeals{set: make(map[string]struct{})}
	over := false
	err := kv.Iterate([]byte{sealPrefix}, nil, func(k, _ []byte) bool {
		if len(p.set) >= max {
			over = true
			return false
		}
		p.set[string(k[1:])] = struct{}{}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("vm: loading sealed prefixes: %w", err)
	}
	if over {
		return nil, nil
	}
	return p, nil
}

// mayHold reports whether prefix may be sealed (p holds it, or p is nil).
func (p *PrefixSeals) mayHold(prefix []byte) bool {
	if p == nil {
		return true
	}
	_, ok := p.set[string(prefix)]
	return ok
}

// add records a sealed prefix.
func (p *PrefixSeals) add(prefix []byte) {
	if p != nil {
		p.set[string(prefix)] = struct{}{}
	}
}

// SealRecord is one seal as stored.
type SealRecord struct {
	Key    []byte // the sealed key, or prefix
	Prefix bool
	Height uint64
}

// Seals lists the seals in kv (a SealStore's KV) in key order.
func Seals(kv KV) ([]SealRecord, error) {
	var out []SealRecord
	var derr error
	err := kv.Iterate(nil, nil, func(k, v []byte) bool {
		if len(k) == 0 || (k[0] != sealKey && k[0] != sealPrefix) || len(v) != 8 {
			derr = fmt.Errorf("vm: malformed seal record %q", k)
			return false
		}
		out = append(out, SealRecord{Key: append([]byte(nil), k[1:]...), Prefix: k[0] == sealPrefix, Height: binary.BigEndian.Uint64(v)})
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}
