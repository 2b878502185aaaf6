package contracts

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// TestConsentVerifyPricedByWork: consent_verify charges consentGas for the
// consent it is given, before the signature checks: more signers or a
// larger key cost more; a call that cannot pay is refused without the
// checks and without marking the consent used; a used consent is refused
// before any of it is charged.
func TestConsentVerifyPricedByWork(t *testing.T) {
	if consentGas(5, 256) <= consentGas(3, 256) || consentGas(3, 512) != 4*consentGas(3, 256) {
		t.Fatalf("consentGas: 3 signers %d, 5 signers %d, 3 signers with a 4096-bit key %d",
			consentGas(3, 256), consentGas(5, 256), consentGas(3, 512))
	}
	g := testgroups.MustLoad(testgroups.AmendmentBoard)
	id, err := block.ParseHash(g.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.NewMemState(nil)
	if err != nil {
		t.Fatal(err)
	}
	var contract block.Hash
	contract[0] = 7
	const method, chainID = "amend", "trialchain-consent-gas"
	msg := []byte("amendment 1")
	at := time.Unix(1_800_000_000, 0)
	for _, parties := range [][]int{{1, 2, 3}, {1, 2, 3, 4, 5}} {
		c, err := g.Consent(rand.Reader, chainID, CallAction(contract, method, msg), consent.MeaningApproveAmendment, at, parties...)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := consent.ParseConsent(c)
		if err != nil {
			t.Fatal(err)
		}
		want := consentGas(len(parties), len(parsed.Signature))
		if got := client.ConsentVerifyGas(c); got != GasConsentVerify+want {
			t.Fatalf("client.ConsentVerifyGas = %d, the chain charges %d", got, GasConsentVerify+want)
		}
		ov := state.NewOverlay(st)
		ov.Set(state.GroupKey(id), g.Bin)
		cc := &consentCheck{ov: ov, chainID: chainID, contract: contract, method: method, height: 9}

		// Not enough gas: refused before the checks, nothing marked.
		var asked []uint64
		broke := func(n uint64) bool { asked = append(asked, n); return false }
		if err := cc.verify(g.ID, consent.MeaningApproveAmendment, msg, c, broke); !errors.Is(err, errConsentGas) {
			t.Fatalf("%d signers without gas: %v", len(parties), err)
		}
		if _, used, _ := ConsentUsed(ov, block.Hash(parsed.ID())); used || len(asked) != 1 || asked[0] != want {
			t.Fatalf("%d signers without gas: asked %v (want [%d]), used %v", len(parties), asked, want, used)
		}
		// Enough: charged exactly consentGas, verified, marked used.
		asked = nil
		pay := func(n uint64) bool { asked = append(asked, n); return true }
		if err := cc.verify(g.ID, consent.MeaningApproveAmendment, msg, c, pay); err != nil {
			t.Fatalf("%d signers: %v", len(parties), err)
		}
		if len(asked) != 1 || asked[0] != want {
			t.Fatalf("%d signers: charged %v, want [%d]", len(parties), asked, want)
		}
		// Used: refused before anything is charged.
		asked = nil
		if err := cc.verify(g.ID, consent.MeaningApproveAmendment, msg, c, pay); !errors.Is(err, ErrConsentUsed) || len(asked) != 0 {
			t.Fatalf("%d signers, used consent: %v, charged %v", len(parties), err, asked)
		}
		t.Logf("%d signers, %d-bit key: %d gas on top of the host call's %d", len(parties), 8*len(parsed.Signature), want, GasConsentVerify)
	}
}
