package store

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

// Off-chain payloads
//
// A payload (a full case-report form, a surgical note: anything whose hash
// is anchored on chain but whose bytes must not be) is kept by every node
// encrypted under its own random AES-256-GCM data key:
//
//	main store:  O ‖ payloadhash32 → nonce 12 ‖ AES-GCM(payload, additional data = payload hash)
//	key store:   payloadhash32 → wrapped data key (a second Pebble database, DIR/payload-keys)
//
// The key store holds the data keys wrapped by a key-encryption key that
// is not in the data directory (wrap.go): a copied data directory decrypts
// no payload without the node's key. A store opened without a KeyWrapper
// refuses payloads. Data keys a store kept in the clear (before wrapping)
// are wrapped at the first open with a KeyWrapper, and the key store is
// compacted so that no table keeps them.
//
// Redaction is crypto-shredding: the block that records a redaction deletes
// the ciphertext in its own batch, and Commit then deletes the data key,
// flushes the key store and compacts the key's range, so that no table or
// log file of the key store holds it any more. The key store runs without
// a write-ahead log (every write is flushed to a table before PutPayload
// returns) precisely so that no log file keeps a copy. At open, any key
// whose payload has a redaction record is shredded again (a crash between
// the block's commit and the shredding), so a node that was down, or
// behind, when a payload was redacted destroys it as it catches up and
// never serves it again. PutPayload refuses a redacted payload, so no
// peer or client can bring one back.
//
// What this does not control: copies outside the store (backups, the
// site's own records) and the disk's free blocks; full-disk encryption of
// a node's volume is the operator's control for those.

const (
	pPayload     = 'O' // O payloadhash32 → nonce ‖ ciphertext
	keyStoreDir  = "payload-keys"
	dataKeyBytes = 32
)

// Payload errors.
var (
	ErrRedacted       = errors.New("store: payload was redacted")
	ErrPayloadMissing = errors.New("store: payload not held by this node")
	ErrHashMismatch   = errors.New("store: payload does not hash to the given SHA-256")
)

func payloadKey(h block.Hash) []byte { return append([]byte{pPayload}, h[:]...) }

// PutPayload keeps a copy of the payload whose SHA-256 is h. It refuses
// bytes that do not hash to h and a payload that was redacted. Storing the
// same payload twice is a no-op.
func (s *Store) PutPayload(h block.Hash, data []byte) error {
	if block.Sum(data) != h {
		return fmt.Errorf("%w: got %s, want %s", ErrHashMismatch, block.Sum(data), h)
	}
	s.payMu.Lock()
	defer s.payMu.Unlock()
	if _, redacted, err := state.LookupRedaction(s, h); err != nil {
		return fmt.Errorf("store: payload %s: %w", h, err)
	} else if redacted {
		return fmt.Errorf("%w: %s", ErrRedacted, h)
	}
	if s.wrap == nil {
		return ErrNoKeyWrapper
	}
	if _, err := s.getKey(h); err == nil {
		return nil
	} else if !errors.Is(err, ErrPayloadMissing) {
		return err
	}
	key := make([]byte, dataKeyBytes)
	nonce := make([]byte, 12)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("store: payload key: %w", err)
	}
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("store: payload nonce: %w", err)
	}
	aead, err := payloadAEAD(key)
	if err != nil {
		return err
	}
	ct := aead.Seal(nonce, nonce, data, h[:])
	wrapped, err := s.wrap.WrapKey(h, key)
	if err != nil {
		return fmt.Errorf("store: payload key %s: %w", h, err)
	}
	if err := s.db.Set(payloadKey(h), ct, pebble.Sync); err != nil {
		return fmt.Errorf("store: payload %s: %w", h, err)
	}
	// The key store has no write-ahead log: a flush makes the key durable.
	if err := s.keys.Set(h[:], wrapped, pebble.NoSync); err != nil {
		return fmt.Errorf("store: payload key %s: %w", h, err)
	}
	if err := s.keys.Flush(); err != nil {
		return fmt.Errorf("store: payload key %s: %w", h, err)
	}
	return nil
}

// Payload returns the payload whose SHA-256 is h. It fails with ErrRedacted
// (wrapped with the redaction's height) if it was redacted and with
// ErrPayloadMissing if this node never received it.
func (s *Store) Payload(h block.Hash) ([]byte, error) {
	if x, redacted, err := state.LookupRedaction(s, h); err != nil {
		return nil, fmt.Errorf("store: payload %s: %w", h, err)
	} else if redacted {
		return nil, fmt.Errorf("%w: %s at block %d", ErrRedacted, h, x.Height)
	}
	if s.wrap == nil {
		return nil, ErrNoKeyWrapper
	}
	wrapped, err := s.getKey(h)
	if err != nil {
		return nil, err
	}
	key, err := s.wrap.UnwrapKey(h, wrapped)
	if err != nil {
		return nil, err
	}
	ct, err := s.get(payloadKey(h), "payload "+h.String())
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrPayloadMissing, h)
	}
	if err != nil {
		return nil, err
	}
	aead, err := payloadAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(ct) < aead.NonceSize() {
		return nil, fmt.Errorf("store: payload %s is corrupt", h)
	}
	data, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], h[:])
	if err != nil || block.Sum(data) != h {
		return nil, fmt.Errorf("store: payload %s is corrupt", h)
	}
	return data, nil
}

