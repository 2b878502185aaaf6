package contracts_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/sdk/client"
)

func validator(id uint64) genesis.Validator {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(40 + id)}, 32))
	return genesis.Validator{ID: id, Name: fmt.Sprintf("node%d", id), Key: genesis.Key(k.Public().(ed25519.PublicKey)),
		Addr: fmt.Sprintf("127.0.0.1:%d", 7000+id), API: fmt.Sprintf("127.0.0.1:%d", 8000+id)}
}

// TestValidatorChange: a hospital's validator joins and another leaves by
// validator transactions; each needs the threshold consent of the
// validator organisations' group named by the genesis, for exactly that
// change, once.
func TestValidatorChange(t *testing.T) {
	c := newLocalChain(t, newEngine(t, true))
	s := &scenario{c: c, amend: loadBoard(t, "consent-3of5")}
	orgs := s.amend
	g := &genesis.Genesis{ChainID: c.ChainID(), Time: time.UnixMilli(1_790_000_000_000).UTC(), Params: genesis.DefaultParams()}
	for id := uint64(1); id <= 4; id++ {
		g.Validators = append(g.Validators, validator(id))
	}
	g.Params.ValidatorGroup = hex.EncodeToString(orgs.id[:])
	key := c.Key("site")

	add := genesis.Change{Op: genesis.ChangeAdd, Validator: validator(5)}
	rm := genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: 1}}
	approve := func(ch genesis.Change, meaning string, parties ...int) []byte {
		return orgs.consent(t, consent.Request{ChainID: c.ChainID(), Action: contracts.ValidatorChangeAction(ch), Meaning: meaning}, parties...)
	}
	okAdd := approve(add, consent.MeaningApproveValidatorChange, 1, 2, 3)

	// Without SetValidators (no group in the genesis) the set is fixed.
	s.fail(t, client.ValidatorTx(key, c.ChainID(), add, okAdd), "names no validator organisations")
	c.rt.SetValidators(g)
	registerParties(t, s, orgs)
	s.fail(t, client.ValidatorTx(key, c.ChainID(), add, okAdd), "consent group not registered")
	s.ok(t, client.ConsentGroupTx(c.Key("committee"), c.ChainID(), orgs.bin))

	tests := []struct {
		name string
		tx   *block.Tx
		want string // "" succeeds
	}{
		{name: "no consent", tx: client.ValidatorTx(key, c.ChainID(), add, nil), want: "needs the threshold consent"},
		{name: "consent to another change", tx: client.ValidatorTx(key, c.ChainID(), add, approve(rm, consent.MeaningApproveValidatorChange, 1, 2, 3)), want: "consent"},
		{name: "another meaning", tx: client.ValidatorTx(key, c.ChainID(), add, approve(add, consent.MeaningApproveUpgrade, 1, 2, 3)), want: "meaning"},
		{name: "remove an absent validator", tx: client.ValidatorTx(key, c.ChainID(), genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: 9}}, okAdd), want: "not in the set"},
		{name: "add a fifth", tx: client.ValidatorTx(key, c.ChainID(), add, okAdd)},
		{name: "add it again", tx: client.ValidatorTx(key, c.ChainID(), add, okAdd), want: "id 5 is in use"},
		{name: "remove validator 1", tx: client.ValidatorTx(key, c.ChainID(), rm, approve(rm, consent.MeaningApproveValidatorChange, 2, 4, 5))},
	}
	for _, tt := range tests {
		if tt.want == "" {
			rc := s.ok(t, tt.tx)
			if !hasEvent(rc, "validator.changed") || !hasEvent(rc, "consent.used") {
				t.Fatalf("%s: events %v", tt.name, rc.Events)
			}
			continue
		}
		s.fail(t, tt.tx, tt.want)
	}
	set, err := contracts.ValidatorSet(c.State(), g.Set())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(set.IDs(), set.Quorum()); got != "[2 3 4 5] 3" {
		t.Fatalf("validator set in state: %s", got)
	}
}
