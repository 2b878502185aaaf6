package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

func init() { register(newSurgeryCmd) }

func newSurgeryCmd() *cobra.Command {
	c := domainGroup("surgery", "Surgical procedure records: record, co-sign by the surgical team, amend, show",
		`A surgical procedure record (pseudonymous patient, site, surgeon, procedure
code, device, start/end UTC, complications, outcome) is recorded pending and
becomes final only when the surgical team's consent group co-signs it (e.g.
2 of 3). Addenda and corrections are new records referencing the original
with a reason, co-signed the same way; the original never changes. A final
record can be linked to a trial subject.

  trialchain surgery record --fhir Procedure-example-implant.json --id surg-0001 --patient pt-7f3a9c --team-group team/group.json --from site
  trialchain surgery cosign surg-0001 --action-out cosign-action.json --from site
  trialchain consent sign --group team/group.json --share team/share-01-surgeon.bin --as surgeon --action cosign-action.json --meaning "attest surgical record" --out surgeon.sig
  trialchain consent combine --group team/group.json surgeon.sig nurse.sig --out consent.sig
  trialchain surgery cosign surg-0001 --consent consent.sig --from site
  trialchain surgery amend surg-0001 --addendum "Day 5 check: wound healing well" --reason "follow-up finding" --from site
  trialchain surgery link surg-0001 --trial NCT05503693 --subject 3f9c0a7e5b2d4c6e8a1b3d5f7e9c1a2b --from site
  trialchain surgery show surg-0001

The contract is the one an admin pinned as "surgical-records" in the
chain's contract registry (trialchain contract pin; never a deploy label)
unless --contract ADDR or $TRIALCHAIN_SURGICAL_RECORDS is given.`,
		trials.SurgicalRecords)
	c.AddCommand(newSurgeryRecordCmd(), newSurgeryCosignCmd(), newSurgeryAmendCmd(), newSurgeryLinkCmd(), newSurgeryShowCmd())
	return c
}

// procedureFlags read a procedure from a FHIR R4 Procedure or a procedure
// JSON, completed by flags.
type procedureFlags struct {
	fhir, file, id, patient, site, group, fullRecord string
}

func (f *procedureFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.fhir, "fhir", "", "a FHIR R4 Procedure JSON to import")
	c.Flags().StringVar(&f.file, "procedure", "", "a procedure JSON (TrialChain form) instead of --fhir")
	c.Flags().StringVar(&f.id, "id", "", "record id (default: the FHIR resource id)")
	c.Flags().StringVar(&f.patient, "patient", "", "pseudonymous patient id (the FHIR subject is never copied)")
	c.Flags().StringVar(&f.site, "site", "", "the recording organisation (default: your member organisation)")
	c.Flags().StringVar(&f.group, "team-group", "", "the surgical team's consent group: id (64 hex) or group.json")
	c.Flags().StringVar(&f.fullRecord, "full-record", "", "the full operative record kept off chain (file or SHA-256): its hash is stored")
}

func (f *procedureFlags) load(s *callSender) (model.Procedure, error) {
	var p model.Procedure
	site := f.site
	if site == "" && s.member != nil {
		site = s.member.Org
	}
	group := ""
	if f.group != "" {
		var err error
		if group, err = groupID("--team-group", f.group); err != nil {
			return p, err
		}
	}
	switch {
	case f.fhir != "" && f.file != "":
		return p, fmt.Errorf("give --fhir or --procedure, not both")
	case f.fhir != "":
		b, err := os.ReadFile(f.fhir)
		if err != nil {
			return p, err
		}
		if f.patient == "" {
			return p, requireFlag("patient", "pt-7f3a9c (a pseudonym: the FHIR subject reference is never copied)")
		}
		if group == "" {
			return p, requireFlag("team-group", "team/group.json")
		}
		if p, err = trials.ProcedureFromFHIR(b, trials.ProcedureOptions{ID: f.id, Patient: f.patient, Site: site, TeamGroup: group}); err != nil {
			return p, fmt.Errorf("%s: %w", f.fhir, err)
		}
	case f.file != "":
		b, err := os.ReadFile(f.file)
		if err != nil {
			return p, err
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return p, fmt.Errorf("--procedure %s: %w", f.file, err)
		}
		for _, o := range []struct {
			v   string
			dst *string
		}{{f.id, &p.ID}, {f.patient, &p.Patient}, {f.site, &p.Site}, {group, &p.TeamGroup}} {
			if o.v != "" {
				*o.dst = o.v
			}
		}
		if p.Site == "" {
			p.Site = site
		}
	default:
		return p, fmt.Errorf("no procedure: give --fhir Procedure.json (FHIR R4) or --procedure FILE (JSON)")
	}
	if f.fullRecord != "" {
		h, err := hashArg("--full-record", f.fullRecord)
		if err != nil {
			return p, err
		}
		p.RecordHash = h
	}
	return p, nil
}

