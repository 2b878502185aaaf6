package state

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// badSig returns tx's encoding with one signature byte flipped: the same
// payload, sender and nonce, another hash, an invalid signature.
func badSig(tx *block.Tx) []byte {
	raw := tx.Encode()
	raw[len(raw)-1] ^= 1
	return raw
}

func TestTxCache(t *testing.T) {
	good := anchorTx(siteKey, 1, "a").Encode()
	other := anchorTx(siteKey, 2, "b").Encode()
	wrongChain := &block.Tx{ChainID: "other", Nonce: 3, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Label: "c"}).Encode()}
	wrongChain.Sign(siteKey)
	otherParams := params
	otherParams.MaxTxGas = 10

	type step struct {
		p       Params
		raw     []byte
		wantErr error
		hit     bool // the step is answered from the cache
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"miss then hit", []step{{params, good, nil, false}, {params, good, nil, true}, {params, good, nil, true}}},
		{"distinct transactions miss", []step{{params, good, nil, false}, {params, other, nil, false}, {params, good, nil, true}}},
		{"bad signature never cached", []step{
			{params, badSig(anchorTx(siteKey, 1, "a")), ErrBadSignature, false},
			{params, badSig(anchorTx(siteKey, 1, "a")), ErrBadSignature, false}}},
		{"same payload, bad signature, beside a cached good one", []step{
			{params, good, nil, false},
			{params, badSig(anchorTx(siteKey, 1, "a")), ErrBadSignature, false},
			{params, good, nil, true}}},
		{"wrong chain never cached", []step{{params, wrongChain.Encode(), ErrWrongChain, false}, {params, wrongChain.Encode(), ErrWrongChain, false}}},
		{"malformed never cached", []step{{params, good[:len(good)-1], ErrMalformed, false}, {params, good[:len(good)-1], ErrMalformed, false}}},
		// Another Params bypasses the cache: the cached verdict was for the cache's own.
		{"other params checked in full", []step{{params, good, nil, false}, {otherParams, good, ErrGasLimit, false}, {params, good, nil, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewTxCache(params, 100, 1<<20)
			for i, s := range tc.steps {
				before := c.Stats()
				tx, h, err := c.CheckTx(s.p, s.raw)
				if !errors.Is(err, s.wantErr) || (err == nil) != (s.wantErr == nil) {
					t.Fatalf("step %d: err %v, want %v", i, err, s.wantErr)
				}
				if h != block.Sum(s.raw) {
					t.Fatalf("step %d: hash %s, want %s", i, h, block.Sum(s.raw))
				}
				if err == nil && tx.Hash() != h {
					t.Fatalf("step %d: returned transaction hashes to %s, want %s", i, tx.Hash(), h)
				}
				after := c.Stats()
				if hit := after.Hits > before.Hits; hit != s.hit {
					t.Fatalf("step %d: hit %v, want %v (stats %+v)", i, hit, s.hit, after)
				}
				if _, cached := c.Lookup(h); s.p == params && cached != (err == nil) {
					t.Fatalf("step %d: cached %v after err %v", i, cached, err)
				}
			}
		})
	}
}

func TestTxCacheNilChecksInFull(t *testing.T) {
	var c *TxCache
	if _, _, err := c.CheckTx(params, anchorTx(siteKey, 1, "a").Encode()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CheckTx(params, badSig(anchorTx(siteKey, 1, "a"))); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("nil cache: %v, want a bad signature", err)
	}
	if _, ok := c.Lookup(block.Hash{}); ok {
		t.Fatal("nil cache found something")
	}
}