// HasPayloadKey reports whether the key store still holds the data key of
// payload h (false once it is shredded).
func (s *Store) HasPayloadKey(h block.Hash) (bool, error) {
	_, err := s.getKey(h)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrPayloadMissing):
		return false, nil
	}
	return false, err
}

// getKey returns the stored (wrapped) data key of payload h.
func (s *Store) getKey(h block.Hash) ([]byte, error) {
	v, closer, err := s.keys.Get(h[:])
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrPayloadMissing, h)
	}
	if err != nil {
		return nil, fmt.Errorf("store: payload key %s: %w", h, err)
	}
	defer closer.Close()
	if len(v) != wrappedLen && len(v) != dataKeyBytes { // a clear key: until the first open with a KeyWrapper
		return nil, fmt.Errorf("store: payload key %s is corrupt", h)
	}
	return bytes.Clone(v), nil
}

// wrapLegacyKeys wraps the data keys a store kept in the clear (32 bytes),
// then flushes and compacts the key store so no table holds them.
func (s *Store) wrapLegacyKeys() error {
	if s.wrap == nil {
		return nil
	}
	it, err := s.keys.NewIter(nil)
	if err != nil {
		return fmt.Errorf("store: scan payload keys: %w", err)
	}
	type kv struct {
		h   block.Hash
		key []byte
	}
	var legacy []kv
	for ok := it.First(); ok; ok = it.Next() {
		if v := it.Value(); len(v) == dataKeyBytes && len(it.Key()) == len(block.Hash{}) {
			var h block.Hash
			copy(h[:], it.Key())
			legacy = append(legacy, kv{h, bytes.Clone(v)})
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("store: scan payload keys: %w", err)
	}
	if len(legacy) == 0 {
		return nil
	}
	for _, l := range legacy {
		w, err := s.wrap.WrapKey(l.h, l.key)
		if err != nil {
			return fmt.Errorf("store: wrap payload key %s: %w", l.h, err)
		}
		if err := s.keys.Set(l.h[:], w, pebble.NoSync); err != nil {
			return fmt.Errorf("store: wrap payload key %s: %w", l.h, err)
		}
	}
	if err := s.keys.Flush(); err != nil {
		return fmt.Errorf("store: wrap payload keys: %w", err)
	}
	hi := bytes.Repeat([]byte{0xff}, len(block.Hash{})+1)
	if err := s.keys.Compact(context.Background(), nil, hi, false); err != nil {
		return fmt.Errorf("store: wrap payload keys: %w", err)
	}
	return nil
}

// shred destroys the data keys of the payloads: delete, flush, and compact
// each key's range so the tables that held it are rewritten and removed.
func (s *Store) shred(hs []block.Hash) error {
	if len(hs) == 0 {
		return nil
	}
	for _, h := range hs {
		if err := s.keys.Delete(h[:], pebble.NoSync); err != nil {
			return fmt.Errorf("store: shred payload key %s: %w", h, err)
		}
	}
	if err := s.keys.Flush(); err != nil {
		return fmt.Errorf("store: shred payload keys: %w", err)
	}
	for _, h := range hs {
		end := append(bytes.Clone(h[:]), 0)
		if err := s.keys.Compact(context.Background(), h[:], end, false); err != nil {
			return fmt.Errorf("store: shred payload key %s: %w", h, err)
		}
	}
	return nil
}

// redactedIn lists the payloads a block's writes redact.
func redactedIn(ws []state.Write) []block.Hash {
	var out []block.Hash
	for _, w := range ws {
		if h, ok := state.RedactedPayload(w.Key); ok && !w.Delete {
			out = append(out, h)
		}
	}
	return out
}

// reconcilePayloads shreds, at open, every payload that has a redaction
// record but still a data key or ciphertext (a crash after a redaction's
// block was committed but before its key was shredded). It walks the
// redaction records, which are few, not the payloads.
func (s *Store) reconcilePayloads() error {
	var redacted []block.Hash
	err := s.Iterate(state.RedactionKey(block.Hash{})[:1], func(k, _ []byte) bool {
		if h, ok := state.RedactedPayload(k); ok {
			redacted = append(redacted, h)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("store: scan redactions: %w", err)
	}
	var doomed []block.Hash
	for _, h := range redacted {
		hasKey, err := s.HasPayloadKey(h)
		if err != nil {
			return err
		}
		_, cerr := s.get(payloadKey(h), "")
		if cerr != nil && !errors.Is(cerr, ErrNotFound) {
			return cerr
		}
		if hasKey || cerr == nil {
			doomed = append(doomed, h)
		}
	}
	for _, h := range doomed {
		if err := s.db.Delete(payloadKey(h), pebble.Sync); err != nil {
			return fmt.Errorf("store: drop redacted payload %s: %w", h, err)
		}
	}
	return s.shred(doomed)
}

func payloadAEAD(key []byte) (cipher.AEAD, error) {
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: payload cipher: %w", err)
	}
	a, err := cipher.NewGCM(c)
	if err != nil {
		return nil, fmt.Errorf("store: payload cipher: %w", err)
	}
	return a, nil
}
