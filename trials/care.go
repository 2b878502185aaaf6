package trials

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/trialchain/trialchain/trials/care"
)

// The contracts of the care scenarios (package trials/care), as the CLI
// deploys them.
const (
	RecordSharing = "record-sharing"
	Claims        = "claims"
	DrugTrace     = "drug-trace"
)

// CareCall is a call to one of the care contracts: args is the method's
// argument struct from package care (care.GrantArgs, care.ClaimArgs,
// care.ShipArgs...), sent as JSON.
func CareCall(contract, method string, args any) (Call, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return Call{}, fmt.Errorf("trials: %s.%s arguments: %w", contract, method, err)
	}
	return Call{Contract: contract, Method: method, Args: b}, nil
}

// GrantConsentCall grants a FHIR R4 Consent (JSON) read with
// care.ImportConsent, checked first.
func GrantConsentCall(fhirJSON []byte) (Call, care.Consent, error) {
	c, err := care.ImportConsent(fhirJSON)
	if err != nil {
		return Call{}, c, err
	}
	if err := c.Validate(); err != nil {
		return Call{}, c, err
	}
	call, err := CareCall(RecordSharing, "grant", care.GrantArgs{Consent: c})
	return call, c, err
}

// A shared record's bytes never go on chain: the custodian registers a
// salted commitment (RecordCommitment, the salt derived from its member
// key as for a genome location), and releases salt ‖ record sealed with
// HPKE to a permitted reader's member key (chain/consent.SealToMember of
// RecordPlaintext, bound to RecordSealInfo), who opens it
// (consent.OpenAsMember) and checks it against the commitment
// (OpenedRecord). This is the genome-access release mechanism
// with its own domain-separation tags.
const (
	recordCommitTag = "trialchain/shared-record/v1\x00"
	recordSaltTag   = "trialchain/shared-record-salt/v1\x00"
	recordSealTag   = "trialchain/shared-record-seal/v1\x00"
)

// MaxSharedRecord bounds a record released through the chain (the sealed
// bytes are kept in contract state as hex).
const MaxSharedRecord = 15 << 10

// RecordSalt is the commitment salt of record, derived from the
// custodian's member key (HMAC-SHA256(seed, tag ‖ record)).
func RecordSalt(custodian ed25519.PrivateKey, record string) [32]byte {
	m := hmac.New(sha256.New, custodian.Seed())
	m.Write([]byte(recordSaltTag))
	m.Write([]byte(record))
	var s [32]byte
	copy(s[:], m.Sum(nil))
	return s
}

// RecordCommitment is the hex commitment to a record's bytes under salt.
func RecordCommitment(salt [32]byte, data []byte) string {
	h := sha256.New()
	h.Write([]byte(recordCommitTag))
	h.Write(salt[:])
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// RecordSealInfo is the HPKE context of a released record: the contract,
// the access and the record, so a sealed record cannot be replayed under
// another access.
func RecordSealInfo(contract [32]byte, access, record string) []byte {
	b := append([]byte(recordSealTag), contract[:]...)
	b = append(b, access...)
	b = append(b, 0)
	return append(b, record...)
}

// RecordPlaintext is what the custodian seals to the reader
// (consent.SealToMember with RecordSealInfo): salt ‖ data.
func RecordPlaintext(salt [32]byte, data []byte) ([]byte, error) {
	if len(data) > MaxSharedRecord {
		return nil, fmt.Errorf("trials: a record of %d bytes; at most %d are released through the chain", len(data), MaxSharedRecord)
	}
	return append(salt[:], data...), nil
}

// OpenedRecord checks an opened plaintext (salt ‖ data) against the
// record's commitment and returns the record's bytes.
func OpenedRecord(pt []byte, commitment string) ([]byte, error) {
	if len(pt) < 32 || len(pt) > 32+MaxSharedRecord {
		return nil, fmt.Errorf("trials: released record: %d bytes, not a salt and a record", len(pt))
	}
	var salt [32]byte
	copy(salt[:], pt[:32])
	data := pt[32:]
	if subtle.ConstantTimeCompare([]byte(RecordCommitment(salt, data)), []byte(commitment)) != 1 {
		return nil, fmt.Errorf("trials: the released record does not match its commitment %s…: the custodian released other bytes", shortHex(commitment))
	}
	return data, nil
}

func init() {
	for code, h := range map[string]string{
		care.CodeNoConsent:        "the patient (or their delegate) must grant a FHIR Consent that permits your organisation, this purpose and this class and code of data now",
		care.CodeDeniedByConsent:  "the patient's consent denies this; only the patient can change it",
		care.CodeRevoked:          "the patient revoked the consent this access relied on; request again under another consent",
		care.CodeNotReleased:      "ask the record's custodian to release it (trialchain share release)",
		care.CodeProcedureUnknown: "record the procedure (method procedure) from the organisation that claims it, then claim",
		care.CodeAlreadyClaimed:   "a procedure is claimed once; see the existing claim (method show)",
		care.CodeNotHolder:        "only the organisation holding a pack (received, not in transit) may move it; check its events",
		care.CodeAlreadyDispensed: "the pack left the supply chain; if it is in hand, it may be a copy: report it",
		care.CodeRecalled:         "the pack's lot is recalled: quarantine it and return it to the manufacturer",
	} {
		if _, taken := hints[code]; taken {
			panic("trials: care refusal code " + code + " has a hint already") // codes must stay distinct
		}
		hints[code] = h
	}
}

// describeCare puts a care contract's result in words (ok false: not one).
func describeCare(call Call, output []byte) (string, bool) {
	switch call.Contract + "." + call.Method {
	case RecordSharing + ".grant", RecordSharing + ".revoke":
		var c care.Consent
		if json.Unmarshal(output, &c) != nil {
			return "", false
		}
		if c.Status == care.StatusInactive {
			return fmt.Sprintf("Consent %s of patient %s revoked at %s: later reads under it are refused.", c.ID, c.Patient, c.RevokedAt), true
		}
		return fmt.Sprintf("Consent %s of patient %s granted at %s: %d provisions.", c.ID, c.Patient, c.GrantedAt, len(c.Provisions)), true
	case RecordSharing + ".record":
		var r care.SharedRecord
		if json.Unmarshal(output, &r) != nil {
			return "", false
		}
		return fmt.Sprintf("Record %s of patient %s registered by %s (commitment %s…); the bytes stay with the custodian.", r.ID, r.Patient, r.Custodian, shortHex(r.Commitment)), true
	case RecordSharing + ".request", RecordSharing + ".release":
		var a care.Access
		if json.Unmarshal(output, &a) != nil {
			return "", false
		}
		if call.Method == "release" {
			return fmt.Sprintf("Record %s released to the reader of %s, sealed to its member key.", a.Record, a.ID), true
		}
		return fmt.Sprintf("Permitted: access %s to record %s for %s (%s).", a.ID, a.Record, a.Org, a.Decision), true
	case Claims + ".submit", Claims + ".review", Claims + ".pay", Claims + ".confirm", Claims + ".show":
		var v care.ClaimView
		if json.Unmarshal(output, &v) != nil {
			return "", false
		}
		r := v.Response
		return fmt.Sprintf("Claim %s: %s (%s), payable %d %s, payment %s.", v.Claim.ID, r.Decision, r.Reason, r.Payable, r.Currency, r.Payment), true
	}
	return "", false
}
