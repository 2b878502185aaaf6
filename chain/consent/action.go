package consent

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
)

// Action kinds defined by this package. Others may be used: a kind is any
// 1..64 bytes of [a-z0-9./_-].
const (
	// KindContractCall: Data is EncodeCall(contract, method, args).
	KindContractCall = "contract-call"
	// KindRecord: Data is the 32-byte hash of an on-chain record.
	KindRecord = "record-sha256"
	// KindFile: Data is the SHA-256 of a file (see HashFile, FileAction).
	KindFile = "file-sha256"
	// KindValidatorChange: Data is the hash of a genesis.Change (a
	// validator joining or leaving).
	KindValidatorChange = "validator-change"
)

// Meanings for the manifestation of a signature (21 CFR 11.50(a)(3)). Any
// other text is allowed; these are the ones the trial contracts know.
const (
	MeaningApproveAmendment     = "approve amendment"
	MeaningReleaseGenomeData    = "release genome data"
	MeaningAttestSurgicalRecord = "attest surgical record"
	MeaningRefuseGenomeData     = "refuse genome data"
	MeaningApproveUpgrade       = "approve upgrade"
	// MeaningApproveValidatorChange: the validator organisations approve
	// adding or removing a validator (chain/contracts, KindValidatorChange).
	MeaningApproveValidatorChange = "approve validator change"
)

// Action is the exact act a consent authorises: a kind and the bytes that
// identify the act. The bytes are signed as they are; pass a hash for
// anything large.
type Action struct {
	Kind string
	Data []byte
}

// Equal reports whether a and b are the same action.
func (a Action) Equal(b Action) bool { return a.Kind == b.Kind && bytes.Equal(a.Data, b.Data) }

func (a Action) validate() error {
	if err := checkKind(a.Kind); err != nil {
		return fmt.Errorf("%w: action kind: %v", ErrInvalidInput, err)
	}
	if len(a.Data) == 0 || len(a.Data) > maxActionData {
		return fmt.Errorf("%w: action data must be 1..%d bytes, have %d", ErrInvalidInput, maxActionData, len(a.Data))
	}
	return nil
}

func (a Action) String() string { return fmt.Sprintf("%s:%x", a.Kind, a.Data) }

// FileAction returns the KindFile action for the content read from r.
func FileAction(r io.Reader) (Action, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return Action{}, fmt.Errorf("consent: hash action file: %w", err)
	}
	return Action{Kind: KindFile, Data: h.Sum(nil)}, nil
}

// RecordAction returns the KindRecord action for a record hash.
func RecordAction(recordHash [32]byte) Action {
	return Action{Kind: KindRecord, Data: append([]byte(nil), recordHash[:]...)}
}

// CallAction returns the KindContractCall action for a call of method on
// contract with the given arguments: Data is the canonical encoding of
// (contract address, method, SHA-256 of args).
func CallAction(contract []byte, method string, args []byte) Action {
	argsHash := sha256.Sum256(args)
	var e encoder
	e.bytes(contract)
	e.str(method)
	e.fixed(argsHash[:])
	return Action{Kind: KindContractCall, Data: e.buf}
}

// Request is what every party of one consent agrees to. The threshold RSA
// signature is over its message (Request.Message), which is the same for
// all signers; what differs per signer (name, time) is in the signer's
// Manifestation, attested with its member key.
type Request struct {
	ChainID string
	Action  Action
	Meaning string // e.g. MeaningApproveAmendment
}

func (r Request) validate() error {
	if err := checkText(r.ChainID, maxChainIDLen, false); err != nil {
		return fmt.Errorf("%w: chain id: %v", ErrInvalidInput, err)
	}
	if err := r.Action.validate(); err != nil {
		return err
	}
	if err := checkText(r.Meaning, maxTextLen, false); err != nil {
		return fmt.Errorf("%w: meaning: %v", ErrInvalidInput, err)
	}
	return nil
}

// Equal reports whether r and o are the same request.
func (r Request) Equal(o Request) bool {
	return r.ChainID == o.ChainID && r.Action.Equal(o.Action) && r.Meaning == o.Meaning
}

// Message returns the consent message of r for the group with id groupID:
//
//	tag "trialchain/consent/message/v1" | group id (32) | chain id | action kind | action data | meaning
//
// in the package's canonical encoding. The threshold signature is
// RSASSA-PSS-SHA256 over it.
func (r Request) Message(groupID [32]byte) []byte {
	var e encoder
	e.str(tagMessage)
	e.fixed(groupID[:])
	r.encode(&e)
	return e.buf
}

// encode writes chain id, action and meaning (shared by the message, the
// signed share and the consent encodings).
func (r Request) encode(e *encoder) {
	e.str(r.ChainID)
	e.str(r.Action.Kind)
	e.bytes(r.Action.Data)
	e.str(r.Meaning)
}

func decodeRequest(d *decoder) Request {
	var r Request
	r.ChainID = d.str("chain id", maxChainIDLen, func(s string) error { return checkText(s, maxChainIDLen, false) })
	r.Action.Kind = d.str("action kind", maxKindLen, checkKind)
	r.Action.Data = d.bytes("action data", 1, maxActionData)
	r.Meaning = d.str("meaning", maxTextLen, func(s string) error { return checkText(s, maxTextLen, false) })
	return r
}

// ID returns the consent id of r in group groupID: SHA-256 of the consent
// message, which is also the digest the threshold signature signs. The
// chain marks it used to refuse a replay; it does not depend on who signed
// or when, so one request can be consumed only once. Put a nonce or a
// version in the action to consent to the same act twice.
func (r Request) ID(groupID [32]byte) [32]byte { return sha256.Sum256(r.Message(groupID)) }
