package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/block"
)

// ErrBusy refuses a transaction the replica cannot take now: its request
// pool is full (by bytes) or the link to the leader is saturated. Nothing
// was kept; the client may try again shortly.
var ErrBusy = errors.New("consensus: busy")

// DefaultPoolMaxBytes bounds the bytes of pending transactions in one
// replica's request pool when Config.PoolMaxBytes is zero (the genesis
// RequestPoolSize bounds their count).
const DefaultPoolMaxBytes = 64 << 20

// poolBytes accounts the bytes of the transactions in the request pool,
// which SmartBFT bounds by count only. A transaction enters when this
// replica's pool takes it (a client's or a peer's) and leaves when a block
// carrying it is delivered, when the assembler drops it, or when it is
// older than maxAge (SmartBFT's auto-remove dropped it unseen by us).
type poolBytes struct {
	mu     sync.Mutex
	max    int64
	maxAge time.Duration
	used   int64
	txs    map[string]pooledTx // request id → size and arrival
	nextGC time.Time
	// order lists the arrivals oldest first from head on; an entry whose
	// id has left txs (or arrived again later) is skipped lazily.
	order []arrival
	head  int
}

type arrival struct {
	id string
	at time.Time
}

type pooledTx struct {
	size int64
	at   time.Time
}

// reserve records id of size bytes (added reports it was new), or refuses
// with ErrBusy when the pool would pass its byte bound. A known id is not
// counted twice.
func (p *poolBytes) reserve(id string, size int, now time.Time) (added bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.txs == nil {
		p.txs = make(map[string]pooledTx)
	}
	if _, ok := p.txs[id]; ok {
		return false, nil
	}
	if now.After(p.nextGC) || p.used+int64(size) > p.max {
		p.expireLocked(now)
	}
	if p.used+int64(size) > p.max {
		return false, fmt.Errorf("%w: request pool holds %d bytes of pending transactions (limit %d); try again shortly",
			ErrBusy, p.used, p.max)
	}
	p.addLocked(id, size, now)
	return true, nil
}

func (p *poolBytes) addLocked(id string, size int, now time.Time) {
	p.txs[id] = pooledTx{size: int64(size), at: now}
	p.used += int64(size)
	p.order = append(p.order, arrival{id: id, at: now})
	if len(p.order) > 2*len(p.txs)+1024 { // oldest is not called often enough to skip the gone
		kept := p.order[:0]
		for _, a := range p.order[p.head:] {
			if t, ok := p.txs[a.id]; ok && t.at.Equal(a.at) {
				kept = append(kept, a)
			}
		}
		clear(p.order[len(kept):])
		p.order, p.head = kept, 0
	}
}

// oldest returns how long the oldest pending transaction has waited,
// leaving out those that waited longer than ignoreAfter (a transaction
// SmartBFT still holds that long is past its complaint: a view change,
// not admission, deals with it; one it dropped must not hold admission
// back until maxAge).
func (p *poolBytes) oldest(now time.Time, ignoreAfter time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ; p.head < len(p.order); p.head++ {
		a := p.order[p.head]
		if t, ok := p.txs[a.id]; ok && t.at.Equal(a.at) {
			if age := now.Sub(a.at); age <= ignoreAfter {
				p.compactLocked()
				return age
			}
		}
		p.order[p.head] = arrival{}
	}
	p.compactLocked()
	return 0
}

// compactLocked drops the skipped prefix of order once it is half of it.
func (p *poolBytes) compactLocked() {
	if p.head > 0 && p.head >= len(p.order)/2 {
		p.order = append(p.order[:0], p.order[p.head:]...)
		p.head = 0
	}
}

// track records id of size bytes past the bound (a peer's transaction).
func (p *poolBytes) track(id string, size int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.txs == nil {
		p.txs = make(map[string]pooledTx)
	}
	if _, ok := p.txs[id]; !ok {
		p.addLocked(id, size, now)
	}
}

// expireLocked forgets entries older than maxAge.
func (p *poolBytes) expireLocked(now time.Time) {
	for id, t := range p.txs {
		if now.Sub(t.at) > p.maxAge {
			p.used -= t.size
			delete(p.txs, id)
		}
	}
	p.nextGC = now.Add(p.maxAge / 4)
}

// release forgets id (delivered, refused or removed).
func (p *poolBytes) release(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.txs[id]; ok {
		p.used -= t.size
		delete(p.txs, id)
	}
}

// pending returns the count and bytes accounted now.
func (p *poolBytes) pending() (n int, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.txs), p.used
}

// bytes returns the bytes accounted now.
func (p *poolBytes) bytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used
}

// recentIDs remembers the request ids of the last committed transactions
// (at most max), so a copy of a committed transaction that a peer forwards
// afterwards (SmartBFT re-forwards on its timers) is not counted as pending:
// nothing would ever release it, and it would hold admissions back as the
// network's oldest pending transaction. It keeps the first 8 bytes of each
// transaction hash, not its hex (the request id) nor the whole hash: 2^16
// hex ids took 7.5 MiB of a validator's live heap, whole hashes ~5 MiB,
// prefixes ~1.5 MiB. Two ids with one prefix only change this
// accounting: a new transaction sharing a committed one's prefix is not
// counted as pending (one transaction's bytes in the backlog check); an
// id is forgotten when another with its prefix leaves the ring. Both grow
// with use.
type recentIDs struct {
	mu   sync.Mutex
	max  int
	ids  map[uint64]struct{}
	ring []uint64 // grows to max, then ring[next] is the oldest id
	next int
}

// recentKey is the part of an id recentIDs keeps.
func recentKey(id block.Hash) uint64 { return binary.LittleEndian.Uint64(id[:8]) }

func (r *recentIDs) add(id block.Hash) {
	k := recentKey(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		if r.max <= 0 {
			r.max = 1 << 16
		}
		r.ids = make(map[uint64]struct{}) // grows with use: a quiet chain holds few
	}
	if _, ok := r.ids[k]; ok {
		return
	}
	if len(r.ring) < r.max {
		r.ring = append(r.ring, k)
	} else {
		delete(r.ids, r.ring[r.next])
		r.ring[r.next] = k
		r.next = (r.next + 1) % r.max
	}
	r.ids[k] = struct{}{}
}

func (r *recentIDs) has(id block.Hash) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[recentKey(id)]
	return ok
}
