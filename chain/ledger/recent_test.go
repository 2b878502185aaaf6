package ledger

import (
	"sync"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/store"
)

// TestRecent: the summaries of the last recentBlocks commits are what the
// store holds for those blocks (header time, each receipt's hash and gas,
// in block order); an older height, one not committed and every height of
// a ledger reopened on the same store (a restart) have none.
func TestRecent(t *testing.T) {
	l, st, g := newWaitLedger(t)
	const blocks = recentBlocks + 5
	nonce := uint64(0)
	for b := 1; b <= blocks; b++ {
		var txs [][]byte
		for range 1 + b%3 { // one to three transactions a block
			nonce++
			raw, _ := anchorTx(t, g, nonce)
			txs = append(txs, raw)
		}
		commitTxsAt(t, l, g, int64(1_790_000_000_000+1000*b), txs...)
	}
	for h := uint64(0); h <= blocks+1; h++ {
		got, ok := l.Recent(h)
		if wantOK := h > blocks-recentBlocks && h <= blocks; ok != wantOK {
			t.Fatalf("Recent(%d) ok %v, want %v (head %d, %d kept)", h, ok, wantOK, blocks, recentBlocks)
		}
		if !ok {
			continue
		}
		if want := storedSummary(t, st, h); !sameSummary(got, want) {
			t.Fatalf("Recent(%d) = %+v, stored %+v", h, got, want)
		}
	}

	reopened, err := New(g, st, l.Executor)
	if err != nil {
		t.Fatal(err)
	}
	for h := uint64(0); h <= blocks; h++ {
		if s, ok := reopened.Recent(h); ok {
			t.Fatalf("a reopened ledger has a summary of block %d: %+v", h, s)
		}
	}
}

// TestRecentHammer: readers of Recent while blocks commit see, for each
// height, either nothing or that block's summary, never another's or a
// torn one (run with -race).
func TestRecentHammer(t *testing.T) {
	l, _, g := newWaitLedger(t)
	const blocks = 2 * recentBlocks
	raws := make([][]byte, blocks)
	for i := range raws {
		raws[i], _ = anchorTx(t, g, uint64(i+1))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				for h := uint64(1); h <= blocks; h++ {
					s, ok := l.Recent(h)
					if ok && (s.Height != h || s.TimeUnixMilli != blockTime(h) || len(s.Txs) != 1 || s.Txs[0].Hash != block.Sum(raws[h-1])) {
						select {
						case errs <- "torn summary":
						default:
						}
						return
					}
				}
			}
		}()
	}
	for h := uint64(1); h <= blocks; h++ {
		commitTxsAt(t, l, g, blockTime(h), raws[h-1])
	}
	close(done)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func blockTime(h uint64) int64 { return int64(1_790_000_000_000 + 1000*h) }

// commitTxsAt commits the next block, carrying txs, with header time at.
func commitTxsAt(t *testing.T, l *Ledger, g *genesis.Genesis, at int64, txs ...[]byte) {
	t.Helper()
	head := l.Head()
	c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: g.ChainID, Height: head.Height + 1, PrevHash: head.Hash,
		TimeUnixMilli: at, TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs)}, Txs: txs}}
	if ok, err := l.Commit(c); err != nil || !ok {
		t.Fatalf("commit block %d: %v %v", head.Height+1, ok, err)
	}
}

// storedSummary is the summary of block h as the store holds it.
func storedSummary(t *testing.T, st *store.Store, h uint64) Summary {
	t.Helper()
	hd, err := st.Header(h)
	if err != nil {
		t.Fatal(err)
	}
	s := Summary{Height: h, TimeUnixMilli: hd.TimeUnixMilli}
	if err := st.BlockReceipts(h, func(rc *block.Receipt) error {
		s.Txs = append(s.Txs, TxSummary{Hash: rc.TxHash, GasUsed: rc.GasUsed})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func sameSummary(a, b Summary) bool {
	if a.Height != b.Height || a.TimeUnixMilli != b.TimeUnixMilli || len(a.Txs) != len(b.Txs) {
		return false
	}
	for i := range a.Txs {
		if a.Txs[i] != b.Txs[i] {
			return false
		}
	}
	return true
}
