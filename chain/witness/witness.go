package witness

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
)

// Witness is a running witness: its key, the genesis it follows, and its
// store. Add is safe for concurrent use: the check and the durable write
// of the new state are one step under a lock (the race C2SP tlog-witness
// warns of cannot roll the state back).
type Witness struct {
	mu    sync.Mutex
	key   ed25519.PrivateKey
	pub   PublicKey
	g     *genesis.Genesis
	vals  proof.Validators // g, or the sets walked from it (SetValidators)
	store *Store
	now   func() time.Time
}

// New makes a witness over an open store. It binds the store to g's chain
// on first use (and refuses another chain afterwards). now is the clock
// cosignatures are dated by (time.Now in production).
//
// # Errors
//
// ErrKeyMismatch if key is not the store's; ErrChainMismatch.
func New(store *Store, key ed25519.PrivateKey, name string, g *genesis.Genesis, now func() time.Time) (*Witness, error) {
	pub := PublicKey{Name: name, Key: key.Public().(ed25519.PublicKey)}
	if store.st.Name != name || !bytes.Equal(store.st.Key, pub.Key) {
		return nil, fmt.Errorf("%w: the state belongs to %s (key %s), the key is %s", ErrKeyMismatch, store.st.Name, Fingerprint(store.st.Key), pub)
	}
	if err := store.Bind(g); err != nil {
		return nil, err
	}
	return &Witness{key: key, pub: pub, g: g, vals: g, store: store, now: now}, nil
}

// PublicKey is the witness's identity.
func (w *Witness) PublicKey() PublicKey { return w.pub }

// Genesis is the genesis the witness follows.
func (w *Witness) Genesis() *genesis.Genesis { return w.g }

// SetValidators makes the witness check certificates against vals from
// now on: on a chain whose validator set changes (the genesis names
// params.validator_group), the sets walked from the genesis through the
// certified set changes (a genesis.History of the witness's genesis,
// which the caller must not change afterwards: pass a Clone). A witness
// that is never told checks against the genesis set alone, and so
// refuses every checkpoint certified after a set change.
func (w *Witness) SetValidators(vals proof.Validators) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.vals = vals
}

// Latest is the newest checkpoint cosigned as Latest, with that
// cosignature (nil before the first).
func (w *Witness) Latest() *Cosignature {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.store.Latest()
}

// Add is add-checkpoint: Check the request against the latest state and,
// if it passes, sign. A Latest statement is persisted (Store.Append)
// before it is returned; a Prefix statement changes nothing on disk. A
// refusal writes nothing.
//
// # Errors
//
// Check's refusals; a storage error (then nothing was cosigned).
func (w *Witness) Add(req *Request) (*Cosignature, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := CheckAgainst(w.g, w.vals, w.store.Latest(), req)
	if err != nil {
		return nil, err
	}
	c, err := Sign(w.key, w.pub.Name, w.now(), st, req.Checkpoint)
	if err != nil {
		return nil, err
	}
	if st == Latest {
		if last := w.store.Latest(); last != nil && last.BlockHash == c.BlockHash {
			return c, nil // the same checkpoint again: a fresh date, no new record
		}
		if err := w.store.Append(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close closes the store.
func (w *Witness) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.store.Close()
}