func TestTxCacheBounds(t *testing.T) {
	raws := make([][]byte, 10)
	for i := range raws {
		raws[i] = anchorTx(siteKey, uint64(i), fmt.Sprint("doc ", i)).Encode()
	}
	size := int64(len(raws[0])) + entryOverhead
	for _, tc := range []struct {
		name     string
		count    int
		bytes    int64
		wantKept int // the newest wantKept stay
	}{
		{"by count", 4, 1 << 20, 4},
		{"by bytes", 100, 3*size + size/2, 3},
		{"both, count tighter", 2, 5 * size, 2},
		{"both, bytes tighter", 5, 2 * size, 2},
		{"larger than the whole cache is not kept", 10, size - 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewTxCache(params, tc.count, tc.bytes)
			for _, raw := range raws {
				if _, _, err := c.CheckTx(params, raw); err != nil {
					t.Fatal(err)
				}
				st := c.Stats()
				if st.Entries > tc.count || st.Bytes > tc.bytes {
					t.Fatalf("over bounds: %+v, limits %d / %d", st, tc.count, tc.bytes)
				}
			}
			if st := c.Stats(); st.Entries != tc.wantKept {
				t.Fatalf("kept %d, want %d", st.Entries, tc.wantKept)
			}
			for i, raw := range raws {
				_, ok := c.Lookup(block.Sum(raw))
				if want := i >= len(raws)-tc.wantKept; ok != want {
					t.Errorf("transaction %d cached %v, want %v", i, ok, want)
				}
			}
			// An evicted transaction is checked again, and still passes.
			if _, _, err := c.CheckTx(params, raws[0]); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTxCacheForget: forgotten transactions leave the cache (entries and
// bytes), the others stay, unknown hashes and a nil cache are no-ops, and
// a forgotten transaction is checked in full again, with the same answer.
func TestTxCacheForget(t *testing.T) {
	raws := make([][]byte, 4)
	for i := range raws {
		raws[i] = anchorTx(siteKey, uint64(i), fmt.Sprint("doc ", i)).Encode()
	}
	c := NewTxCache(params, 100, 1<<20)
	for _, raw := range raws {
		if _, _, err := c.CheckTx(params, raw); err != nil {
			t.Fatal(err)
		}
	}
	size := int64(len(raws[0])) + entryOverhead
	c.Forget([]block.Hash{block.Sum(raws[1]), block.Sum(raws[3]), block.Sum([]byte("never seen")), block.Sum(raws[1])})
	if st := c.Stats(); st.Entries != 2 || st.Bytes != 2*size {
		t.Fatalf("after forgetting 2 of 4: %+v, want 2 entries of %d bytes", st, size)
	}
	for i, raw := range raws {
		if _, ok := c.Lookup(block.Sum(raw)); ok != (i%2 == 0) {
			t.Errorf("transaction %d cached %v, want %v", i, ok, i%2 == 0)
		}
	}
	before := c.Stats()
	if tx, _, err := c.CheckTx(params, raws[1]); err != nil || tx.Hash() != block.Sum(raws[1]) {
		t.Fatalf("forgotten transaction checked again: %v", err)
	}
	if after := c.Stats(); after.Misses != before.Misses+1 || after.Entries != 3 {
		t.Fatalf("forgotten transaction: stats %+v after %+v, want a miss and 3 entries", after, before)
	}
	// The order list stays consistent: eviction after Forget still drops the oldest.
	small := NewTxCache(params, 2, 1<<20)
	for _, raw := range raws[:3] {
		small.CheckTx(params, raw)
	}
	small.Forget([]block.Hash{block.Sum(raws[2])})
	small.CheckTx(params, raws[3])
	small.CheckTx(params, raws[0])
	if _, ok := small.Lookup(block.Sum(raws[1])); ok {
		t.Fatal("oldest entry not evicted after a Forget")
	}
	var nilCache *TxCache
	nilCache.Forget([]block.Hash{block.Sum(raws[0])})
}

// TestTxCacheConcurrent runs checks, lookups and evictions from many
// goroutines (meaningful under -race): every answer is still right.
func TestTxCacheConcurrent(t *testing.T) {
	good := make([][]byte, 64)
	bad := make([][]byte, len(good))
	for i := range good {
		tx := anchorTx(siteKey, uint64(i), fmt.Sprint(i))
		good[i], bad[i] = tx.Encode(), badSig(tx)
	}
	c := NewTxCache(params, 16, 1<<20) // small: constant eviction
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := (i*7 + g) % len(good)
				if tx, _, err := c.CheckTx(params, good[k]); err != nil || tx.Nonce != uint64(k) {
					errs <- fmt.Errorf("good %d: %v", k, err)
					return
				}
				if _, _, err := c.CheckTx(params, bad[k]); !errors.Is(err, ErrBadSignature) {
					errs <- fmt.Errorf("bad %d: %v", k, err)
					return
				}
				if i%10 == 0 {
					if _, _, bad, err := c.CheckAll(params, good[:8], 3); err != nil || bad != 8 {
						errs <- fmt.Errorf("CheckAll: %d %v", bad, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := c.Stats(); st.Entries > 16 {
		t.Fatalf("%d entries, bound 16", st.Entries)
	}
}

// TestCheckAllFirstFailure: whatever the workers and the cache hold, CheckAll
// names the lowest failing index with the error a sequential check gives.
func TestCheckAllFirstFailure(t *testing.T) {
	const n = 40
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = anchorTx(siteKey, uint64(i), fmt.Sprint(i)).Encode()
	}
	withBad := func(bad map[int][]byte) [][]byte {
		out := append([][]byte(nil), raws...)
		for i, b := range bad {
			out[i] = b
		}
		return out
	}
	wrongChain := &block.Tx{ChainID: "other", Kind: block.KindAnchor, GasLimit: 100_000, Payload: (&block.AnchorPayload{}).Encode()}
	wrongChain.Sign(siteKey)
	for _, tc := range []struct {
		name    string
		txs     [][]byte
		wantBad int
		wantErr error
	}{
		{"all good", raws, n, nil},
		{"one bad signature", withBad(map[int][]byte{17: badSig(anchorTx(siteKey, 17, "17"))}), 17, ErrBadSignature},
		{"two failures, the first wins", withBad(map[int][]byte{30: badSig(anchorTx(siteKey, 30, "30")), 9: wrongChain.Encode()}), 9, ErrWrongChain},
		{"first transaction", withBad(map[int][]byte{0: {1, 2, 3}}), 0, ErrMalformed},
		{"last transaction", withBad(map[int][]byte{n - 1: badSig(anchorTx(siteKey, n-1, "x"))}), n - 1, ErrBadSignature},
	} {
		for _, workers := range []int{1, 2, 3, 8, 64} {
			for _, warm := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/workers=%d/warm=%v", tc.name, workers, warm), func(t *testing.T) {
					c := NewTxCache(params, 1000, 1<<20)
					if warm { // every other good transaction already verified
						for i := 0; i < n; i += 2 {
							if _, _, err := c.CheckTx(params, raws[i]); err != nil {
								t.Fatal(err)
							}
						}
					}
					txs, hashes, bad, err := c.CheckAll(params, tc.txs, workers)
					if bad != tc.wantBad || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
						t.Fatalf("bad %d err %v, want %d %v", bad, err, tc.wantBad, tc.wantErr)
					}
					for i := 0; i < bad; i++ {
						if txs[i] == nil || hashes[i] != block.Sum(tc.txs[i]) || txs[i].Nonce != uint64(i) {
							t.Fatalf("transaction %d before the failure not checked: %v", i, txs[i])
						}
					}
					if _, ok := c.Lookup(block.Sum(tc.txs[bad%n])); bad < n && ok {
						t.Fatal("the failing transaction was cached")
					}
				})
			}
		}
	}
}

func BenchmarkTxCacheHit(b *testing.B) {
	raw := anchorTx(siteKey, 1, "a").Encode()
	c := NewTxCache(params, 100, 1<<20)
	if _, _, err := c.CheckTx(params, raw); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := c.CheckTx(params, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckTxUncached(b *testing.B) {
	raw := anchorTx(siteKey, 1, "a").Encode()
	for b.Loop() {
		if _, err := CheckTx(params, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzTxCacheAgreesWithCheckTx: for any bytes, the cache answers as
// CheckTx does, on the first call (a miss) and on the second (a hit, if it
// passed), and CheckAll agrees on a list of them.
func FuzzTxCacheAgreesWithCheckTx(f *testing.F) {
	good := anchorTx(siteKey, 1, "a")
	f.Add(good.Encode())
	f.Add(badSig(good))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, raw []byte) {
		c := NewTxCache(params, 8, 1<<20)
		want, wantErr := CheckTx(params, raw)
		for i := range 2 {
			got, h, err := c.CheckTx(params, raw)
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("call %d: err %v, CheckTx says %v", i, err, wantErr)
			}
			if err == nil && (got.Hash() != want.Hash() || h != block.Sum(raw)) {
				t.Fatalf("call %d: transaction %s, CheckTx gives %s", i, got.Hash(), want.Hash())
			}
		}
		_, _, bad, err := c.CheckAll(params, [][]byte{good.Encode(), raw, raw}, 2)
		if wantBad := map[bool]int{true: 3, false: 1}[wantErr == nil]; bad != wantBad || (err == nil) != (wantErr == nil) {
			t.Fatalf("CheckAll: bad %d err %v, want %d %v", bad, err, wantBad, wantErr)
		}
	})
}

// TestCheckAllAgreesWithCheckTx: over proposals larger than one signature
// batch, with failures of each kind anywhere, CheckAll names the first
// failing transaction with exactly the error CheckTx gives it (a bad
// signature first when a transaction also fails a later check), whatever
// the workers and the cache hold, and the cache then holds every
// transaction before the failure and none that failed.
func TestCheckAllAgreesWithCheckTx(t *testing.T) {
	const n = maxSigBatch + 37 // two batches even on one worker
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = anchorTx(siteKey, uint64(i), fmt.Sprint(i)).Encode()
	}
	wrongChain := func(nonce uint64) *block.Tx {
		tx := &block.Tx{ChainID: "other", Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000, Payload: (&block.AnchorPayload{}).Encode()}
		tx.Sign(siteKey)
		return tx
	}
	lowGas := anchorTx(siteKey, 1, "gas")
	lowGas.GasLimit = 1
	lowGas.Sign(siteKey)
	badPayload := &block.Tx{ChainID: "c1", Nonce: 2, Kind: block.KindAnchor, GasLimit: 100_000, Payload: []byte{0xff}}
	badPayload.Sign(siteKey)
	for _, tc := range []struct {
		name string
		at   map[int][]byte
		want error // the first failure's
	}{
		{"all good", nil, nil},
		{"one bad signature among many", map[int][]byte{maxSigBatch + 5: badSig(anchorTx(siteKey, 9, "x"))}, ErrBadSignature},
		{"bad signatures in several batches", map[int][]byte{n - 1: badSig(anchorTx(siteKey, 1, "y")), 3: badSig(anchorTx(siteKey, 2, "z")), maxSigBatch: badSig(anchorTx(siteKey, 3, "w"))}, ErrBadSignature},
		{"wrong chain with a bad signature: the signature is named", map[int][]byte{40: badSig(wrongChain(7))}, ErrBadSignature},
		{"wrong chain before a bad signature", map[int][]byte{maxSigBatch: badSig(anchorTx(siteKey, 4, "v")), maxSigBatch - 1: wrongChain(8).Encode()}, ErrWrongChain},
		{"gas limit", map[int][]byte{1: lowGas.Encode()}, ErrGasLimit},
		{"payload", map[int][]byte{n / 2: badPayload.Encode()}, ErrMalformed},
		{"undecodable, then a bad signature", map[int][]byte{0: raws[0][:20], 1: badSig(anchorTx(siteKey, 5, "u"))}, ErrMalformed},
		{"too large", map[int][]byte{77: make([]byte, params.MaxTxBytes+1)}, ErrTooLarge},
	} {
		txs := append([][]byte(nil), raws...)
		for i, b := range tc.at {
			txs[i] = b
		}
		wantBad, wantErr := n, error(nil)
		pass := make([]bool, n)
		for i, raw := range txs {
			_, err := CheckTx(params, raw)
			if pass[i] = err == nil; err != nil && wantErr == nil {
				wantBad, wantErr = i, err
			}
		}
		if !errors.Is(wantErr, tc.want) || (wantErr == nil) != (tc.want == nil) {
			t.Fatalf("%s: the sequential check says %v, the case wants %v", tc.name, wantErr, tc.want)
		}
		for _, workers := range []int{1, 3} {
			for _, warm := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/workers=%d/warm=%v", tc.name, workers, warm), func(t *testing.T) {
					c := NewTxCache(params, 4*n, 1<<30)
					if warm { // every third original already verified
						for i := 0; i < n; i += 3 {
							if _, _, err := c.CheckTx(params, raws[i]); err != nil {
								t.Fatal(err)
							}
						}
					}
					txs2, hashes, bad, err := c.CheckAll(params, txs, workers)
					if bad != wantBad || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
						t.Fatalf("bad %d, err %v; the sequential check gives %d, %v", bad, err, wantBad, wantErr)
					}
					for i, raw := range txs {
						if hashes[i] != block.Sum(raw) {
							t.Fatalf("hash %d", i)
						}
						if _, cached := c.Lookup(hashes[i]); cached && !pass[i] || !cached && i < bad {
							t.Fatalf("transaction %d (passes CheckTx: %v) cached: %v", i, pass[i], cached)
						}
						if i < bad && (txs2[i] == nil || txs2[i].Hash() != hashes[i]) {
							t.Fatalf("transaction %d before the first failure: %v", i, txs2[i])
						}
					}
				})
			}
		}
	}
}

