package node

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/metrics"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// TestObserveBlock: a committed block tells the metrics the same whether
// the ledger still holds its summary (the commit just made) or it is read
// back from the store (a ledger reopened on the same store, as after a
// restart): its transactions and their gas, the commit latency of those
// this node admitted (and only those leave the pool), the proposal
// latency, and the bounds of the committed ones forgotten. A height not
// committed tells nothing.
func TestObserveBlock(t *testing.T) {
	admin := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	val := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	g := &genesis.Genesis{ChainID: "observe-test", Time: time.UnixMilli(1_790_000_000_000).UTC(), Params: genesis.DefaultParams(),
		Validators: []genesis.Validator{{ID: 1, Name: "node0", Key: genesis.Key(val.Public().(ed25519.PublicKey)), Addr: "mem"}},
		Members:    []genesis.Member{{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(admin.Public().(ed25519.PublicKey))}}}
	st, err := store.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ex := &state.Executor{Params: ledger.Params(g)}
	committing, err := ledger.New(g, st, ex)
	if err != nil {
		t.Fatal(err)
	}
	var txs [][]byte
	var hashes []block.Hash
	for nonce := uint64(1); nonce <= 3; nonce++ {
		tx := &block.Tx{ChainID: g.ChainID, Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000, ValidUntil: 1_800_000_000_000,
			Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint("doc", nonce))), Label: "doc"}).Encode()}
		tx.Sign(admin)
		txs = append(txs, tx.Encode())
		hashes = append(hashes, block.Sum(txs[len(txs)-1]))
	}
	c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: g.ChainID, Height: 1, PrevHash: committing.Head().Hash,
		TimeUnixMilli: g.Time.UnixMilli() + 1000, TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs)}, Txs: txs}}
	if ok, err := committing.Commit(c); err != nil || !ok {
		t.Fatalf("commit: %v %v", ok, err)
	}
	var gas uint64
	for _, h := range hashes {
		rc, err := st.Receipt(h)
		if err != nil {
			t.Fatal(err)
		}
		gas += rc.GasUsed
	}
	if gas == 0 {
		t.Fatal("the anchors used no gas: the test cannot tell gas counted from gas lost")
	}
	reopened, err := ledger.New(g, st, ex)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		ledger *ledger.Ledger
		height uint64
		want   []string // lines of the scrape
	}{
		{"in memory", committing, 1, []string{"trialchain_committed_txs_total 3", fmt.Sprintf("trialchain_gas_used_total %d", gas),
			"trialchain_commit_latency_seconds_count 2", "trialchain_proposal_latency_seconds_count 1", "trialchain_request_pool_txs 1"}},
		{"from the store", reopened, 1, []string{"trialchain_committed_txs_total 3", fmt.Sprintf("trialchain_gas_used_total %d", gas),
			"trialchain_commit_latency_seconds_count 2", "trialchain_proposal_latency_seconds_count 1", "trialchain_request_pool_txs 1"}},
		{"not committed", committing, 2, []string{"trialchain_committed_txs_total 0", "trialchain_gas_used_total 0",
			"trialchain_commit_latency_seconds_count 0", "trialchain_proposal_latency_seconds_count 0", "trialchain_request_pool_txs 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.ledger.Recent(tc.height); ok != (tc.ledger == committing && tc.height == 1) {
				t.Fatalf("the ledger's summary of block %d: ok %v", tc.height, ok)
			}
			n := &Node{log: testLogger(), store: st, ledger: tc.ledger, metrics: metrics.New(1, metrics.Sources{})}
			// This node admitted two of the three, and one never committed.
			for _, h := range []block.Hash{hashes[0], hashes[2], block.Sum([]byte("never committed"))} {
				n.admitted(h, 100)
				n.bounds.add(h, 1_800_000_000_000, 0)
			}
			n.observeBlock(tc.height)
			rec := httptest.NewRecorder()
			n.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			b, _ := io.ReadAll(rec.Body)
			for _, line := range tc.want {
				if !strings.Contains(string(b), "\n"+line+"\n") {
					t.Errorf("no line %q in the scrape", line)
				}
			}
			wantBounds := 1 // the one never committed
			if tc.height == 2 {
				wantBounds = 3
			}
			if got := n.bounds.len(); got != wantBounds {
				t.Errorf("bounds of %d transactions remembered, want %d", got, wantBounds)
			}
		})
	}
}
