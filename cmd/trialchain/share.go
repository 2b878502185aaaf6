package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/care"
)

func init() {
	register(newShareCmd)
	contractEnv[trials.RecordSharing] = "TRIALCHAIN_RECORD_SHARING"
	contractEnv[trials.Claims] = "TRIALCHAIN_CLAIMS"
	contractEnv[trials.DrugTrace] = "TRIALCHAIN_DRUG_TRACE"
}

func newShareCmd() *cobra.Command {
	c := domainGroup("share", "Share a patient's records between hospitals under FHIR R4 Consents: grant, record, request, release, read, revoke",
		`Records are shared between hospitals only through the record-sharing
contract, under the patient's FHIR R4 Consents. The patient (or their
delegate, role subject) grants a Consent; the hospital holding a record
(role site) registers it by a salted commitment, never its bytes; another
hospital requests it for a purpose and the contract decides from the
consents at the block's time (deny provisions win; no permit: refused).
The custodian then releases the record sealed with HPKE to the reader's
member key, and 'share read' opens it and checks it against the
commitment. Each read is decided again, so a revoked consent stops reads.
Every step, refused ones included, is a record of the patient's record set
('trialchain scope patient:ID').

  trialchain share grant --fhir consent.json --from delegate
  trialchain share record --id r-1 --patient p-7f3a9c --class urn:ietf:bcp:13\|application/fhir+json \
      --code http://loinc.org\|34133-9 --file summary.json --from site-a
  trialchain share request r-1 --purpose http://terminology.hl7.org/CodeSystem/v3-ActReason\|TREAT --from site-b
  trialchain share release acc-000000001 --file summary.json --from site-a
  trialchain share read acc-000000001 --out summary.json --from site-b
  trialchain share revoke c-2026-001 --patient p-7f3a9c --reason "moved" --from delegate
  trialchain share export c-2026-001 --patient p-7f3a9c --out consent-now.json
  trialchain share log p-7f3a9c

The contract is the one an admin pinned as "record-sharing" unless
--contract ADDR or $TRIALCHAIN_RECORD_SHARING is given.`,
		trials.RecordSharing)
	c.AddCommand(newShareGrantCmd(), newShareRecordCmd(), newShareRequestCmd(), newShareReleaseCmd(), newShareReadCmd(),
		newShareRevokeCmd(), newShareExportCmd(), newShareLogCmd())
	return c
}

// addCareFlags adds the flags of a verb that signs a care transaction.
func addCareFlags(c *cobra.Command) {
	c.Flags().String("from", "", "member key in --keyring that signs (its role and organisation are checked by the contract)")
	c.Flags().Bool("wait", true, "wait for the block and print the outcome (--wait=false: only submit)")
	c.Flags().Uint64("gas", defaultTrialGas, "gas limit")
	_ = c.MarkFlagRequired("from")
}

