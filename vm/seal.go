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
// plus one per separator in its key, however many seals exist.
type SealStore struct {
	kv     KV
	height uint64
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

// Sealed reports whether key is sealed, and by which seal (the sealed key
// or prefix, for the error message).
func (s *SealStore) Sealed(key []byte) (sealed bool, by string, err error) {
	if _, ok, err := s.kv.Get(append([]byte{sealKey}, key...)); err != nil || ok {
		return ok, string(key), err
	}
	for i, c := range key {
		if c != abi.SealSep {
			continue
		}
		if _, ok, err := s.kv.Get(append([]byte{sealPrefix}, key[:i+1]...)); err != nil || ok {
			return ok, string(key[:i+1]) + "…", err
		}
	}
	return false, "", nil
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
	}
	k := append([]byte{kind}, key...)
	if _, ok, err := s.kv.Get(k); err != nil || ok {
		return err
	}
	return s.kv.Set(k, binary.BigEndian.AppendUint64(nil, s.height))
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
