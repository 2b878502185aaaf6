package store

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

func initStore(t *testing.T, gw []state.Write) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	groot, gnodes, err := state.GenesisRoot(gw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Hash{1}, gw, groot, gnodes); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustGet(t *testing.T, s *Store, key string) (string, bool) {
	t.Helper()
	v, ok, err := s.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}

// A cached answer, found or absent, never outlives the commit or the
// tampering that changes the key.
func TestStateCacheFollowsWrites(t *testing.T) {
	s := initStore(t, []state.Write{{Key: []byte("m"), Value: []byte("v0")}})
	for range 2 { // the second read is the cached one
		if v, ok := mustGet(t, s, "m"); !ok || v != "v0" {
			t.Fatalf("m = %q, %v; want v0", v, ok)
		}
		if _, ok := mustGet(t, s, "n"); ok {
			t.Fatal("n is found before it is written")
		}
	}
	commitWrites(t, s, 1, []state.Write{{Key: []byte("m"), Value: []byte("v1")}, {Key: []byte("n"), Value: []byte("w")}})
	if v, ok := mustGet(t, s, "m"); !ok || v != "v1" {
		t.Fatalf("after the commit m = %q, %v; want v1", v, ok)
	}
	if v, ok := mustGet(t, s, "n"); !ok || v != "w" {
		t.Fatalf("after the commit n = %q, %v; want w", v, ok)
	}
	commitWrites(t, s, 2, []state.Write{{Key: []byte("n"), Delete: true}})
	if _, ok := mustGet(t, s, "n"); ok {
		t.Fatal("n is found after its deletion")
	}
	if err := s.TamperState([]byte("m"), []byte("t")); err != nil {
		t.Fatal(err)
	}
	if v, _ := mustGet(t, s, "m"); v != "t" {
		t.Fatalf("after tampering m = %q, want t", v)
	}
	// A caller that modifies what Get returned does not change the cache.
	v, _, _ := s.Get([]byte("m"))
	v[0] = 'X'
	if v, _ := mustGet(t, s, "m"); v != "t" {
		t.Fatalf("m = %q after a caller modified its copy", v)
	}
}

// A read whose Pebble lookup raced a commit must not leave the old value
// in the cache: readers run while blocks commit, and each reader checks
// that once a commit returned, it sees that commit's value.
func TestStateCacheConcurrentCommits(t *testing.T) {
	s := initStore(t, []state.Write{{Key: []byte("k"), Value: []byte("0")}})
	const blocks = 60
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				h := s.Head().Height // committed before the read began
				v, ok, err := s.Get([]byte("k"))
				if err != nil || !ok {
					errs <- fmt.Errorf("read k: %v, %v", ok, err)
					return
				}
				var got uint64
				fmt.Sscan(string(v), &got)
				if got < h {
					errs <- fmt.Errorf("read k = %d after block %d committed it as %d", got, h, h)
					return
				}
			}
		}()
	}
	for h := uint64(1); h <= blocks; h++ {
		commitWrites(t, s, h, []state.Write{{Key: []byte("k"), Value: []byte(fmt.Sprint(h))}})
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v, _ := mustGet(t, s, "k"); !bytes.Equal([]byte(v), []byte(fmt.Sprint(blocks))) {
		t.Fatalf("k = %q after %d blocks", v, blocks)
	}
}

// A value larger than stateCacheMaxValue is served from Pebble every time,
// never kept; smaller ones are kept.
func TestStateCacheSkipsLargeValues(t *testing.T) {
	big := bytes.Repeat([]byte{7}, stateCacheMaxValue+1)
	small := bytes.Repeat([]byte{8}, stateCacheMaxValue)
	s := initStore(t, []state.Write{{Key: []byte("big"), Value: big}, {Key: []byte("small"), Value: small}})
	for _, tc := range []struct {
		key    string
		want   []byte
		cached bool
	}{{"big", big, false}, {"small", small, true}} {
		for range 2 {
			if v, ok := mustGet(t, s, tc.key); !ok || v != string(tc.want) {
				t.Fatalf("%s: %d bytes, %v; want %d bytes", tc.key, len(v), ok, len(tc.want))
			}
		}
		if _, _, hit, _ := s.state.get([]byte(tc.key)); hit != tc.cached {
			t.Fatalf("%s (%d bytes): cached %v, want %v", tc.key, len(tc.want), hit, tc.cached)
		}
	}
}

// TestStateCacheGetCopiesGetSharedDoesNot: Get hands out a copy of a
// cached value, which its caller may change without reaching the cache;
// GetShared hands out the cache's own (for readers that only read).
func TestStateCacheGetCopiesGetSharedDoesNot(t *testing.T) {
	s := initStore(t, []state.Write{{Key: []byte("m"), Value: []byte("v0")}})
	for i := range 3 { // a miss, then hits
		v, ok, err := s.Get([]byte("m"))
		if err != nil || !ok || string(v) != "v0" {
			t.Fatalf("read %d: %q %v %v", i, v, ok, err)
		}
		v[0] = 'X'
		sh, ok, err := s.GetShared([]byte("m"))
		if err != nil || !ok || string(sh) != "v0" {
			t.Fatalf("read %d: GetShared %q %v %v after the caller changed Get's value", i, sh, ok, err)
		}
		sh2, _, _ := s.GetShared([]byte("m"))
		if &sh[0] != &sh2[0] {
			t.Fatalf("read %d: GetShared copied a cached value", i)
		}
	}
	if v, ok, err := s.GetShared([]byte("absent")); err != nil || ok || v != nil {
		t.Fatalf("absent: %q %v %v", v, ok, err)
	}
}
