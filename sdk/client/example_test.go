package client_test

import (
	"context"
	"fmt"
	"log"

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
