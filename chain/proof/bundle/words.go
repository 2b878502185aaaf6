package bundle

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
)

// Namer names a record for people from its transaction, with an article:
// "an adverse event report", "a case-report form". It returns "" for a
// transaction it does not know; the record is then named by its kind
// ("a call of ae", "a document anchor"). The domain (trials/audit)
// provides one; nil uses the kinds alone.
type Namer func(tx *block.Tx) string

// Words says, in plain words for an inspector, what every failure of a
// verification means: one sentence per failure, naming what was changed
// and the record it concerns, e.g.
//
//	record 12 of 31 (an adverse event report at block 26, tx 3f2a9c1b…): the
//	receipt was changed — it no longer matches the record log certified at block 40.
//
// err is what Verify (or Decode) returned; b is the bundle that was
// verified (nil if it could not be decoded: records are then named by
// position alone). Record numbers count from 1 (the *Error's Record is
// 0-based). What the sentences say about a record (its kind, block,
// transaction) is what the bundle claims about it: the record failed, so
// none of it is proven.
//
// A failure of a kind Words does not know is given in the verifier's
// words, prefixed by its record. Words returns nil for a nil err.
func Words(b *Bundle, err error, name Namer) []string {
	if err == nil {
		return nil
	}
	var fs Failures
	if errors.As(err, &fs) {
		out := make([]string, 0, len(fs))
		for _, e := range fs {
			out = append(out, e.Words(b, name))
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		return []string{e.Words(b, name)}
	}
	if errors.Is(err, ErrMalformed) {
		return []string{"The file is not a readable evidence bundle: it was changed by hand or damaged, or it is not a bundle (" + plain(err) + ")."}
	}
	return []string{sentence(plain(err))}
}

// Words is the plain-words sentence of one failure; see the function Words.
func (e *Error) Words(b *Bundle, name Namer) string {
	what := e.what(b)
	if e.Record < 0 && e.TxHash.IsZero() {
		return sentence(what)
	}
	return e.subject(b, name) + ": " + what + "."
}

// subject names the record: "record 12 of 31 (an adverse event report at
// block 26, tx 3f2a9c1b…)".
func (e *Error) subject(b *Bundle, name Namer) string {
	var desc []string
	var r *Record
	if b != nil && e.Record >= 0 && e.Record < len(b.Records) {
		r = b.Records[e.Record]
	}
	kind := ""
	if r != nil && len(r.Tx) > 0 {
		if tx, err := block.DecodeTx(r.Tx); err == nil {
			kind = describeTx(tx, name)
		}
	}
	if r != nil {
		if rc, err := r.Proof.Receipt(); err == nil && rc.Height > 0 {
			if kind == "" {
				kind = "a record"
			}
			kind += fmt.Sprintf(" at block %d", rc.Height)
		}
	}
	if kind != "" {
		desc = append(desc, kind)
	}
	if !e.TxHash.IsZero() {
		desc = append(desc, "tx "+shortHash(e.TxHash))
	}
	var s string
	switch {
	case e.Record >= 0 && b != nil:
		s = fmt.Sprintf("record %d of %d", e.Record+1, len(b.Records))
	case e.Record >= 0:
		s = fmt.Sprintf("record %d", e.Record+1)
	default:
		s = "a record the file does not hold"
	}
	if len(desc) > 0 {
		s += " (" + strings.Join(desc, ", ") + ")"
	}
	return s
}

// describeTx names a transaction: the Namer's words, else its kind.
func describeTx(tx *block.Tx, name Namer) string {
	if name != nil {
		if s := name(tx); s != "" {
			return s
		}
	}
	switch tx.Kind {
	case block.KindCall:
		if c, err := block.DecodeCall(tx.Payload); err == nil {
			return "a call of " + c.Method
		}
		return "a contract call"
	case block.KindAnchor:
		return "a document anchor"
	case block.KindDeploy:
		return "a contract installation"
	case block.KindUpgrade:
		return "a contract upgrade"
	case block.KindConsentGroup:
		return "a consent group registration"
	case block.KindRedact:
		return "a redaction"
	case block.KindPin:
		return "a contract registry binding"
	case block.KindRegister:
		return "a member registration"
	}
	return "a " + tx.Kind.String() + " transaction"
}

// certifiedAt names the checkpoint whose log a record's proof is for.
func certifiedAt(b *Bundle, rec int) string {
	if b == nil || rec < 0 || rec >= len(b.Records) {
		return "the certified record log"
	}
	size := b.Records[rec].Proof.Size
	for _, cp := range b.Checkpoints {
		if cp.Header.LogSize == size {
			return fmt.Sprintf("the record log certified at block %d", cp.Height())
		}
	}
	return "the certified record log"
}

var (
	reValidator = regexp.MustCompile(`validator (\d+)`)
	reQuorum    = regexp.MustCompile(`has (\d+) validator signatures, quorum is (\d+)`)
	reSize      = regexp.MustCompile(`log size (\d+)`)
	reHeights   = regexp.MustCompile(`heights (\d+) → (\d+)`)
	reHeight    = regexp.MustCompile(`\(height (\d+)\)`)
	reSetChange = regexp.MustCompile(`set change \d+ \(block (\d+)\)`)
	reSigner    = regexp.MustCompile(`signer (\d+) is not`)
)

// what says what was changed, without the subject.
func (e *Error) what(b *Bundle) string {
	msg := e.Err.Error()
	has := func(s string) bool { return strings.Contains(msg, s) }
	switch {
	case errors.Is(e, ErrGenesis):
		if has("is for chain") {
			return "the evidence file is for another network than the genesis file given (" + detail(msg) + ")"
		}
		return "the evidence file names another network founding file (genesis) than the one given: the file was altered, or it belongs to another network (" + detail(msg) + ")"
	case errors.Is(e, ErrCheckpoint):
		at := "a certified checkpoint"
		if m := reHeight.FindStringSubmatch(e.Part); m != nil {
			at = "the certified checkpoint at block " + m[1]
		}
		switch {
		case has("signed another block"):
			return at + " was changed after the validators signed it: its header no longer matches their signatures"
		case reQuorum.MatchString(msg):
			m := reQuorum.FindStringSubmatch(msg)
			return fmt.Sprintf("%s carries the signatures of only %s validators; a quorum of %s is needed (signatures were removed or the checkpoint is forged)", at, m[1], m[2])
		case has("bad signature of validator"), has("signature of validator"):
			return fmt.Sprintf("%s carries a signature of validator %s that does not hold: the signature was changed or forged", at, first(reValidator, msg))
		case has("missing or forged"):
			return at + " is certified by a validator set that the file's validator-set changes do not lead to from the genesis: a change before it was left out or forged"
		case has("is not a validator") && b != nil && len(b.SetChanges) > 0:
			return fmt.Sprintf("%s is signed by validator %s, who is not in the validator set in force at that block (signed before it joined or after it left, or forged)", at, first(reSigner, msg))
		case has("is not a validator"), has("validator set"):
			return at + " is signed by validators that are not this network's (forged by another validator set)"
		case has("signed twice"):
			return fmt.Sprintf("%s counts validator %s twice", at, first(reValidator, msg))
		case has("header is for chain"):
			return at + " is of another network"
		}
		return at + " is not validly certified by the network's validators (" + detail(msg) + ")"
	case errors.Is(e, ErrSetChange):
		at := "a validator-set change"
		if e.Part == "validator group" {
			return "the file's validator organisations' consent group, against which each validator-set change's consent is checked, is not the one the genesis names (" + detail(msg) + ")"
		}
		if m := reSetChange.FindStringSubmatch(e.Part); m != nil {
			at = "the validator-set change in block " + m[1]
		}
		return at + " is not proven from the genesis: " + detail(msg)
	case errors.Is(e, ErrConsistency):
		if m := reHeights.FindStringSubmatch(e.Part); m != nil {
			return fmt.Sprintf("the certified record logs at blocks %s and %s disagree: the later one does not extend the earlier one, so the history was rewritten or forked, or the proof between them was changed", m[1], m[2])
		}
		return "two certified checkpoints disagree about the record log (a forked or rewritten history)"
	case errors.Is(e, ErrInclusion):
		at := certifiedAt(b, e.Record)
		switch {
		case e.Part == "receipt":
			return "the receipt was changed: it can no longer be read"
		case has("record hashes to"):
			return "the receipt was changed — it no longer matches " + at
		case has("no certified checkpoint"):
			size := first(reSize, msg)
			return "its proof refers to a record log of " + size + " records that no certified checkpoint in the file has: the proof was changed, or its checkpoint was removed"
		case errors.Is(e, proof.ErrInclusion):
			return "the record or its proof of inclusion was changed — it no longer leads to " + at
		}
		return "it is not proven to be in " + at + " (" + detail(msg) + ")"
	case errors.Is(e, ErrReceipt):
		return "the transaction was changed — its bytes no longer match the receipt " + certifiedAt(b, e.Record) + " holds for it"
	case errors.Is(e, ErrSignature):
		return "the sender's digital signature does not hold: the transaction was not signed by the key it names, or was changed after signing"
	case errors.Is(e, ErrTx):
		switch {
		case has("signed for chain"):
			return "the transaction was signed for another network"
		case has("missing"):
			return "the transaction itself was removed from the file (only a contract installation may leave it out)"
		case has("the record claims some"):
			return "the record was given a program version or consents that a " + kindIn(msg) + " transaction cannot have"
		}
		return "the transaction was changed: it can no longer be read (" + detail(msg) + ")"
	case errors.Is(e, ErrCodeHash):
		switch {
		case has("the record claims code"):
			return "the record names a program version other than the one that ran it (the version was changed, or an upgrade record was removed)"
		case has("whose deploy record is not in the bundle"), has("whose deploy is not in the bundle"):
			return "the record of the program's installation was removed from the file"
		case has("the code hashes to"):
			return "the program code was changed: it no longer matches the version the receipt recorded"
		case has("second deploy"):
			return "the program is installed twice: a record was duplicated or spliced in"
		}
		return "the program version that ran it is not proven (" + detail(msg) + ")"
	case errors.Is(e, ErrConsent):
		switch {
		case has("is not registered by a record"):
			return "the registration of the consent group that approved it was removed from the file"
		case has("is not the one the receipt recorded"):
			return "the multi-party consent attached to it is not the one that was used"
		case has("is for action"):
			return "the multi-party consent attached to it approves another action"
		case has("group encoding hashes to"):
			return "the consent group's membership was changed"
		}
		return "the multi-party consent attached to it was changed: its signatures no longer hold"
	case errors.Is(e, ErrPayload):
		doc := "a document"
		if i := strings.Index(e.Part, `"`); i >= 0 {
			doc = "document " + e.Part[i:]
		}
		switch {
		case has("the bundle lists"):
			return doc + " was changed: its contents no longer match its fingerprint (SHA-256)"
		case has("the record commits to"):
			return doc + " was changed: its contents no longer match the fingerprint the record holds"
		case has("is not a verified record of the bundle"):
			return doc + " refers to a record the file does not hold"
		}
		switch {
		case has("was renamed"):
			return "the document's name was changed: " + detail(msg)
		case has("it was removed"):
			return "a document anchored for the trial was removed from the file without saying so: " + detail(msg)
		case has("no record of the trial anchors it"):
			return "a document is declared withheld that no record of the trial anchors (" + e.Part + ")"
		}
		return doc + " is not attached where the record commits to it (" + detail(msg) + ")"
	case errors.Is(e, ErrIncomplete):
		switch {
		case has("is missing from the bundle"):
			return detail(msg) + ": the file leaves out a record of the trial"
		case has("which are not the set certified"):
			return "the list of the trial's records (" + strings.Trim(strings.TrimPrefix(e.Part, "record set "), `"`) + ") is not the one the network certified: " + detail(msg)
		case has("carries no certified record set"):
			return "the file does not prove which records the trial has: " + detail(msg)
		case has("does not prove its code history"):
			return "the history of the program versions is not in the file, so an upgrade could be hidden: " + detail(msg)
		case has("does not prove its membership history"):
			return "the membership history of a signer is not in the file, so nobody can tell whether the signer held its role: " + detail(msg)
		}
		return "the trial's record is incomplete: " + detail(msg)
	case errors.Is(e, ErrForeign):
		return "it belongs to another trial or to none: it was spliced into this trial's file (" + detail(msg) + ")"
	case errors.Is(e, ErrSigner):
		return "its signer did not hold an active membership of the network when it was recorded (" + detail(msg) + ")"
	}
	return detail(msg)
}

// detail is an error's text without the package prefixes ("bundle: ",
// "proof: ", "genesis: ").
func detail(msg string) string {
	for _, e := range []error{ErrMalformed, ErrGenesis, ErrCheckpoint, ErrConsistency, ErrInclusion, ErrTx, ErrSignature, ErrReceipt, ErrCodeHash, ErrConsent, ErrPayload, ErrIncomplete, ErrForeign, ErrSigner, ErrSetChange} {
		msg = strings.ReplaceAll(msg, e.Error()+": ", "")
	}
	for _, p := range []string{"bundle: ", "proof: ", "genesis: ", "block: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

func plain(err error) string { return detail(err.Error()) }

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func first(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return "?"
}

func kindIn(msg string) string {
	if i := strings.Index(msg, "a "); i >= 0 {
		if f := strings.Fields(msg[i+2:]); len(f) > 0 {
			return f[0]
		}
	}
	return "non-call"
}

func shortHash(h block.Hash) string { return h.String()[:8] + "…" }
