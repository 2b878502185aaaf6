package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

func TestBoundsSweep(t *testing.T) {
	h := func(i int) block.Hash { return block.Sum([]byte(fmt.Sprint(i))) }
	cases := []struct {
		name     string
		fill     func(b *bounds) // to boundsCap entries
		headTime int64
		wantKept bool // the new entry is remembered
		wantLen  int
	}{
		{"answered expired go first", func(b *bounds) {
			for i := range boundsCap {
				b.m[h(i)] = bound{validUntil: 1000, answered: i%2 == 0}
			}
		}, 2000, true, boundsCap/2 + 1},
		{"then long expired", func(b *bounds) {
			for i := range boundsCap {
				b.m[h(i)] = bound{validUntil: uint64(1000 + i%2*boundsKeepMilli)}
			}
		}, 1001 + boundsKeepMilli, true, boundsCap/2 + 1},
		{"then any expired", func(b *bounds) {
			for i := range boundsCap {
				b.m[h(i)] = bound{validUntil: uint64(1000 + i%2*1_000_000)}
			}
		}, 1001, true, boundsCap/2 + 1},
		{"none expired: not remembered", func(b *bounds) {
			for i := range boundsCap {
				b.m[h(i)] = bound{validUntil: 5000}
			}
		}, 1001, false, boundsCap},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &bounds{m: map[block.Hash]bound{}}
			c.fill(b)
			b.add(h(-1), 1<<40, c.headTime)
			if _, ok := b.m[h(-1)]; ok != c.wantKept || b.len() != c.wantLen {
				t.Fatalf("kept %v, %d entries; want %v, %d", ok, b.len(), c.wantKept, c.wantLen)
			}
		})
	}
	b := &bounds{}
	b.add(h(1), 0, 0)
	if b.len() != 0 {
		t.Fatal("an unbounded transaction is remembered")
	}
	b.add(h(1), 10, 0)
	b.committed(h(1))
	if b.len() != 0 {
		t.Fatal("a committed transaction is still remembered")
	}
}

// TestAPIAnswersExpired: the API refuses a transaction already past its
// bound (400 expired); a transaction it accepted that the next block is
// too late for is answered expired (410 with view.TxExpired) by the POST
// that waits for it and by GET /v1/tx, and no node ever commits it.
func TestAPIAnswersExpired(t *testing.T) {
	c := newCluster(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n0 := c.live()[0]
	cl := client.New(n0.APIURL())
	chain := c.tn.Genesis.ChainID
	sponsor, err := keys.Ring{Dir: c.tn.Keyring}.Get("sponsor")
	if err != nil {
		t.Fatal(err)
	}
	anchorTx := func(nonce, validUntil uint64) *block.Tx {
		tx := &block.Tx{ChainID: chain, Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000, ValidUntil: validUntil,
			Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint(nonce))), Label: "doc"}).Encode()}
		tx.Sign(sponsor.Private)
		return tx
	}
	post := func(path string, tx *block.Tx) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, n0.APIURL()+path, bytes.NewReader(tx.Encode()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if _, err := cl.Submit(ctx, anchorTx(1, 0), true); err != nil {
		t.Fatal(err)
	}

	// Already past its bound at the head's time: refused.
	head := n0.ledger.Head()
	if code, body := post("/v1/tx", anchorTx(2, uint64(head.TimeUnixMilli-1))); code != http.StatusBadRequest || !bytes.Contains(body, []byte(`"code": "expired"`)) {
		t.Fatalf("already expired: %d %s", code, body)
	}

	// Valid until the head's time exactly: admitted, and a later block
	// (its time past the bound) leaves it out. A block of the same
	// millisecond could still carry it: then try again.
	for attempt := uint64(0); ; attempt++ {
		if attempt == 5 {
			t.Fatal("every bounded transaction committed in a block of its bound's millisecond")
		}
		head := n0.ledger.Head()
		bounded := anchorTx(100+attempt, uint64(head.TimeUnixMilli))
		h := bounded.Hash()
		before := n0.bounds.len()
		type answer struct {
			code int
			body []byte
		}
		waited := make(chan answer, 1)
		go func() {
			code, body := post("/v1/tx?wait=1", bounded)
			waited <- answer{code, body}
		}()
		for n0.bounds.len() == before && len(waited) == 0 {
			time.Sleep(time.Millisecond)
		}
		// Another transaction makes the next block.
		if _, err := cl.Submit(ctx, anchorTx(200+attempt, 0), true); err != nil {
			t.Fatal(err)
		}
		a := <-waited
		if a.code == http.StatusOK {
			continue // committed in a block of that same millisecond
		}
		var e view.TxExpired
		if err := json.Unmarshal(a.body, &e); err != nil || a.code != http.StatusGone || e.Status != "expired" || e.Code != "expired" ||
			e.Hash != h || e.ValidUntil != bounded.ValidUntil || e.HeadTime <= int64(bounded.ValidUntil) {
			t.Fatalf("POST ?wait=1 of a transaction left out: %d %s", a.code, a.body)
		}
		resp, err := http.Get(n0.APIURL() + "/v1/tx/" + h.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e = view.TxExpired{}
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusGone || e.Status != "expired" ||
			!bytes.Contains(body, []byte("so it never will be")) || e.HeadHeight == 0 {
			t.Fatalf("GET of the expired transaction: %d %s", resp.StatusCode, body)
		}
		// The SDK reads the same answer as ErrExpired.
		if _, err := cl.Tx(ctx, h); !errors.Is(err, client.ErrExpired) {
			t.Fatalf("client.Tx of the expired transaction: %v", err)
		}
		c.waitSameHead(30 * time.Second)
		for _, n := range c.live() {
			if _, err := n.store.Receipt(h); err == nil {
				t.Fatalf("node %d committed the expired transaction", n.cfg.ID)
			}
		}
		// A committed receipt wins.
		if tr, err := cl.Tx(ctx, block.Sum(anchorTx(200+attempt, 0).Encode())); err != nil || tr.Receipt == nil {
			t.Fatalf("the committed transaction: %v", err)
		}
		// The node restarts and forgets what it accepted: it answers 404,
		// and the SDK's wait concludes from the head time of its status.
		c.stop(0)
		c.start(0)
		cl = client.New(c.live()[0].APIURL())
		if _, err := cl.Tx(ctx, h); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("after a restart, client.Tx: %v", err)
		}
		if _, err := cl.WaitReceipt(ctx, bounded); !errors.Is(err, client.ErrExpired) {
			t.Fatalf("after a restart, client.WaitReceipt: %v", err)
		}
		return
	}
}
