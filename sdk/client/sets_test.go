package client_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"

	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/sdk/client"
)

// TestNodesIn: the nodes a survey asks are the validators in force at the
// head of the sets walked: one added by a set change at the API address
// its add recorded, a removed one no longer; the primary first, once.
func TestNodesIn(t *testing.T) {
	g := &genesis.Genesis{ChainID: "trial-net"}
	key := func(i byte) genesis.Key {
		return genesis.Key(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{i}, 32)).Public().(ed25519.PublicKey))
	}
	for i := byte(1); i <= 4; i++ {
		g.Validators = append(g.Validators, genesis.Validator{ID: uint64(i), Name: fmt.Sprint("node", i-1), Key: key(i), Addr: "a", API: fmt.Sprintf("127.0.0.1:%d", 26700+int(i))})
	}
	added := genesis.NewHistory(g)
	if err := added.Apply(genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 5, Name: "node4", Key: key(5), Addr: "a", API: "127.0.0.1:26705"}}, 3); err != nil {
		t.Fatal(err)
	}
	both := added.Clone()
	if err := both.Apply(genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: 4}}, 6); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		vals    proof.Validators
		primary string
		want    []string
	}{
		{"genesis", g, "", []string{"node0", "node1", "node2", "node3"}},
		{"genesis history, nothing changed", genesis.NewHistory(g), "", []string{"node0", "node1", "node2", "node3"}},
		{"after an add", added, "", []string{"node0", "node1", "node2", "node3", "node4"}},
		{"after an add and a removal", both, "", []string{"node0", "node1", "node2", "node4"}},
		{"primary is the added validator", both, "http://127.0.0.1:26705", []string{"node4", "node0", "node1", "node2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var primary *client.Client
			if tc.primary != "" {
				primary = client.New(tc.primary)
			}
			var got []string
			for _, c := range client.NodesIn(tc.vals, primary) {
				got = append(got, c.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("asked %v, want %v", got, tc.want)
			}
		})
	}
}