// careSend signs and sends call from --from.
func careSend(cmd *cobra.Command, call trials.Call) (*callResult, *callSender, *client.Client, error) {
	cl, err := clientFor(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := loadSender(cmd, cl)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := sendCall(cmd, cl, s, call)
	return r, s, cl, err
}

func newShareGrantCmd() *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "grant --fhir Consent.json --from NAME",
		Short: "Grant a patient's FHIR R4 Consent (the patient or delegate, role subject)",
		Long: `Grant a FHIR R4 Consent resource (JSON). The patient reference Patient/ID
names the pseudonym; the first grant for it binds it to your key, and only
that key grants and revokes for it afterwards. The root provision's period
and actors apply to its nested permit/deny provisions; a hospital reads as
Organization/ORG (its member organisation).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			call, _, err := trials.GrantConsentCall(b)
			if err != nil {
				return notSent(err)
			}
			r, _, _, err := careSend(cmd, call)
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&file, "fhir", "", "FHIR R4 Consent JSON file (required)")
	_ = c.MarkFlagRequired("fhir")
	addCareFlags(c)
	return c
}

func newShareRecordCmd() *cobra.Command {
	var r care.SharedRecord
	var file string
	c := &cobra.Command{
		Use:   "record --id ID --patient PSEUDONYM --class TOKEN --code TOKEN --file FILE --from CUSTODIAN",
		Short: "Register a record you hold (role site) by a salted commitment to FILE; the bytes stay with you",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			s, err := loadSender(cmd, cl)
			if err != nil {
				return err
			}
			r.Commitment = trials.RecordCommitment(trials.RecordSalt(s.key, r.ID), data)
			if err := r.Validate(); err != nil {
				return notSent(err)
			}
			call, err := trials.CareCall(trials.RecordSharing, "record", care.RecordArgs{Record: r})
			if err != nil {
				return err
			}
			res, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			return emitResults(cmd, res)
		},
	}
	c.Flags().StringVar(&r.ID, "id", "", "record id")
	c.Flags().StringVar(&r.Patient, "patient", "", "the patient's pseudonym")
	c.Flags().StringVar(&r.Class, "class", "", "data class token, e.g. urn:ietf:bcp:13|application/fhir+json")
	c.Flags().StringVar(&r.Code, "code", "", "data code token, e.g. http://loinc.org|34133-9")
	c.Flags().StringVar(&file, "file", "", "the record (kept off chain; only its salted commitment is sent)")
	_ = c.MarkFlagRequired("file")
	addCareFlags(c)
	return c
}

func newShareRequestCmd() *cobra.Command {
	var purpose string
	c := &cobra.Command{
		Use:   "request RECORD --purpose TOKEN --from NAME",
		Short: "Request a record (role site): decided from the patient's consents; prints the access id",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, _, _, err := careSend(cmd, mustCareCall(trials.RecordSharing, "request", care.RequestArgs{Record: args[0], Purpose: purpose}))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&purpose, "purpose", "", "purpose of use token, e.g. http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT")
	_ = c.MarkFlagRequired("purpose")
	addCareFlags(c)
	return c
}

func newShareReleaseCmd() *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "release ACCESS --file FILE --from CUSTODIAN",
		Short: "Release a record to a permitted reader (its custodian), sealed with HPKE to the reader's member key",
		Long: `Release the record of a permitted access. FILE is checked against the
commitment registered with the record (sign with the key that registered
it: the salt comes from that key), then salt and record are sealed with
HPKE to the reader's member key; only the sealed bytes go on chain, once per
access. Refused if the consent was revoked meanwhile.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			s, err := loadSender(cmd, cl)
			if err != nil {
				return err
			}
			addr, err := resolveContract(cmd, cl, trials.RecordSharing)
			if err != nil {
				return err
			}
			var acc care.Access
			if err := queryInto(cmd, cl, mustCareCall(trials.RecordSharing, "access", care.AccessArgs{Access: args[0]}), &acc); err != nil {
				return err
			}
			var rec care.SharedRecord
			if err := queryInto(cmd, cl, mustCareCall(trials.RecordSharing, "show", map[string]string{"record": acc.Record}), &rec); err != nil {
				return err
			}
			sealed, err := sealShared(s.key, addr, acc, rec, data)
			if err != nil {
				return &exitError{code: 1, msg: "Not sent: " + err.Error()}
			}
			res, err := sendCall(cmd, cl, s, mustCareCall(trials.RecordSharing, "release", care.ReleaseArgs{Access: acc.ID, Sealed: sealed}))
			if err != nil {
				return err
			}
			return emitResults(cmd, res)
		},
	}
	c.Flags().StringVar(&file, "file", "", "the record, as registered (required)")
	_ = c.MarkFlagRequired("file")
	addCareFlags(c)
	return c
}

func mustCareCall(contract, method string, args any) trials.Call {
	c, err := trials.CareCall(contract, method, args)
	if err != nil {
		panic(err) // plain argument structs only
	}
	return c
}

// sealShared checks data against rec's commitment under the custodian's
// salt and seals it to acc's reader (the release argument, hex).
func sealShared(custodian ed25519.PrivateKey, addr [32]byte, acc care.Access, rec care.SharedRecord, data []byte) (string, error) {
	salt := trials.RecordSalt(custodian, rec.ID)
	if trials.RecordCommitment(salt, data) != rec.Commitment {
		return "", fmt.Errorf("the file with this key does not match the commitment registered with record %s: give the bytes it was registered with, signing with the key that registered it", rec.ID)
	}
	reader, err := hex.DecodeString(acc.Reader)
	if err != nil || len(reader) != ed25519.PublicKeySize {
		return "", fmt.Errorf("access %s names reader key %q: not an ed25519 key", acc.ID, acc.Reader)
	}
	pt, err := trials.RecordPlaintext(salt, data)
	if err != nil {
		return "", err
	}
	sealed, err := consent.SealToMember(rand.Reader, reader, trials.RecordSealInfo(addr, acc.ID, acc.Record), pt)
	if err != nil {
		return "", fmt.Errorf("sealing record %s to the reader of %s: %w", rec.ID, acc.ID, err)
	}
	return hex.EncodeToString(sealed), nil
}