// TestApplySameWithAndWithoutCache: a block with a bad signature among many
// (certified by a faulty quorum) gives the same receipts, byte for byte,
// executed without a cache, with a cold one (its signatures verified in
// batches) and with one that verified every transaction before.
func TestApplySameWithAndWithoutCache(t *testing.T) {
	var txs []*block.Tx
	for i := range 100 {
		txs = append(txs, anchorTx(siteKey, uint64(i), fmt.Sprint(i)))
	}
	b := mkBlock(txs...)
	b.Txs[63] = badSig(txs[63])
	b.Txs[64] = badSig(anchorTx(siteKey, 1000, "never valid"))
	var want []*block.Receipt
	for _, name := range []string{"no cache", "cold cache", "warm cache"} {
		ex := &Executor{Params: params}
		if name != "no cache" {
			ex.Cache = NewTxCache(params, 1000, 1<<20)
		}
		if name == "warm cache" {
			for _, raw := range b.Txs {
				ex.Cache.CheckTx(params, raw) // the bad ones fail and are not kept
			}
		}
		g := genesisState(t)
		res, err := ex.Apply(g, g.Root, b)
		if err != nil {
			t.Fatal(err)
		}
		for i, rc := range res.Receipts {
			if failed := rc.Status == block.StatusFailed; failed != (i == 63 || i == 64) {
				t.Fatalf("%s: transaction %d: %s %s", name, i, rc.Status, rc.Error)
			}
		}
		if _, err := CheckTx(params, b.Txs[64]); res.Receipts[64].Error != err.Error() {
			t.Fatalf("%s: receipt error %q, CheckTx says %q", name, res.Receipts[64].Error, err)
		}
		if want == nil {
			want = res.Receipts
			continue
		}
		for i, rc := range res.Receipts {
			if rc.Hash() != want[i].Hash() {
				t.Fatalf("%s: receipt %d differs from the run without a cache", name, i)
			}
		}
		if _, ok := ex.Cache.Lookup(block.Sum(b.Txs[63])); ok {
			t.Fatalf("%s: a bad signature was cached", name)
		}
	}
}

