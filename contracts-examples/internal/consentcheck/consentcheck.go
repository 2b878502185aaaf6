// Package consentcheck is the one consent check the example contracts
// share: a combined threshold consent of a group over an action digest,
// refused with the "consent-required" code the CLI explains, and accepted
// once per contract (the chain also refuses a consent used anywhere
// before; this record lets the contract name the consent it consumed).
package consentcheck

import (
	"encoding/hex"
	"fmt"

	"github.com/trialchain/trialchain/sdk/contract"
	"github.com/trialchain/trialchain/trials/model"
)

// Meanings the example contracts require (= chain/consent's Meaning*
// constants, repeated here: a contract imports only the SDK and the model).
const (
	ApproveAmendment     = "approve amendment"
	ReleaseGenomeData    = "release genome data"
	RefuseGenomeData     = "refuse genome data"
	AttestSurgicalRecord = "attest surgical record"
)

// Used is the contract's record of consumed consents: consent/<sha256> → height.
var Used = contract.NewMap[uint64]("consent")

func refuse(format string, args ...any) error {
	return &model.Error{Code: "consent-required", Msg: fmt.Sprintf(format, args...)}
}

// Check verifies consent (the combined signature bytes from the call) of
// group over digest, signed with exactly meaning by every signer, records
// it as used, and returns its SHA-256 in hex. A consent that means
// something else is refused (the chain's receipt names its signers and
// their meaning), and so is a consent used before.
func Check(group, meaning string, digest [32]byte, consent []byte) (string, error) {
	if len(consent) == 0 {
		return "", refuse("this needs the consent of consent group %s, meaning %q, over action %x; none was given", group, meaning, digest)
	}
	h := contract.SHA256(consent)
	key := hex.EncodeToString(h[:])
	if _, used := Used.Get(key); used {
		return "", refuse("this consent (%s) was already used", key[:16])
	}
	if !contract.VerifyConsent(group, meaning, digest[:], consent) {
		return "", refuse("the consent is not a valid consent of group %s meaning %q for action %x", group, meaning, digest)
	}
	Used.Set(key, contract.BlockHeight())
	Used.Seal(key)
	return key, nil
}
