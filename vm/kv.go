package vm

import (
	"bytes"
	"slices"
	"sort"
)

// KV is a contract's view of the chain state, already scoped to the contract
// by the caller (see Prefixed): the contract can name no key outside it.
//
// Iterate calls fn for every key that starts with prefix and is >= start (nil
// start: from the first key with the prefix), in ascending byte order, until
// fn returns false. The slices passed to fn are valid only during the call.
//
// An error from any method is a node failure (I/O), not a contract failure:
// Session.Call returns it as its error and the block must not be committed.
type KV interface {
	Get(key []byte) (value []byte, ok bool, err error)
	Set(key, value []byte) error
	Delete(key []byte) error
	Iterate(prefix, start []byte, fn func(key, value []byte) bool) error
}

// Overlay buffers writes over a parent KV (nil: an empty in-memory store).
// Reads see the buffered writes. Commit applies them to the parent in
// ascending key order; dropping the Overlay discards them. Session.Call runs
// each call against an Overlay of the KV it is given and commits it only if
// the call succeeds, so a failed call never changes state.
//
// An Overlay is not safe for concurrent use.
type Overlay struct {
	parent KV
	m      map[string]overlayEntry
}

type overlayEntry struct {
	value   []byte
	deleted bool
}

// Write is one buffered change: a Set, or a Delete if Deleted.
type Write struct {
	Key, Value []byte
	Deleted    bool
}

// NewOverlay returns an empty overlay over parent (which may be nil).
func NewOverlay(parent KV) *Overlay {
	return &Overlay{parent: parent, m: make(map[string]overlayEntry)}
}

// NewMemKV returns an empty in-memory KV (an Overlay with no parent).
func NewMemKV() *Overlay { return NewOverlay(nil) }

// Get implements KV.
func (o *Overlay) Get(key []byte) ([]byte, bool, error) {
	if e, ok := o.m[string(key)]; ok {
		if e.deleted {
			return nil, false, nil
		}
		return e.value, true, nil
	}
	if o.parent == nil {
		return nil, false, nil
	}
	return o.parent.Get(key)
}

// Set implements KV. It copies key and value.
func (o *Overlay) Set(key, value []byte) error {
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	o.m[string(key)] = overlayEntry{value: v}
	return nil
}

// Delete implements KV.
func (o *Overlay) Delete(key []byte) error {
	if o.parent == nil {
		delete(o.m, string(key))
		return nil
	}
	o.m[string(key)] = overlayEntry{deleted: true}
	return nil
}

// sortedKeys returns the buffered keys with prefix that are >= start.
func (o *Overlay) sortedKeys(prefix, start []byte) []string {
	var ks []string
	for k := range o.m {
		if bytes.HasPrefix([]byte(k), prefix) && (start == nil || k >= string(start)) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks) // map order never escapes
	return ks
}

// Iterate implements KV: a merge of the buffered writes and the parent.
func (o *Overlay) Iterate(prefix, start []byte, fn func(key, value []byte) bool) error {
	ks := o.sortedKeys(prefix, start)
	i := 0
	stopped := false
	// emitOwn emits buffered keys < limit (all if limit is nil).
	emitOwn := func(limit []byte) bool {
		for ; i < len(ks); i++ {
			if limit != nil && ks[i] >= string(limit) {
				return true
			}
			e := o.m[ks[i]]
			if e.deleted {
				continue
			}
			if !fn([]byte(ks[i]), e.value) {
				stopped = true
				return false
			}
		}
		return true
	}
	if o.parent != nil {
		err := o.parent.Iterate(prefix, start, func(k, v []byte) bool {
			if !emitOwn(k) {
				return false
			}
			if i < len(ks) && ks[i] == string(k) { // shadowed by a buffered write
				e := o.m[ks[i]]
				i++
				if e.deleted {
					return true
				}
				if !fn(k, e.value) {
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
		if err != nil {
			return err
		}
	}
	if !stopped {
		emitOwn(nil)
	}
	return nil
}

// Writes returns the buffered changes in ascending key order.
func (o *Overlay) Writes() []Write {
	ks := o.sortedKeys(nil, nil)
	ws := make([]Write, 0, len(ks))
	for _, k := range ks {
		e := o.m[k]
		ws = append(ws, Write{Key: []byte(k), Value: e.value, Deleted: e.deleted})
	}
	return ws
}

// Len returns the number of buffered changes.
func (o *Overlay) Len() int { return len(o.m) }

// Commit applies the buffered changes to the parent in ascending key order
// and clears the overlay. With no parent it does nothing.
func (o *Overlay) Commit() error {
	if o.parent == nil {
		return nil
	}
	for _, w := range o.Writes() {
		var err error
		if w.Deleted {
			err = o.parent.Delete(w.Key)
		} else {
			err = o.parent.Set(w.Key, w.Value)
		}
		if err != nil {
			return err
		}
	}
	clear(o.m)
	return nil
}

// Prefixed returns a KV that stores every key k as prefix+k in parent. The
// chain scopes a contract's state with its address as the prefix; the
// contract cannot name a key outside its prefix.
func Prefixed(parent KV, prefix []byte) KV {
	return prefixed{parent: parent, prefix: slices.Clone(prefix)}
}

type prefixed struct {
	parent KV
	prefix []byte
}

func (p prefixed) key(k []byte) []byte {
	return append(slices.Clip(p.prefix), k...)
}

func (p prefixed) Get(key []byte) ([]byte, bool, error) { return p.parent.Get(p.key(key)) }
func (p prefixed) Set(key, value []byte) error          { return p.parent.Set(p.key(key), value) }
func (p prefixed) Delete(key []byte) error              { return p.parent.Delete(p.key(key)) }

func (p prefixed) Iterate(prefix, start []byte, fn func(key, value []byte) bool) error {
	var s []byte
	if start != nil {
		s = p.key(start)
	}
	n := len(p.prefix)
	return p.parent.Iterate(p.key(prefix), s, func(k, v []byte) bool {
		return fn(k[n:], v)
	})
}