func newSurgeryRecordCmd() *cobra.Command {
	var pf procedureFlags
	var fullOut string
	c := &cobra.Command{
		Use:   "record (--fhir Procedure.json | --procedure FILE) --patient PSEUDONYM --team-group GROUP --from NAME",
		Short: "Record a procedure (pending until the surgical team co-signs it)",
		Long: `Record a surgical procedure from a FHIR R4 Procedure (code, performer,
performed time, complications, outcome, implanted device) or a procedure
JSON. The patient is a pseudonym you give with --patient: the FHIR subject
reference is never copied. No PHI goes on chain: the chain gets the
procedure code, the site, the pseudonym, the month (YYYY-MM), the FHIR
status and the SHA-256 of the full record; the surgeon's name, the exact
times, notes, complications and device stay in the full record
(--full-out FILE writes it, salted; keep it encrypted, e.g. as a payload
on the validators: trialchain payload). The record is pending; the
surgical team's consent group (--team-group) makes it final with
'surgery cosign'.`,
		Example: `  trialchain surgery record --fhir Procedure-example-implant.json --id surg-0001 --patient pt-7f3a9c \
      --team-group team/group.json --from site --printed-name "Dr Cora Cutter" --full-out surg-0001.full.json --keyring devnet/keys --home devnet/node1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			p, err := pf.load(s)
			if err != nil {
				return err
			}
			if fullOut != "" {
				if pf.fullRecord != "" {
					return fmt.Errorf("give --full-record (the hash of a full record you keep) or --full-out (write one), not both")
				}
				sealed, full, err := trials.SealProcedure(rand.Reader, p)
				if err != nil {
					return err
				}
				b, err := json.MarshalIndent(full, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(fullOut, append(b, '\n'), 0o600); err != nil {
					return err
				}
				p = sealed
			}
			call, err := trials.RecordCall(p, sig, time.Now())
			if err != nil {
				return notSent(err)
			}
			r, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			if fullOut == "" && pf.fullRecord == "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: only the de-identified procedure went on chain (code, month, status); the full record (surgeon, exact times, notes, device) was not saved: pass --full-out FILE to keep it, salted, as what the record hash commits to")
			}
			if r.Status == "ok" {
				r.Summary += fmt.Sprintf("\nNext: trialchain surgery cosign %s --action-out cosign-action.json --from %s, then the team signs it.", p.ID, flagString(cmd, "from"))
			}
			return emitResults(cmd, r)
		},
	}
	pf.add(c)
	c.Flags().StringVar(&fullOut, "full-out", "", "write the full record (salted; what the on-chain hash commits to) to this file, mode 0600")
	addSignFlags(c, "author")
	return c
}

// fetchRecord reads a surgical record with its amendments and links.
func fetchRecord(cmd *cobra.Command, cl *client.Client, id string) (*model.RecordView, error) {
	b, err := queryCall(cmd, cl, trials.ShowRecordCall(id))
	if err != nil {
		return nil, err
	}
	var v model.RecordView
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("record %s: %w", id, err)
	}
	return &v, nil
}

func newSurgeryCosignCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "cosign RECORD (--action-out FILE | --consent consent.sig) --from NAME",
		Short: "Make a record final with the surgical team's consent (two steps)",
		Long: `Co-sign a pending record (an original, addendum or correction). Step 1
(--action-out FILE) reads the record from the chain and writes the action
the team's consent group signs: exactly this record as stored. The team
members sign it with 'trialchain consent sign' and the shares are combined
with 'trialchain consent combine'; step 2 (--consent consent.sig) sends it
and the record becomes final. Any member may relay the consent.`,
		Example: `  trialchain surgery cosign surg-0001 --action-out cosign-action.json --from site --keyring devnet/keys --home devnet/node1
  trialchain surgery cosign surg-0001 --consent consent.sig --from site --keyring devnet/keys --home devnet/node1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, s, _, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			v, err := fetchRecord(cmd, cl, args[0])
			if err != nil {
				return err
			}
			if v.Record.Status == model.RecordFinal {
				return &exitError{code: 1, msg: fmt.Sprintf("record %s is already final (co-signed at %s): nothing to do", args[0], v.Record.Cosign.Time)}
			}
			rerun := fmt.Sprintf("trialchain surgery cosign %s --from %s", args[0], flagString(cmd, "from"))
			who := "the surgical team's consent group " + shortID(v.Record.Procedure.TeamGroup) + "…"
			cons, done, err := consentStep(cmd, cl, trials.SurgicalRecords, "cosign", trials.RecordDigest(&v.Record), "attest surgical record", who, rerun)
			if err != nil || done {
				return err
			}
			if cons == nil {
				return fmt.Errorf("co-signing needs the team's consent: run with --action-out FILE first, then --consent consent.sig")
			}
			r, err := sendCall(cmd, cl, s, trials.CosignCall(args[0], cons))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	addConsentFlags(c)
	addSignFlags(c, "relay co-signature")
	return c
}

func newSurgeryAmendCmd() *cobra.Command {
	var addendum, reason string
	var pf procedureFlags
	c := &cobra.Command{
		Use:   "amend RECORD (--addendum TEXT | --fhir FILE | --procedure FILE) --reason TEXT --from NAME",
		Short: "Add an addendum or a correction to a final record, with a reason (the original stays)",
		Long: `Amend a final record: --addendum TEXT adds a note; --fhir or --procedure
gives the whole corrected procedure (a correction; --patient and --team-group
default to the original's). Either is a new record referencing the
original with your --reason; it is pending until the team co-signs it
('surgery cosign NEWID'). The original is never changed.`,
		Example: `  trialchain surgery amend surg-0001 --addendum "Day 5 check: wound healing well" --reason "follow-up finding" \
      --from site --keyring devnet/keys --home devnet/node1
  trialchain surgery amend surg-0001 --procedure corrected.json --reason "device lot number corrected" --from site --keyring devnet/keys --home devnet/node1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return requireFlag("reason", `"follow-up finding"`)
			}
			correction := pf.fhir != "" || pf.file != ""
			if (addendum != "") == correction {
				return fmt.Errorf("give --addendum TEXT, or a corrected procedure with --fhir/--procedure (one of them)")
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			var call trials.Call
			if addendum != "" {
				call = trials.AddendumCall(args[0], addendum, reason, sig)
			} else {
				orig, err := fetchRecord(cmd, cl, args[0])
				if err != nil {
					return err
				}
				if pf.patient == "" {
					pf.patient = orig.Record.Procedure.Patient
				}
				if pf.group == "" {
					pf.group = orig.Record.Procedure.TeamGroup
				}
				if pf.id == "" {
					pf.id = orig.Record.Procedure.ID
				}
				p, err := pf.load(s)
				if err != nil {
					return err
				}
				if err := p.Validate(time.Now().UnixMilli()); err != nil {
					return notSent(err)
				}
				call = trials.CorrectionCall(args[0], p, reason, sig)
			}
			r, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&addendum, "addendum", "", "text of an addendum")
	c.Flags().StringVar(&reason, "reason", "", "why the record is amended")
	pf.add(c)
	addSignFlags(c, "amendment")
	return c
}

func newSurgeryLinkCmd() *cobra.Command {
	var trial, subject string
	c := &cobra.Command{
		Use:   "link RECORD --trial ID --subject SUBJECT --from NAME",
		Short: "Link a final record to a trial subject",
		Example: `  trialchain surgery link surg-0001 --trial NCT05503693 --subject 3f9c0a7e5b2d4c6e8a1b3d5f7e9c1a2b \
      --from site --keyring devnet/keys --home devnet/node1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if trial == "" {
				return requireFlag("trial", "NCT05503693")
			}
			if subject == "" {
				return requireFlag("subject", "3f9c0a7e5b2d4c6e8a1b3d5f7e9c1a2b")
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			r, err := sendCall(cmd, cl, s, trials.LinkCall(args[0], trial, subject, sig))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&trial, "trial", "", "trial id")
	c.Flags().StringVar(&subject, "subject", "", "the subject's pseudonymous id in that trial")
	addSignFlags(c, "link")
	return c
}

func newSurgeryShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show RECORD",
		Short: "Show a surgical record: status (PENDING or FINAL), procedure, co-signature, amendments, links",
		Example: `  trialchain surgery show surg-0001 --home devnet/node2
  trialchain surgery show surg-0001 --output json --home devnet/node2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			call := trials.ShowRecordCall(args[0])
			b, err := queryCall(cmd, cl, call)
			if err != nil {
				return err
			}
			return emitQuery(cmd, call, b)
		},
	}
}