// openShared opens a read's sealed record with the reader's key and checks
// it against the record's commitment.
func openShared(reader ed25519.PrivateKey, addr [32]byte, acc care.Access, commitment string) ([]byte, error) {
	sealed, err := hex.DecodeString(acc.Sealed)
	if err != nil {
		return nil, fmt.Errorf("the sealed record is not hex: %w", err)
	}
	pt, err := consent.OpenAsMember(reader, trials.RecordSealInfo(addr, acc.ID, acc.Record), sealed)
	if errors.Is(err, consent.ErrMemberSeal) {
		return nil, fmt.Errorf("it does not open with your key (sealed to another key or for another access): %w", err)
	}
	if err != nil {
		return nil, err
	}
	return trials.OpenedRecord(pt, commitment)
}

func newShareReadCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "read ACCESS --out FILE --from READER",
		Short: "Read a released record (the access's reader): decided again, logged, opened with your key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, s, cl, err := careSend(cmd, mustCareCall(trials.RecordSharing, "read", care.AccessArgs{Access: args[0]}))
			if err != nil {
				return err
			}
			if r.Status == "ok" {
				var acc care.Access
				if err := json.Unmarshal(r.Result, &acc); err != nil {
					return fmt.Errorf("read result: %w", err)
				}
				var rec care.SharedRecord
				if err := queryInto(cmd, cl, mustCareCall(trials.RecordSharing, "show", map[string]string{"record": acc.Record}), &rec); err != nil {
					return err
				}
				data, err := openShared(s.key, r.Address, acc, rec.Commitment)
				if err != nil {
					return &exitError{code: 1, msg: fmt.Sprintf("The read was logged (tx %s), but the record cannot be used: %v", r.Tx, err)}
				}
				if err := os.WriteFile(out, data, 0o600); err != nil {
					return err
				}
				r.Summary = fmt.Sprintf("Read %d of access %s: record %s (%d bytes, matches its commitment) written to %s.", acc.Reads, acc.ID, acc.Record, len(data), out)
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&out, "out", "", "file to write the record to (required)")
	_ = c.MarkFlagRequired("out")
	addCareFlags(c)
	return c
}

func newShareRevokeCmd() *cobra.Command {
	var patient, reason string
	c := &cobra.Command{
		Use:   "revoke CONSENT --patient PSEUDONYM --reason TEXT --from NAME",
		Short: "Revoke a consent (the key that granted for the patient): later reads under it are refused",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, _, _, err := careSend(cmd, mustCareCall(trials.RecordSharing, "revoke", care.RevokeArgs{Patient: patient, Consent: args[0], Reason: reason}))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&patient, "patient", "", "the patient's pseudonym")
	c.Flags().StringVar(&reason, "reason", "", "why the consent is revoked")
	_ = c.MarkFlagRequired("patient")
	_ = c.MarkFlagRequired("reason")
	addCareFlags(c)
	return c
}

func newShareExportCmd() *cobra.Command {
	var patient, out string
	c := &cobra.Command{
		Use:   "export CONSENT --patient PSEUDONYM [--out FILE]",
		Short: "Export a consent as it stands on chain as a FHIR R4 Consent (JSON; revoked: status inactive)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			var c care.Consent
			if err := queryInto(cmd, cl, mustCareCall(trials.RecordSharing, "consent", map[string]string{"patient": patient, "consent": args[0]}), &c); err != nil {
				return err
			}
			b, err := care.ExportConsent(&c)
			if err != nil {
				return err
			}
			if out == "" {
				_, err := cmd.OutOrStdout().Write(append(b, '\n'))
				return err
			}
			return os.WriteFile(out, append(b, '\n'), 0o644)
		},
	}
	c.Flags().StringVar(&patient, "patient", "", "the patient's pseudonym")
	c.Flags().StringVar(&out, "out", "", "file to write (default: stdout)")
	_ = c.MarkFlagRequired("patient")
	return c
}

func newShareLogCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "log PATIENT",
		Short: "Show a patient's sharing journal (grants, records, permitted requests, releases, reads, revocations)",
		Long: `Show the patient's sealed journal in the contract (accepted steps). Refused
steps write nothing to state: list them, with their reasons, with
'trialchain scope patient:PATIENT'.` + queryNote,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			var log []care.Entry
			if err := queryInto(cmd, cl, mustCareCall(trials.RecordSharing, "log", care.PatientArgs{Patient: args[0]}), &log); err != nil {
				return err
			}
			return emit(cmd, log, func(w io.Writer) {
				for _, e := range log {
					fmt.Fprintf(w, "%s  block %-5d %-8s %-14s %-18s %s\n", e.Time, e.Height, e.Kind, e.Ref, e.Org, e.Detail)
				}
			})
		},
	}
}
