package state

import (
	"bytes"
	"slices"
	"sort"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

// Reader is read access to committed state. Implementations must return
// iteration results in ascending key order.
type Reader interface {
	// Get returns the value at key, or ok=false if absent.
	Get(key []byte) (value []byte, ok bool, err error)
	// Iterate calls fn for each key with the prefix in ascending order until fn returns false.
	Iterate(prefix []byte, fn func(key, value []byte) bool) error
}

// SharedReader is optionally implemented by a Reader that can return a
// value without copying it (the node's store returns its cache's own).
// The caller of GetShared must not modify the value, nor keep it past
// the read it serves.
type SharedReader interface {
	GetShared(key []byte) (value []byte, ok bool, err error)
}

// getShared reads key through r's GetShared if it has one, else its Get.
func getShared(r Reader, key []byte) ([]byte, bool, error) {
	if s, ok := r.(SharedReader); ok {
		return s.GetShared(key)
	}
	return r.Get(key)
}

// Write is one state change; a nil Value with Delete set removes the key.
type Write struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// Overlay buffers writes over a Reader. Overlays nest: a transaction runs in
// a child overlay that is merged into the block's overlay on success and
// dropped on failure, so a failed transaction leaves nothing behind.
type Overlay struct {
	base   Reader
	writes map[string]Write // by value: a Set allocates only the key and its copies
	scopes []string         // record sets the transaction joins (JoinScope)
}

// JoinScope says that the transaction running in this overlay belongs to
// the record set name (see scope.go). Unlike writes, it holds even if the
// transaction fails: the executor appends the transaction to every set
// named here after it ran. The same name twice counts once. Callers check
// the name (ValidScopeName) first.
func (o *Overlay) JoinScope(name string) {
	for _, s := range o.scopes {
		if s == name {
			return
		}
	}
	o.scopes = append(o.scopes, name)
}

// NewOverlay returns an empty overlay over base.
func NewOverlay(base Reader) *Overlay { return &Overlay{base: base, writes: map[string]Write{}} }

// Get reads through the overlay.
func (o *Overlay) Get(key []byte) ([]byte, bool, error) {
	if w, ok := o.writes[string(key)]; ok {
		if w.Delete {
			return nil, false, nil
		}
		return w.Value, true, nil
	}
	return o.base.Get(key)
}

// GetShared implements SharedReader: Get, reading the base through its
// GetShared if it has one.
func (o *Overlay) GetShared(key []byte) ([]byte, bool, error) {
	if w, ok := o.writes[string(key)]; ok {
		if w.Delete {
			return nil, false, nil
		}
		return w.Value, true, nil
	}
	return getShared(o.base, key)
}

// Set buffers a write (copies key and value).
func (o *Overlay) Set(key, value []byte) {
	// One buffer holds the copies of key and value, each capped at its end.
	buf := make([]byte, len(key)+len(value))
	copy(buf, key)
	copy(buf[len(key):], value)
	o.writes[string(key)] = Write{Key: buf[:len(key):len(key)], Value: buf[len(key):]}
}

// markOwned buffers a write of an empty value to key (setOwned).
func (o *Overlay) markOwned(key []byte) {
	key = key[:len(key):len(key)]
	o.setOwned(key, key[len(key):])
}

// setOwned is Set keeping key and value instead of copying them: the
// caller hands them over and never changes them. Each must be capped at
// its end (an append to one must not reach the other).
func (o *Overlay) setOwned(key, value []byte) {
	o.writes[string(key)] = Write{Key: key, Value: value}
}

// Delete buffers a deletion.
func (o *Overlay) Delete(key []byte) {
	k := string(key)
	o.writes[k] = Write{Key: []byte(k), Delete: true}
}

// Seeker is a Reader that starts an iteration at a key: IterateFrom walks
// the keys with prefix that are >= start (nil: all of them) without
// visiting those below start. Store, MemKV and Overlay are Seekers.
type Seeker interface {
	IterateFrom(prefix, start []byte, fn func(key, value []byte) bool) error
}

// IterateFrom iterates r's keys with prefix that are >= start, seeking
// when r is a Seeker (else the keys below start are walked and skipped).
func IterateFrom(r Reader, prefix, start []byte, fn func(key, value []byte) bool) error {
	if s, ok := r.(Seeker); ok {
		return s.IterateFrom(prefix, start, fn)
	}
	return r.Iterate(prefix, func(k, v []byte) bool {
		if start != nil && bytes.Compare(k, start) < 0 {
			return true
		}
		return fn(k, v)
	})
}

// Iterate merges buffered writes with the base, in ascending key order.
func (o *Overlay) Iterate(prefix []byte, fn func(key, value []byte) bool) error {
	return o.IterateFrom(prefix, nil, fn)
}

// IterateFrom implements Seeker: the base is entered at start (through
// its own seek), and only the buffered writes >= start are merged.
func (o *Overlay) IterateFrom(prefix, start []byte, fn func(key, value []byte) bool) error {
	local := o.sortedFrom(prefix, start)
	i := 0
	stopped := false
	emitLocalBelow := func(k []byte) bool {
		for i < len(local) && (k == nil || bytes.Compare(local[i].Key, k) < 0) {
			w := local[i]
			i++
			if !w.Delete && !fn(w.Key, w.Value) {
				return false
			}
		}
		return true
	}
	err := IterateFrom(o.base, prefix, start, func(k, v []byte) bool {
		if !emitLocalBelow(k) {
			stopped = true
			return false
		}
		if i < len(local) && bytes.Equal(local[i].Key, k) {
			w := local[i]
			i++
			if w.Delete {
				return true
			}
			if !fn(w.Key, w.Value) {
				stopped = true
				return false
			}
			return true
		}
		if !fn(k, v) {
			stopped = true
			return false
		}
		return true
	})
	if err != nil || stopped {
		return err
	}
	emitLocalBelow(nil)
	return nil
}

// Child returns a nested overlay whose writes reach o only on Merge.
func (o *Overlay) Child() *Overlay { return NewOverlay(o) }

// reset empties o (its buffered writes and scopes) for reuse, keeping its
// map's memory. A child that was merged may be reset: its parent holds
// the writes themselves, which reset leaves alone.
func (o *Overlay) reset() {
	clear(o.writes)
	o.scopes = nil
}

// Merge applies a child's writes to o. The child must have been made by o.Child.
func (o *Overlay) Merge(child *Overlay) {
	for k, w := range child.writes {
		o.writes[k] = w
	}
}

// Writes returns every buffered write in ascending key order (the
// deterministic form that is hashed into the state root and stored).
func (o *Overlay) Writes() []Write {
	return o.sortedFrom(nil, nil)
}

// sortedFrom returns the buffered writes with prefix that are >= start,
// in ascending key order.
func (o *Overlay) sortedFrom(prefix, start []byte) []Write {
	out := make([]Write, 0, len(o.writes))
	for _, w := range o.writes {
		if bytes.HasPrefix(w.Key, prefix) && (start == nil || bytes.Compare(w.Key, start) >= 0) {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b Write) int { return bytes.Compare(a.Key, b.Key) })
	return out
}

// MemKV is an in-memory Reader for tests and tools.
type MemKV map[string][]byte

// Get implements Reader.
func (m MemKV) Get(key []byte) ([]byte, bool, error) {
	v, ok := m[string(key)]
	return v, ok, nil
}

// Iterate implements Reader.
func (m MemKV) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	return m.IterateFrom(prefix, nil, fn)
}