// TestCheckEachAgreesWithCheckTx: every transaction of a CheckEach gets
// exactly the answer CheckTx gives it alone, whatever else is in its batch
// (one bad signature among good ones refuses that one only), and only
// those that pass are remembered.
func TestCheckEachAgreesWithCheckTx(t *testing.T) {
	const n = maxSigBatch + 21 // two batches
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = anchorTx(siteKey, uint64(i), fmt.Sprint(i)).Encode()
	}
	wrongChain := &block.Tx{ChainID: "other", Nonce: 7, Kind: block.KindAnchor, GasLimit: 100_000, Payload: (&block.AnchorPayload{}).Encode()}
	wrongChain.Sign(siteKey)
	for _, tc := range []struct {
		name  string
		n     int
		at    map[int][]byte
		nFail int
	}{
		{"one good", 1, nil, 0},
		{"one bad signature alone", 1, map[int][]byte{0: badSig(anchorTx(siteKey, 0, "0"))}, 1},
		{"all good", n, nil, 0},
		{"one bad signature among good ones", 16, map[int][]byte{5: badSig(anchorTx(siteKey, 5, "5"))}, 1},
		{"bad signatures in both batches", n, map[int][]byte{3: badSig(anchorTx(siteKey, 3, "3")), maxSigBatch + 2: badSig(anchorTx(siteKey, 1, "q"))}, 2},
		{"mixed failures", 40, map[int][]byte{0: raws[0][:20], 9: wrongChain.Encode(), 39: make([]byte, params.MaxTxBytes+1), 20: badSig(anchorTx(siteKey, 20, "20"))}, 4},
		{"the same bad transaction twice", 8, map[int][]byte{2: badSig(anchorTx(siteKey, 2, "2")), 6: badSig(anchorTx(siteKey, 2, "2"))}, 2},
	} {
		for _, warm := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/warm=%v", tc.name, warm), func(t *testing.T) {
				txs := append([][]byte(nil), raws[:tc.n]...)
				for i, b := range tc.at {
					txs[i] = b
				}
				hashes := make([]block.Hash, len(txs))
				for i, raw := range txs {
					hashes[i] = block.Sum(raw)
				}
				c := NewTxCache(params, 4*n, 1<<30)
				if warm { // every third original already verified
					for i := 0; i < tc.n; i += 3 {
						if _, _, err := c.CheckTx(params, raws[i]); err != nil {
							t.Fatal(err)
						}
					}
				}
				got, errs := c.CheckEach(params, txs, hashes)
				if len(got) != len(txs) || len(errs) != len(txs) {
					t.Fatalf("%d results, %d errors for %d transactions", len(got), len(errs), len(txs))
				}
				fails := 0
				for i, raw := range txs {
					_, want := CheckTx(params, raw)
					if (errs[i] == nil) != (want == nil) || (want != nil && errs[i].Error() != want.Error()) {
						t.Fatalf("transaction %d: err %v, CheckTx says %v", i, errs[i], want)
					}
					if want != nil {
						fails++
						if got[i] != nil {
							t.Fatalf("transaction %d refused but returned", i)
						}
					} else if got[i] == nil || got[i].Hash() != hashes[i] {
						t.Fatalf("transaction %d: returned %v", i, got[i])
					}
					if _, cached := c.Lookup(hashes[i]); cached != (want == nil) {
						t.Fatalf("transaction %d (err %v) cached: %v", i, want, cached)
					}
				}
				if fails != tc.nFail {
					t.Fatalf("%d refusals, want %d", fails, tc.nFail)
				}
			})
		}
	}
	t.Run("nil cache", func(t *testing.T) {
		var c *TxCache
		raw := badSig(anchorTx(siteKey, 1, "a"))
		got, errs := c.CheckEach(params, [][]byte{raws[0], raw}, []block.Hash{block.Sum(raws[0]), block.Sum(raw)})
		if got[0] == nil || errs[0] != nil || got[1] != nil || !errors.Is(errs[1], ErrBadSignature) {
			t.Fatalf("got %v %v", got, errs)
		}
	})
}
