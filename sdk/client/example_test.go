package client_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/sdk/client"
)

// A site in another organisation reaches a validator over HTTP/3 with
// the node's key pinned from the genesis ("https://..." for TLS on TCP).
// A node presenting another key is refused with ErrWrongNodeKey.
func ExampleForGenesis() {
	g, err := genesis.Load("net/genesis.json")
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.ForGenesis(g, "h3://node1.example.org:26601")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close() // the HTTP/3 client's UDP socket
	st, err := c.Status(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.ChainID == g.ChainID, st.Height)
}

// A site sends many transactions in one request (POST /v1/txs): each
// gets the answer it would get alone, in order, and those the node was
// too busy to take are sent again by SubmitBatch itself.
func ExampleClient_SubmitBatch() {
	key, chainID := siteKey(), "trialchain-dev"
	var txs []*block.Tx
	for _, doc := range []string{"protocol-v1.pdf", "sap-v2.pdf", "icf-v3.pdf"} {
		p := &block.AnchorPayload{Hash: block.Sum([]byte(doc)), Label: doc}
		txs = append(txs, client.Sign(key, chainID, block.KindAnchor, p.Encode(), 100_000))
	}
	c := client.New("http://127.0.0.1:26601")
	results, err := c.SubmitBatch(context.Background(), txs, true)
	if err != nil {
		log.Fatal(err) // the node was not reached, or the body was refused whole
	}
	for i, r := range results {
		if err := client.BatchErr(r); err != nil {
			fmt.Println(txs[i].Hash(), "refused:", err)
			continue
		}
		fmt.Println(r.Hash, "committed at height", r.Receipt.Height)
	}
}

func siteKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(make([]byte, 32)) }

// A site's bulk import: any number of transactions, sent in as few
// requests as their count and size allow, each with its own result.
func ExampleClient_SubmitAll() {
	key, chainID := siteKey(), "trialchain-dev"
	var txs []*block.Tx
	for i := range 1000 {
		p := &block.AnchorPayload{Hash: block.Sum(fmt.Appendf(nil, "form %d", i)), Label: "crf export"}
		txs = append(txs, client.Sign(key, chainID, block.KindAnchor, p.Encode(), 100_000))
	}
	c := client.New("http://127.0.0.1:26601")
	results, err := c.SubmitAll(context.Background(), txs, true)
	for i, r := range results {
		if r.Status == 0 {
			break // not sent: err says why
		}
		if err := client.BatchErr(r); err != nil {
			fmt.Println(txs[i].Hash(), "refused:", err)
		}
	}
	if err != nil {
		log.Fatal(err)
	}
}
