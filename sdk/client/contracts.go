package client

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
)

// Gas prices of contract transactions beyond the intrinsic gas, as charged
// by chain/contracts (kept equal there by a test): per byte of code, and
// per byte stored.
const (
	gasCodePerByte = 4
	recordBytes    = 512 // upper bound of a contract record's encoding
)

// DeployGas is the gas a deploy (or upgrade) of code with the given
// payload needs: intrinsic gas, plus code validation and storage, plus the
// record. It is exact or a slight overestimate (the code is charged for
// storage even if the chain already stores the same code).
func DeployGas(payloadLen, codeLen int) uint64 {
	return state.GasBase + state.GasPerByte*uint64(payloadLen) +
		(gasCodePerByte+state.GasPerStorage)*uint64(codeLen) + state.GasPerStorage*recordBytes
}

// DeployTx builds and signs a deploy transaction with a fresh nonce and a
// gas limit of DeployGas. policy is block.PolicyImmutable (owner nil),
// block.PolicyOwner (owner nil = the sender, or a member key) or
// block.PolicyGroup (owner = the consent group id). The contract's address
// is ContractAddress(tx).
func DeployTx(key ed25519.PrivateKey, chainID string, code []byte, policy block.Policy, owner []byte, label string) *block.Tx {
	p := (&block.DeployPayload{Code: code, Policy: policy, Owner: owner, Label: label}).Encode()
	return Sign(key, chainID, block.KindDeploy, p, DeployGas(len(p), len(code)))
}

// ContractAddress is the address of the contract a deploy transaction creates.
func ContractAddress(tx *block.Tx) block.Hash { return block.ContractAddress(tx.Sender, tx.Nonce) }

// CallTx builds and signs a call of method on contract with args (the Go
// SDK decodes JSON) and a gas limit.
func CallTx(key ed25519.PrivateKey, chainID string, contract block.Hash, method string, args []byte, gas uint64) *block.Tx {
	p := (&block.CallPayload{Contract: contract, Method: method, Args: args}).Encode()
	return Sign(key, chainID, block.KindCall, p, gas)
}

// UpgradeTx builds and signs an upgrade of contract to code; consent is the
// encoded consent of the owner group (nil under the owner policy).
func UpgradeTx(key ed25519.PrivateKey, chainID string, contract block.Hash, code, consent []byte) *block.Tx {
	p := (&block.UpgradePayload{Contract: contract, Code: code, Consent: consent}).Encode()
	gas := DeployGas(len(p), len(code))
	if len(consent) > 0 {
		gas += ConsentVerifyGas(consent) + 8*state.GasPerStorage // the verification, the used mark
	}
	return Sign(key, chainID, block.KindUpgrade, p, gas)
}

// ConsentVerifyGas is what chain/contracts charges to verify the encoded
// consent (kept equal there by a test): a base price, plus per-key and
// per-signer prices that grow with the square of the group key's size.
// An undecodable consent is refused for the base price.
func ConsentVerifyGas(encoded []byte) uint64 {
	const base, perKey, perSigner = 200_000, 100_000, 120_000
	c, err := consent.ParseConsent(encoded)
	if err != nil {
		return base
	}
	k2 := uint64(len(c.Signature)) * uint64(len(c.Signature))
	return base + (perKey+perSigner*uint64(len(c.Signers)))*k2/(256*256)
}

// ConsentGroupTx builds and signs the registration of a consent group;
// groupBin is its canonical encoding (group.bin of the ceremony).
func ConsentGroupTx(key ed25519.PrivateKey, chainID string, groupBin []byte) *block.Tx {
	gas := state.GasBase + (state.GasPerByte+state.GasPerStorage)*uint64(len(groupBin))
	return Sign(key, chainID, block.KindConsentGroup, groupBin, gas)
}

// Query runs a read-only call of method on contract with args against the
// node's latest committed state, without consensus. A contract that fails
// is not an error: the result's Status is "failed" and Error says why.
// gas 0 uses the node's default.
func (c *Client) Query(ctx context.Context, contract block.Hash, method string, args []byte, gas uint64) (*view.QueryResult, error) {
	body, err := json.Marshal(view.QueryRequest{Contract: contract, Method: method, ArgsHex: fmt.Sprintf("%x", args), Gas: gas})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	var out view.QueryResult
	if err := c.do(ctx, http.MethodPost, "/v1/query", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Contract returns what the node knows of the contract at addr: code hash,
// policy, owner, deployer, label, heights and methods.
func (c *Client) Contract(ctx context.Context, addr block.Hash) (*view.Contract, error) {
	var out view.Contract
	if err := c.do(ctx, http.MethodGet, "/v1/contracts/"+addr.String(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConsentGroup returns the consent group registered under id.
func (c *Client) ConsentGroup(ctx context.Context, id block.Hash) (*view.ConsentGroup, error) {
	var out view.ConsentGroup
	if err := c.do(ctx, http.MethodGet, "/v1/consent-groups/"+id.String(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WaitActive waits until the code of the contract at addr runs: a deploy
// or upgrade activates its code code_activation_delay after its block
// (block time), while every node compiles it in the background; calls
// before then are refused (a new contract) or run the previous code.
func (c *Client) WaitActive(ctx context.Context, addr block.Hash) error {
	info, err := c.Contract(ctx, addr)
	if err != nil {
		return err
	}
	wait := time.Until(time.UnixMilli(info.Active))
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait + 100*time.Millisecond) // the next block's time is at least the proposer's clock
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("client: waiting for contract %s to activate: %w", addr, ctx.Err())
	}
}

// ValidatorTx builds and signs a validator change (a validator joining or
// leaving); consent is the validator organisations' encoded threshold
// consent to contracts.ValidatorChangeAction(change) with meaning
// consent.MeaningApproveValidatorChange. Any member may carry it.
func ValidatorTx(key ed25519.PrivateKey, chainID string, change genesis.Change, consent []byte) *block.Tx {
	p := (&block.ValidatorPayload{Change: change.Encode(), Consent: consent}).Encode()
	// The consent's verification (charged before it and by its size), its
	// used mark, and the new set's state entry (at most MaxCertSigs
	// validators of at most ~600 bytes each).
	gas := state.GasBase + state.GasPerByte*uint64(len(p)) + 2*ConsentVerifyGas(consent) + 8*state.GasPerStorage +
		state.GasPerStorage*uint64(8+len(change.Encode())*block.MaxCertSigs)
	return Sign(key, chainID, block.KindValidator, p, gas)
}