// IterateFrom implements Seeker.
func (m MemKV) IterateFrom(prefix, start []byte, fn func(k, v []byte) bool) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		if bytes.HasPrefix([]byte(k), prefix) && (start == nil || k >= string(start)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !fn([]byte(k), m[k]) {
			return nil
		}
	}
	return nil
}

// Apply applies writes to m.
func (m MemKV) Apply(ws []Write) {
	for _, w := range ws {
		if w.Delete {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = w.Value
		}
	}
}

// MemState is committed state in memory (for tests and tools): the
// key-value map and the authenticated map's nodes.
type MemState struct {
	MemKV
	smt.MemStore
	Root block.Hash
}

// NewMemState returns the state after the genesis writes ws.
func NewMemState(ws []Write) (*MemState, error) {
	m := &MemState{MemKV: MemKV{}, MemStore: smt.MemStore{}}
	root, nodes, err := GenesisRoot(ws)
	if err != nil {
		return nil, err
	}
	m.MemKV.Apply(ws)
	m.MemStore.Put(nodes)
	m.Root = root
	return m, nil
}

// Commit applies a block's result: its writes, its tree nodes and its root.
func (m *MemState) Commit(res *Result) {
	m.MemKV.Apply(res.Writes)
	m.MemStore.Put(res.Nodes)
	m.Root = res.StateRoot
}
