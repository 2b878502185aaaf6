package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

func init() { register(newTrialCmd) }

func newTrialCmd() *cobra.Command {
	c := domainGroup("trial", "Register, amend and run a clinical trial: enrolment, case-report forms, adverse events, lock, results",
		`Work with a trial on the trial-protocol contract. Each verb signs a transaction
with --from (a key in --keyring) and stores your printed name and the meaning
of your signature with the entry (21 CFR Part 11); the contract checks your
role and organisation and refuses anything the protocol does not allow,
saying why and what to do. Nothing refused is written.

The sponsor:
  trialchain trial register ResearchStudy.json --consent-group board/group.json --site "Melbourne Hospital" --activate --from sponsor
  trialchain trial amend amendment.json --action-out amend-action.json --from sponsor     (then consent sign/combine)
  trialchain trial amend amendment.json --consent consent.sig --from sponsor
  trialchain trial query raise NCT05503693 --entry crf-000000001 --field SYSBP --text "130 in the source?" --from sponsor
  trialchain trial query close NCT05503693 --query q-000000001 --reason "answer accepted" --from sponsor
  trialchain trial lock NCT05503693 --from sponsor              (shows the checklist; open queries block it)
  trialchain trial results NCT05503693 --adtte adtte.json --adsl adsl.json --primary TTDE --from sponsor
A site:
  trialchain trial enroll NCT05503693 --consent-doc signed-consent.pdf --from site
  trialchain trial submit NCT05503693 --subject SUBJECT --visit day1 --form vitals SYSBP="128 mm[Hg]" DIABP="82 mm[Hg]" HR="71 /min" --save records/ --from site
  trialchain trial correct NCT05503693 --entry crf-000000001 --reason "transcription error" SYSBP="118 mm[Hg]" --record records/HASH.rec --from site
  trialchain trial query answer NCT05503693 --query q-000000001 --text "Confirmed against the source" --from site
  trialchain trial ae NCT05503693 --subject SUBJECT --term Anaphylaxis --serious --severity severe --aware-at 2026-03-01T14:30:00Z --from site
Anyone:
  trialchain trial show NCT05503693
  trialchain trial report NCT05503693
  trialchain trial export NCT05503693 --sdtm sdtm/ --odm clinical.xml --records records/

A trial verb names its trial as its first argument or with --trial ID.
Every command also needs the node (--home DIR or --node URL) and, to sign,
--keyring DIR. The contract is the one an admin pinned as "trial-protocol"
in the chain's contract registry (trialchain contract pin; never a deploy
label) unless --contract ADDR or $TRIALCHAIN_TRIAL_PROTOCOL says otherwise. --output json
prints the outcome for scripts; the exit status is 1 when anything is refused.`,
		trials.TrialProtocol)
	c.AddCommand(newTrialRegisterCmd(), newTrialActivateCmd(), newTrialAmendCmd(), newTrialEnrollCmd(), newTrialSubmitCmd(),
		newTrialCorrectCmd(), newTrialQueryCmd(), newTrialAECmd(), newTrialLockCmd(), newTrialResultsCmd(), newTrialShowCmd(), newTrialReportCmd(),
		newTrialExportCmd())
	return c
}

// addTrialFlag adds --trial (default $TRIALCHAIN_TRIAL).
func addTrialFlag(c *cobra.Command) {
	c.Flags().String("trial", os.Getenv("TRIALCHAIN_TRIAL"), "trial id, e.g. NCT05503693 (default $TRIALCHAIN_TRIAL)")
}

func trialFlag(cmd *cobra.Command) (string, error) {
	t, _ := cmd.Flags().GetString("trial")
	if t == "" {
		return "", fmt.Errorf("name the trial: as the first argument (trial %s NCT05503693 ...) or --trial NCT05503693 ($TRIALCHAIN_TRIAL)", cmd.Name())
	}
	return t, nil
}

// trialArg takes the trial id from the argument, else --trial: every
// trial verb names its trial both ways (trial lock TRIAL, trial submit
// TRIAL ..., or --trial TRIAL). Both given and different is refused.
func trialArg(cmd *cobra.Command, args []string) (string, error) {
	if len(args) == 0 {
		return trialFlag(cmd)
	}
	if f, _ := cmd.Flags().GetString("trial"); cmd.Flags().Changed("trial") && f != "" && f != args[0] {
		return "", fmt.Errorf("two trials named: %q as the argument and %q as --trial: give one", args[0], f)
	}
	return args[0], nil
}

// trialAndFields splits the arguments of a verb taking NAME=VALUE fields:
// a first argument without "=" is the trial (else --trial).
func trialAndFields(cmd *cobra.Command, args []string) (string, []string, error) {
	if len(args) > 0 && !strings.Contains(args[0], "=") {
		t, err := trialArg(cmd, args[:1])
		return t, args[1:], err
	}
	t, err := trialFlag(cmd)
	return t, args, err
}

// fetchTrial reads the trial as on chain.
func fetchTrial(cmd *cobra.Command, cl *client.Client, trial string) (*model.TrialView, error) {
	b, err := queryCall(cmd, cl, trials.ShowCall(trial))
	if err != nil {
		return nil, err
	}
	var v model.TrialView
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("trial %s: %w", trial, err)
	}
	return &v, nil
}

// clientAndSender is the start of every signing verb.
func clientAndSender(cmd *cobra.Command) (*client.Client, *callSender, model.Signature, error) {
	cl, err := clientFor(cmd)
	if err != nil {
		return nil, nil, model.Signature{}, err
	}
	s, err := loadSender(cmd, cl)
	if err != nil {
		return nil, nil, model.Signature{}, err
	}
	sig, err := signature(cmd, s)
	return cl, s, sig, err
}

const trialRegisterLong = `Register a trial protocol, version 1, from a FHIR R5 ResearchStudy (as
ClinicalTrials.gov exports it) or from a TrialChain protocol JSON. A
ResearchStudy gives the id (NCT number), title, phase, start date, arms and
every outcome measure; visits, case-report forms, sites and the analysis
plan come from the template (the built-in one: screening, day1, day8;
vitals, demographics, labs; or --template FILE). The outcomes and start date
are frozen at the first enrolment; after that only an amendment with the
consent group's consent changes them, and the change stays visible.

--consent-group is the group whose consent amendments need. --site names an
organisation allowed to enrol and submit (repeat it; it replaces the
template's sites): use the organisation of the sites' member keys.
--activate opens enrolment right after registering.`

func newTrialRegisterCmd() *cobra.Command {
	var tmplPath, group, plan, odmForms string
	var sites []string
	var activate bool
	c := &cobra.Command{
		Use:   "register PROTOCOL.json --consent-group GROUP --from NAME",
		Short: "Register a trial protocol (FHIR R5 ResearchStudy or protocol JSON) with its pre-specified outcomes",
		Long:  trialRegisterLong,
		Example: `  trialchain trial register ResearchStudy-example-ctgov-study-record.json --consent-group board/group.json \
      --site "Melbourne Hospital" --site "Sydney Clinic" --analysis-plan SAP-v1.pdf --activate \
      --from sponsor --printed-name "Dr. Ada Sponsor" --keyring devnet/keys --home devnet/node0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			gid, err := groupID("--consent-group", group)
			if err != nil && group != "" {
				return err
			}
			var planHash string
			if plan != "" {
				if planHash, err = hashArg("--analysis-plan", plan); err != nil {
					return err
				}
			}
			p, err := loadProtocol(b, tmplPath, gid, planHash, sites)
			if err != nil {
				return notSent(err)
			}
			if odmForms != "" {
				if err := addODMForms(&p, odmForms); err != nil {
					return notSent(err)
				}
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			call, err := trials.RegisterCall(p, sig)
			if err != nil {
				return notSent(err)
			}
			r, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			rs := []*callResult{r}
			if activate && r.Status == "ok" {
				a, err := sendCall(cmd, cl, s, trials.ActivateCall(p.ID, sig))
				if err != nil {
					return err
				}
				rs = append(rs, a)
			}
			return emitResults(cmd, rs...)
		},
	}
	c.Flags().StringVar(&tmplPath, "template", "", "protocol JSON completing a ResearchStudy: visits, forms, sites, analysis plan (default: the built-in template)")
	c.Flags().StringVar(&group, "consent-group", "", "consent group for amendments: its id (64 hex) or group.json")
	c.Flags().StringArrayVar(&sites, "site", nil, "organisation allowed to enrol and submit (repeat; replaces the template's)")
	c.Flags().StringVar(&plan, "analysis-plan", "", "statistical analysis plan: a file (its SHA-256 is registered) or a SHA-256")
	c.Flags().BoolVar(&activate, "activate", false, "open enrolment right after registering")
	c.Flags().StringVar(&odmForms, "odm-forms", "", "CDISC ODM file whose MetaDataVersion adds forms (FormDef, ItemDef, CodeList, DataType) and visits (StudyEventDef); no field is public")
	addSignFlags(c, "registration")
	return c
}

// addODMForms adds the forms and visits of an ODM file's metadata to p.
func addODMForms(p *model.Protocol, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	forms, err := trials.FormsFromODM(b)
	if err != nil {
		return fmt.Errorf("--odm-forms %s: %w", path, err)
	}
	visits, err := trials.VisitsFromODM(b)
	if err != nil {
		return fmt.Errorf("--odm-forms %s: %w", path, err)
	}
	for _, f := range forms {
		if _, dup := p.Form(f.ID); dup {
			return fmt.Errorf("--odm-forms %s: form %s is already in the protocol", path, f.ID)
		}
		p.Forms = append(p.Forms, f)
	}
	for _, v := range visits {
		if _, dup := p.Visit(v.ID); !dup {
			p.Visits = append(p.Visits, v)
		}
	}
	return p.Validate()
}

// loadProtocol reads a ResearchStudy (completed by the template) or a
// protocol JSON, with the flags' overrides.
func loadProtocol(b []byte, tmplPath, group, planHash string, sites []string) (model.Protocol, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return model.Protocol{}, fmt.Errorf("protocol file is not JSON: %w", err)
	}
	if _, fhir := probe["resourceType"]; fhir {
		tmpl := trials.DefaultTemplate()
		if tmplPath != "" {
			tb, err := os.ReadFile(tmplPath)
			if err != nil {
				return model.Protocol{}, err
			}
			if err := json.Unmarshal(tb, &tmpl); err != nil {
				return model.Protocol{}, fmt.Errorf("--template %s: %w", tmplPath, err)
			}
		}
		if group == "" && !model.IsHash(tmpl.ConsentGroup) {
			return model.Protocol{}, fmt.Errorf("--consent-group is required: the group whose consent amendments need (its id or group.json)")
		}
		if group != "" {
			tmpl.ConsentGroup = group
		}
		if planHash != "" {
			tmpl.AnalysisPlanHash = planHash
		}
		if len(sites) > 0 {
			tmpl.Sites = sites
		}
		return trials.ProtocolFromResearchStudy(b, tmpl)
	}
	set := func(k string, v any) {
		j, _ := json.Marshal(v)
		probe[k] = j
	}
	if group != "" {
		set("consentGroup", group)
	}
	if planHash != "" {
		set("analysisPlanHash", planHash)
	}
	if len(sites) > 0 {
		set("sites", sites)
	}
	nb, err := json.Marshal(probe)
	if err != nil {
		return model.Protocol{}, err
	}
	return trials.ParseProtocol(nb)
}

func newTrialActivateCmd() *cobra.Command {
	return trialStateCmd("activate TRIAL --from NAME", "Open enrolment of a registered trial (or use register --activate)",
		`  trialchain trial activate NCT05503693 --from sponsor --keyring devnet/keys --home devnet/node0`,
		"activation", trials.ActivateCall)
}

// trialStateCmd is a verb that moves a trial to its next state: it takes
// the trial and the sender's signature, nothing else.
func trialStateCmd(use, short, example, meaning string, build func(trial string, sig model.Signature) trials.Call) *cobra.Command {
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			r, err := sendCall(cmd, cl, s, build(trial, sig))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	addTrialFlag(c)
	addSignFlags(c, meaning)
	return c
}

func newTrialAmendCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "amend AMENDMENT.json (--action-out FILE | --consent consent.sig) --from NAME",
		Short: "Amend a protocol with the consent of its consent group (two steps)",
		Long: `Amend a registered protocol. AMENDMENT.json says what changes and why:

  {"trial": "NCT05503693", "reason": "Ethics committee asked for a blood-pressure outcome",
   "changes": {"outcomes": [ …the whole new list… ]}}

"changes" may hold any of title, phase, startDate, arms, eligibility, visits,
forms, outcomes, analysisPlanHash, sites, consentGroup; each replaces the
protocol's. "version" defaults to the current version + 1.

Step 1 (--action-out FILE) checks the amendment against the protocol on
chain and writes the action the trial's consent group must approve. The
parties sign it with 'trialchain consent sign', someone combines the shares
with 'trialchain consent combine'. Step 2 (--consent consent.sig) sends the
amendment with the consent. Without a consent the contract refuses it.`,
		Example: `  trialchain trial amend amendment.json --action-out amend-action.json --from sponsor --keyring devnet/keys --home devnet/node0
  trialchain consent sign --group board/group.json --share board/share-01-sponsor.bin --as sponsor --action amend-action.json \
      --meaning "approve amendment" --out sponsor.sig --keyring devnet/keys --home devnet/node0
  trialchain consent combine --group board/group.json sponsor.sig committee.sig site.sig --out consent.sig
  trialchain trial amend amendment.json --consent consent.sig --from sponsor --keyring devnet/keys --home devnet/node0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var head struct {
				Trial string `json:"trial"`
			}
			_ = json.Unmarshal(b, &head)
			if head.Trial == "" {
				if head.Trial, err = trialFlag(cmd); err != nil {
					return fmt.Errorf("%s names no trial: add \"trial\": \"NCT…\" or pass --trial", args[0])
				}
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			v, err := fetchTrial(cmd, cl, head.Trial)
			if err != nil {
				return err
			}
			a, err := trials.ParseAmendment(b, &v.Protocol)
			if err != nil {
				return notSent(err)
			}
			rerun := fmt.Sprintf("trialchain trial amend %s --from %s", args[0], flagString(cmd, "from"))
			cons, done, err := consentStep(cmd, cl, trials.TrialProtocol, "amend", a.Digest(), "approve amendment", "the trial's consent group "+shortID(v.Protocol.ConsentGroup)+"…", rerun)
			if err != nil || done {
				return err
			}
			r, err := sendCall(cmd, cl, s, trials.AmendCall(a, sig, cons))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	addTrialFlag(c)
	addConsentFlags(c)
	addSignFlags(c, "amendment")
	return c
}

func flagString(cmd *cobra.Command, name string) string {
	s, _ := cmd.Flags().GetString(name)
	return s
}

func newTrialEnrollCmd() *cobra.Command {
	var subject, doc, arm string
	var version int
	c := &cobra.Command{
		Use:   "enroll (TRIAL | --trial ID) --consent-doc FILE --from NAME",
		Short: "Enrol a subject under a new random pseudonymous id (prints the id: keep it in the site's log)",
		Long: `Enrol a subject at your site. The subject gets a random pseudonymous id (128
random bits, never derived from a name or medical record number); it is
printed once: record it in the site's subject identification log, the only
link between the person and the trial data. --consent-doc is the signed
informed-consent document (a file: its SHA-256 goes on chain, the document
does not) or its SHA-256. The subject consents to the protocol's current
version unless --protocol-version says otherwise.`,
		Example: `  trialchain trial enroll --trial NCT05503693 --consent-doc signed-consent-0042.pdf --arm ap303 \
      --from site --printed-name "Dr. Site PI" --keyring devnet/keys --home devnet/node1`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			if doc == "" {
				return requireFlag("consent-doc", "signed-consent.pdf (or its SHA-256)")
			}
			docHash, err := hashArg("--consent-doc", doc)
			if err != nil {
				return err
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			if version == 0 {
				v, err := fetchTrial(cmd, cl, trial)
				if err != nil {
					return err
				}
				version = v.Protocol.Version
			}
			if subject == "" {
				if subject, err = trials.NewSubjectID(rand.Reader); err != nil {
					return err
				}
			}
			call, err := trials.EnrollCall(trial, subject, docHash, version, arm, sig)
			if err != nil {
				return notSent(err)
			}
			r, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			r.Extra = map[string]any{"subject": subject}
			if r.Status == "ok" {
				r.Summary += "\nSubject id: " + subject + "  (record it in the site's subject identification log)"
			}
			return emitResults(cmd, r)
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&subject, "subject", "", "use this pseudonymous id (32 hex, drawn at random) instead of a new one")
	c.Flags().StringVar(&doc, "consent-doc", "", "the signed informed-consent document (file) or its SHA-256")
	c.Flags().IntVar(&version, "protocol-version", 0, "protocol version consented to (default: the current one)")
	c.Flags().StringVar(&arm, "arm", "", "arm the subject is allocated to (an arm id of the protocol)")
	addSignFlags(c, "enrolment")
	return c
}

const fieldsHelp = `Fields are NAME=VALUE or NAME="VALUE UNIT", in the unit the form declares
(see 'trialchain trial show'), e.g. SYSBP="128 mm[Hg]" SEX=F. Values are
checked against the form before anything is sent (type, unit, range,
required); the public fields go on chain in clear, the others only as
salted commitments. The full record — every value and the salt — is what
the chain's record hash commits to: keep it with --save DIR (the site's
encrypted record store), or you cannot later show what was submitted.`

func newTrialSubmitCmd() *cobra.Command {
	var subject, visit, form, odmPath, saveDir string
	var o odmFlags
	var noCheck bool
	c := &cobra.Command{
		Use:   "submit (TRIAL | --trial ID) --subject SUBJECT --visit VISIT --form FORM NAME=VALUE... --from NAME",
		Short: "Submit a case-report form (or every form of a CDISC ODM file), validated against the protocol",
		Long: `Submit a case-report form for an enrolled subject at a visit.

` + fieldsHelp + `

--odm FILE submits every form of a CDISC ODM 1.3.2 ClinicalData file, one
transaction each, sent together (up to 256 a request, POST /v1/txs) and
each answered on its own; --subject-map (or --subject-map-file, one KEY=ID a line)
maps each ODM SubjectKey to the subject's pseudonymous id (no sponsor key
reaches the chain), --visit-map, --form-map and --item-map (or
--item-map-file) rename StudyEventOIDs, FormOIDs and ItemOIDs to the
protocol's ids (or register the protocol with forms built from the
file's MetaDataVersion: trial register --odm-forms). Every form is checked
first; every problem is listed with its subject, event, form, item and
line, and nothing is sent unless --import-valid asks to send the forms
that pass.

--no-check sends the form without the local checks, so that the contract
judges it (it refuses bad data the same way); private fields still go only
as commitments.`,
		Example: `  trialchain trial submit --trial NCT05503693 --subject 3f9c0a7e5b2d4c6e8a1b3d5f7e9c1a2b --visit day1 --form vitals \
      SYSBP="128 mm[Hg]" DIABP="82 mm[Hg]" HR="71 /min" NOTES="calm" --save records/ \
      --from site --printed-name "Dr. Site PI" --keyring devnet/keys --home devnet/node1
  trialchain trial submit --trial NCT05503693 --odm clinical-data.xml --subject-map-file subjects.map \
      --visit-map SE.VISIT1=day1 --form-map F.VS=vitals --item-map-file items.map --save records/ --from site --keyring devnet/keys --home devnet/node1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, args, err := trialAndFields(cmd, args)
			if err != nil {
				return err
			}
			var recs []trials.Record
			if odmPath != "" {
				if len(args) > 0 || subject != "" || visit != "" || form != "" {
					return fmt.Errorf("with --odm the file gives subjects, visits, forms and values: drop --subject/--visit/--form and the NAME=VALUE arguments")
				}
			} else {
				switch {
				case subject == "":
					return requireFlag("subject", "3f9c0a7e5b2d4c6e8a1b3d5f7e9c1a2b (the id trial enroll printed)")
				case visit == "":
					return requireFlag("visit", "day1 (a visit id of the protocol: trialchain trial show)")
				case form == "":
					return requireFlag("form", "vitals (a form id of the protocol: trialchain trial show)")
				case len(args) == 0:
					return fmt.Errorf("no field values: give NAME=VALUE arguments, e.g. SYSBP=\"128 mm[Hg]\"")
				}
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			v, err := fetchTrial(cmd, cl, trial)
			if err != nil {
				return err
			}
			var skipped error
			if odmPath != "" {
				o.path = odmPath
				if recs, skipped, err = odmRecords(&v.Protocol, o); err != nil {
					return err
				}
				if skipped != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%v\nsending the %d valid forms (--import-valid)\n", skipped, len(recs))
				}
			} else {
				fields, err := parseFields(&v.Protocol, form, args)
				if err != nil {
					return err
				}
				rec, err := trials.NewRecord(rand.Reader, trial, subject, visit, form, fields)
				if err != nil {
					return err
				}
				recs = []trials.Record{rec}
			}
			var calls []trials.Call
			for _, rec := range recs {
				var call trials.Call
				if noCheck {
					call = uncheckedSubmit(&v.Protocol, rec, sig)
				} else if call, err = trials.SubmitCall(&v.Protocol, rec, sig); err != nil {
					if len(recs) > 1 {
						err = fmt.Errorf("subject %s visit %s form %s: %w", rec.Subject, rec.Visit, rec.Form, err)
					}
					return notSent(err)
				}
				calls = append(calls, call)
			}
			// Every record is saved before any is sent: what reaches the
			// chain is always in the site's record store.
			paths := make([]string, len(recs))
			for i, rec := range recs {
				if paths[i], err = saveRecord(cmd, saveDir, rec); err != nil {
					return err
				}
			}
			rs, sendErr := sendCalls(cmd, cl, s, calls)
			for i, r := range rs {
				r.Extra = map[string]any{"record_hash": recs[i].Hash()}
				if paths[i] != "" {
					r.Extra["record_file"] = paths[i]
				}
			}
			if sendErr != nil {
				if len(rs) > 0 {
					_ = emitResults(cmd, rs...)
				}
				return sendErr
			}
			if saveDir == "" && anyOK(rs) {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: the full record (every value and its salt) was not saved; pass --save DIR to keep it in the site's record store")
			}
			if err := emitResults(cmd, rs...); err != nil {
				return err
			}
			if skipped != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("%d valid forms sent; the others were not (listed above)", len(recs))}
			}
			return nil
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&subject, "subject", "", "the subject's pseudonymous id (from trial enroll)")
	c.Flags().StringVar(&visit, "visit", "", "visit id of the protocol, e.g. day1")
	c.Flags().StringVar(&form, "form", "", "form id of the protocol, e.g. vitals")
	c.Flags().StringVar(&odmPath, "odm", "", "submit every form of this CDISC ODM ClinicalData file")
	c.Flags().StringArrayVar(&o.subjMap, "subject-map", nil, "ODM SubjectKey=pseudonymous subject id (repeat)")
	c.Flags().StringVar(&o.subjectFile, "subject-map-file", "", "file of SubjectKey=subject id lines (the site's table)")
	c.Flags().StringArrayVar(&o.visitMap, "visit-map", nil, "ODM StudyEventOID=visit id (repeat)")
	c.Flags().StringArrayVar(&o.formMap, "form-map", nil, "ODM FormOID (or ItemGroupOID)=form id (repeat)")
	c.Flags().StringArrayVar(&o.itemMap, "item-map", nil, "ODM ItemOID=field id (repeat)")
	c.Flags().StringVar(&o.itemFile, "item-map-file", "", "file of ItemOID=field id lines")
	c.Flags().BoolVar(&o.importValid, "import-valid", false, "with --odm: send the forms that pass and list the others (default: any problem refuses the file)")
	c.Flags().StringVar(&saveDir, "save", "", "the site's record store: full records encrypted with a per-subject key (DIR/RECORDHASH.rec, keys in DIR/keys)")
	c.Flags().BoolVar(&noCheck, "no-check", false, "send without the local checks: the contract judges the form")
	addRecordKeysFlag(c)
	addSignFlags(c, "author")
	return c
}

func anyOK(rs []*callResult) bool {
	for _, r := range rs {
		if r.Status == "ok" {
			return true
		}
	}
	return false
}

// parseFields reads NAME=VALUE arguments for form of p: a number may carry
// its unit after a space ("128 mm[Hg]"); text, codes, dates and booleans
// are taken whole ("NOTES=calm, no complaints"). Fields the form does not
// declare are read like numbers, and the checks then name them.
func parseFields(p *model.Protocol, form string, args []string) (map[string]model.FieldValue, error) {
	f, _ := p.Form(form)
	out := map[string]model.FieldValue{}
	for _, a := range args {
		name, val, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("field %q must be NAME=VALUE or NAME=\"VALUE UNIT\", e.g. SYSBP=\"128 mm[Hg]\"", a)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("field %s is given twice", name)
		}
		whole := false
		if f != nil {
			base, _, _ := strings.Cut(name, "#")
			for _, fd := range f.Fields {
				if fd.ID == base {
					whole = fd.Type != model.TypeInteger && fd.Type != model.TypeDecimal
				}
			}
		}
		if whole {
			out[name] = model.FieldValue{Value: strings.TrimSpace(val)}
			continue
		}
		one, err := trials.ParseFields([]string{a})
		if err != nil {
			return nil, err
		}
		out[name] = one[name]
	}
	return out, nil
}

// parseKVFlags reads KEY=VALUE flags.
func parseKVFlags(flag string, kvs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--%s %q: want KEY=VALUE", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// odmFlags are trial submit's ODM import options.
type odmFlags struct {
	path, subjectFile, itemFile         string
	subjMap, visitMap, formMap, itemMap []string
	importValid                         bool
}

// odmRecords reads the ODM file and the maps, and checks every form
// against the trial's protocol. With --import-valid the forms that pass
// are returned with the problems of the others (printed by the caller);
// otherwise any problem refuses the whole file, every problem listed.
func odmRecords(p *model.Protocol, o odmFlags) ([]trials.Record, error, error) {
	b, err := os.ReadFile(o.path)
	if err != nil {
		return nil, nil, err
	}
	forms, err := trials.ParseODMClinicalData(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.path, err)
	}
	var maps trials.ODMMaps
	for _, m := range []struct {
		flag, file string
		kvs        []string
		dst        *map[string]string
	}{
		{"subject-map", o.subjectFile, o.subjMap, &maps.Subjects},
		{"visit-map", "", o.visitMap, &maps.Visits},
		{"form-map", "", o.formMap, &maps.Forms},
		{"item-map", o.itemFile, o.itemMap, &maps.Items},
	} {
		kv, err := parseKVFlags(m.flag, m.kvs)
		if err != nil {
			return nil, nil, err
		}
		if m.file != "" {
			fb, err := os.ReadFile(m.file)
			if err != nil {
				return nil, nil, err
			}
			fm, err := trials.ParseMapFile(fb)
			if err != nil {
				return nil, nil, fmt.Errorf("--%s-file %s: %w", m.flag, m.file, err)
			}
			for k, v := range kv {
				fm[k] = v // a flag overrides the file
			}
			kv = fm
		}
		*m.dst = kv
	}
	recs, probs := trials.ImportODM(rand.Reader, p, forms, maps)
	if len(probs) == 0 {
		return recs, nil, nil
	}
	perr := fmt.Errorf("%s: %d of %d forms not importable: %w", o.path, len(forms)-len(recs), len(forms), probs)
	if !o.importValid {
		return nil, nil, fmt.Errorf("%w\nnothing was sent: fix the file or the maps (--subject-map-file, --item-map-file), or pass --import-valid to send the %d valid forms", perr, len(recs))
	}
	return recs, perr, nil
}

// uncheckedSubmit builds a submission without the local checks: public
// fields of the form in clear, every other value (private, or not in the
// form) only as its commitment.
func uncheckedSubmit(p *model.Protocol, rec trials.Record, sig model.Signature) trials.Call {
	public := map[string]bool{}
	if f, ok := p.Form(rec.Form); ok {
		for _, fd := range f.Fields {
			public[fd.ID] = fd.Public
		}
	}
	fields := map[string]model.FieldValue{}
	for name, v := range rec.Fields {
		base, _, _ := strings.Cut(name, "#")
		if public[base] {
			fields[name] = v
		} else {
			fields[name] = model.FieldValue{Commit: model.CommitValue(rec.Salt, name, v)}
		}
	}
	return trials.UncheckedSubmitCall(rec.Trial, rec.Subject, rec.Visit, rec.Form, fields, rec.Hash(), sig)
}

// saveRecord encrypts the full record into the site's record store DIR
// (trials.RecordStore: one data key per subject) and returns its path
// ("" if no dir).
func saveRecord(cmd *cobra.Command, dir string, rec trials.Record) (string, error) {
	if dir == "" {
		return "", nil
	}
	return trials.RecordStore{Dir: dir, KeyDir: flagString(cmd, "record-keys")}.Put(rec)
}

// addRecordKeysFlag adds --record-keys: where the record store's data keys
// live, apart from the records.
func addRecordKeysFlag(c *cobra.Command) {
	c.Flags().String("record-keys", os.Getenv("TRIALCHAIN_RECORD_KEYS"), "keyring DIR for the record store's per-subject data keys, kept apart from the records (default $TRIALCHAIN_RECORD_KEYS, else RECORDS/keys)")
}

// loadRecord reads a saved full record: an encrypted DIR/HASH.rec of a
// record store, or a plain JSON record file.
func loadRecord(cmd *cobra.Command, path string) (trials.Record, error) {
	if filepath.Ext(path) == ".rec" {
		return trials.RecordStore{Dir: filepath.Dir(path), KeyDir: flagString(cmd, "record-keys")}.Open(path, "")
	}
	var rec trials.Record
	b, err := os.ReadFile(path)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("--record %s: %w", path, err)
	}
	return rec, nil
}

func newTrialCorrectCmd() *cobra.Command {
	var entry, reason, recPath, saveDir, query string
	c := &cobra.Command{
		Use:   "correct (TRIAL | --trial ID) --entry ENTRY --reason TEXT NAME=VALUE... --from NAME",
		Short: "Correct a submitted form: a new entry referencing the original, with a reason (the original stays)",
		Long: `Correct an entry. The correction is a new entry that references the original
and carries your reason; the original stays on chain unchanged. Give the
corrected values as NAME=VALUE; the other values are taken from the
original: its public fields from the chain, its private fields from the
saved full record (--record FILE, as trial submit --save wrote it).

` + fieldsHelp,
		Example: `  trialchain trial correct --trial NCT05503693 --entry crf-000000001 --reason "transcription error: 118 read as 128" \
      SYSBP="118 mm[Hg]" --record records/5d1c….rec --save records/ --from site --keyring devnet/keys --home devnet/node1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, args, err := trialAndFields(cmd, args)
			if err != nil {
				return err
			}
			if entry == "" {
				return requireFlag("entry", "crf-000000001 (the entry id trial submit printed)")
			}
			if strings.TrimSpace(reason) == "" {
				return requireFlag("reason", `"transcription error"`)
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			v, err := fetchTrial(cmd, cl, trial)
			if err != nil {
				return err
			}
			b, err := queryCall(cmd, cl, trials.EntryCall(trial, entry))
			if err != nil {
				return err
			}
			var ev model.EntryView
			if err := json.Unmarshal(b, &ev); err != nil {
				return fmt.Errorf("entry %s: %w", entry, err)
			}
			changed, err := parseFields(&v.Protocol, ev.Entry.Form, args)
			if err != nil {
				return err
			}
			fields := map[string]model.FieldValue{}
			for n, fv := range ev.Entry.Public {
				fields[n] = fv
			}
			if recPath != "" {
				old, err := loadRecord(cmd, recPath)
				if err != nil {
					return err
				}
				if old.Hash() != ev.Entry.RecordHash {
					return fmt.Errorf("--record %s is not the record of entry %s (its hash %s…, the entry's %s…)", recPath, entry, shortID(old.Hash()), shortID(ev.Entry.RecordHash))
				}
				for n, fv := range old.Fields {
					fields[n] = fv
				}
			}
			for n, fv := range changed {
				fields[n] = fv
			}
			rec, err := trials.NewRecord(rand.Reader, trial, ev.Entry.Subject, ev.Entry.Visit, ev.Entry.Form, fields)
			if err != nil {
				return err
			}
			call, err := trials.CorrectQueryCall(&v.Protocol, entry, query, rec, reason, sig)
			if err != nil {
				if recPath == "" && len(ev.Entry.Private) > 0 {
					err = fmt.Errorf("%w (the original's private fields %s come only from its saved record: pass --record DIR/%s.rec, the file trial submit --save wrote; trial show %s --entry %s shows its record hash)", err, strings.Join(ev.Entry.Private, ", "), ev.Entry.RecordHash, trial, entry)
				}
				return notSent(err)
			}
			path, err := saveRecord(cmd, saveDir, rec)
			if err != nil {
				return err
			}
			r, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			r.Extra = map[string]any{"record_hash": rec.Hash()}
			if path != "" {
				r.Extra["record_file"] = path
			}
			return emitResults(cmd, r)
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&entry, "entry", "", "id of the entry to correct")
	c.Flags().StringVar(&reason, "reason", "", "why the data changes (stored with the correction)")
	c.Flags().StringVar(&recPath, "record", "", "the original's saved full record, DIR/RECORDHASH.rec (for its private fields)")
	c.Flags().StringVar(&query, "query", "", "the query this correction answers (e.g. q-000000001)")
	c.Flags().StringVar(&saveDir, "save", "", "directory to keep the corrected full record in")
	addRecordKeysFlag(c)
	addSignFlags(c, "correction")
	return c
}

func newTrialAECmd() *cobra.Command {
	var subject, term, severity, aware, onset, narrative string
	var serious bool
	c := &cobra.Command{
		Use:   "ae (TRIAL | --trial ID) --subject SUBJECT --term TEXT --severity LEVEL --aware-at TIME [--serious] --from NAME",
		Short: "Report an adverse event; a serious one reported more than 24 h after awareness is flagged late",
		Long: `Report an adverse event of an enrolled subject. --aware-at is when the site
became aware of it (RFC 3339 UTC, e.g. 2026-03-01T14:30:00Z); the contract
takes the report time from the block, and flags a serious event reported
more than 24 hours after awareness as late. --severity is one of
` + strings.Join(model.Severities, ", ") + `.`,
		Example: `  trialchain trial ae --trial NCT05503693 --subject 3f9c0a7e5b2d4c6e8a1b3d5f7e9c1a2b --term Anaphylaxis --serious \
      --severity severe --aware-at 2026-03-01T14:30:00Z --onset 2026-03-01 --from site --keyring devnet/keys --home devnet/node1`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			switch {
			case subject == "":
				return requireFlag("subject", "3f9c0a7e5b2d4c6e8a1b3d5f7e9c1a2b")
			case term == "":
				return requireFlag("term", "Anaphylaxis")
			case severity == "":
				return requireFlag("severity", strings.Join(model.Severities, "|"))
			case aware == "":
				return requireFlag("aware-at", "2026-03-01T14:30:00Z (when the site became aware, UTC)")
			}
			at, err := time.Parse(time.RFC3339, aware)
			if err != nil {
				return fmt.Errorf("--aware-at %q: want an RFC 3339 time, e.g. 2026-03-01T14:30:00Z", aware)
			}
			if narrative != "" && !model.IsHash(narrative) {
				return fmt.Errorf("--narrative %q: want the narrative's SHA-256 as 64 lowercase hex digits (sha256sum FILE, or the hash 'payload put' prints)", narrative)
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			r, err := sendCall(cmd, cl, s, trials.AECall(trial, subject, term, serious, severity, at, onset, narrative, sig))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&subject, "subject", "", "the subject's pseudonymous id")
	c.Flags().StringVar(&term, "term", "", "the event, e.g. a MedDRA preferred term")
	c.Flags().BoolVar(&serious, "serious", false, "the event is serious (SAE)")
	c.Flags().StringVar(&severity, "severity", "", "mild, moderate, severe, life-threatening or fatal")
	c.Flags().StringVar(&aware, "aware-at", "", "when the site became aware (RFC 3339 UTC)")
	c.Flags().StringVar(&onset, "onset", "", "onset date YYYY-MM-DD")
	c.Flags().StringVar(&narrative, "narrative", "", "SHA-256 of the full event narrative kept off chain (e.g. given to the validators with 'payload put')")
	addSignFlags(c, "author")
	return c
}

func newTrialResultsCmd() *cobra.Command {
	var resultsPath, adttePath, adslPath, timeFrame, source, datasetHash string
	var primary, armMaps []string
	c := &cobra.Command{
		Use:   "results (TRIAL | --trial ID) (--results FILE | --adtte FILE [--adsl FILE] --primary PARAMCD) --from NAME",
		Short: "Submit results after lock; prints the outcome-reporting report (missing, added, changed outcomes)",
		Long: `Submit the trial's results, one per outcome, after the database lock. The
contract compares them with the outcomes pre-specified before the first
enrolment and stores and returns the outcome-reporting report: outcomes
registered but missing, outcomes added, outcomes changed (type, time frame),
a switched primary outcome.

--results FILE is a JSON list of outcome results:
  [{"outcome": "primary-1", "type": "primary", "measure": "…", "timeFrame": "…",
    "arms": [{"arm": "ap303", "n": 120, "events": 14}]}]
--adtte (with --adsl for the arm sizes) computes them from CDISC
Dataset-JSON ADaM datasets: each PARAMCD is an outcome (secondary unless
named by --primary), per arm N, events and median time. Each file must be
the dataset it is given as (Dataset-JSON 1.1, named ADTTE/ADSL, with the
variables results need); results that cannot be right (events > N,
subjects not in ADSL, arms not in the protocol — map them with --arm-map
"Xanomeline High Dose=ap303") are refused with every problem listed. The
datasets' SHA-256 is registered with the results (or --dataset-hash).`,
		Example: `  trialchain trial results --trial NCT05503693 --adtte adtte.json --adsl adsl.json --primary TTDE \
      --from sponsor --printed-name "Eve Statistician" --keyring devnet/keys --home devnet/node0
  trialchain trial results --trial NCT05503693 --results results.json --dataset-hash SHA256 --from sponsor --keyring devnet/keys --home devnet/node0`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args) // TRIAL or --trial, as every trial verb
			if err != nil {
				return err
			}
			var results []model.OutcomeResult
			var hashed []byte
			switch {
			case resultsPath != "" && adttePath != "":
				return fmt.Errorf("give --results or --adtte, not both")
			case resultsPath != "":
				b, err := os.ReadFile(resultsPath)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(b, &results); err != nil {
					var wrapped struct {
						Results []model.OutcomeResult `json:"results"`
					}
					if json.Unmarshal(b, &wrapped) != nil || len(wrapped.Results) == 0 {
						return fmt.Errorf("--results %s: want a JSON list of outcome results (see --help): %w", resultsPath, err)
					}
					results = wrapped.Results
				}
				hashed = b
				if source == "" {
					source = filepath.Base(resultsPath)
				}
			case adttePath != "":
				b, err := os.ReadFile(adttePath)
				if err != nil {
					return err
				}
				adtte, err := trials.ParseDatasetJSON(b)
				if err != nil {
					return fmt.Errorf("--adtte %s: %w", adttePath, err)
				}
				hashed = b
				var adsl *trials.DatasetJSON
				if adslPath != "" {
					sb, err := os.ReadFile(adslPath)
					if err != nil {
						return err
					}
					if adsl, err = trials.ParseDatasetJSON(sb); err != nil {
						return fmt.Errorf("--adsl %s: %w", adslPath, err)
					}
					hashed = append(hashed, sb...)
				}
				types := map[string]string{}
				for _, p := range primary {
					types[p] = model.Primary
				}
				armMap, err := parseKVFlags("arm-map", armMaps)
				if err != nil {
					return err
				}
				cl, err := clientFor(cmd)
				if err != nil {
					return err
				}
				v, err := fetchTrial(cmd, cl, trial)
				if err != nil {
					return err
				}
				opt := trials.ADaMOptions{Types: types, TimeFrame: timeFrame, Arms: v.Protocol.Arms, ArmMap: armMap}
				if results, err = trials.ResultsFromADaM(adtte, adsl, opt); err != nil {
					return notSent(err)
				}
				if source == "" {
					source = "CDISC Dataset-JSON " + filepath.Base(adttePath)
				}
			default:
				return fmt.Errorf("no results: give --results FILE (JSON) or --adtte FILE (CDISC Dataset-JSON ADTTE)")
			}
			if datasetHash == "" {
				datasetHash = trials.HashBytes(hashed)
			} else if !model.IsHash(datasetHash) {
				return fmt.Errorf("--dataset-hash: want a SHA-256 as 64 lowercase hex digits")
			}
			return signAndSend(cmd, func(sig model.Signature) (trials.Call, error) {
				return trials.ResultsCall(trial, results, datasetHash, source, sig)
			})
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&resultsPath, "results", "", "JSON list of outcome results")
	c.Flags().StringVar(&adttePath, "adtte", "", "CDISC Dataset-JSON ADTTE (time-to-event) dataset")
	c.Flags().StringVar(&adslPath, "adsl", "", "CDISC Dataset-JSON ADSL (subject-level) dataset, for the arm sizes")
	c.Flags().StringArrayVar(&primary, "primary", nil, "PARAMCD or PARAM reported as primary (repeat)")
	c.Flags().StringArrayVar(&armMaps, "arm-map", nil, "DATASET_ARM=PROTOCOL_ARM_ID, for an ADTTE arm named otherwise than in the protocol (repeat)")
	c.Flags().StringVar(&timeFrame, "time-frame", "", "time frame of the ADaM outcomes")
	c.Flags().StringVar(&source, "source", "", "where the results come from (default: the file name)")
	c.Flags().StringVar(&datasetHash, "dataset-hash", "", "SHA-256 of the analysis datasets (default: of the files given)")
	addSignFlags(c, "results")
	return c
}

func newTrialShowCmd() *cobra.Command {
	var entry, list string
	c := &cobra.Command{
		Use:   "show TRIAL [--entry ID | --list subjects|entries|aes|amendments|queries]",
		Short: "Show a trial: status, outcomes, forms, amendments, counts; or one entry, or a list",
		Long: `Show a trial as on chain (read-only, no transaction): status, sponsor,
sites, the pre-specified outcomes and when they were frozen, the forms with
their fields, types, units and ranges, the amendment history and the lock.
--entry ID shows one case-report-form entry and its corrections; --list
KIND lists the trial's subjects, entries, adverse events or amendments.` + queryNote,
		Example: `  trialchain trial show NCT05503693 --home devnet/node2
  trialchain trial show NCT05503693 --entry crf-000000001 --home devnet/node2
  trialchain trial show NCT05503693 --list aes --output json --home devnet/node2`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			call := trials.ShowCall(trial)
			switch {
			case entry != "" && list != "":
				return fmt.Errorf("give --entry or --list, not both")
			case entry != "":
				call = trials.EntryCall(trial, entry)
			case list != "":
				switch list {
				case "subjects", "entries", "aes", "amendments", "queries":
				default:
					return fmt.Errorf("--list %q: want subjects, entries, aes, amendments or queries", list)
				}
				call = trials.ListCall(trial, list)
			}
			b, err := queryCall(cmd, cl, call)
			if err != nil {
				return err
			}
			if list != "" {
				return emit(cmd, b, func(w io.Writer) { printList(w, list, b) })
			}
			return emitQuery(cmd, call, b)
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&entry, "entry", "", "show this entry and its corrections")
	c.Flags().StringVar(&list, "list", "", "list subjects, entries, aes or amendments")
	return c
}

// printList prints a list query's items in words.
func printList(w io.Writer, kind string, b []byte) {
	var l model.List[json.RawMessage]
	if err := json.Unmarshal(b, &l); err != nil {
		fmt.Fprintln(w, string(b))
		return
	}
	for _, it := range l.Items {
		var s string
		switch kind {
		case "subjects":
			var x model.Subject
			if json.Unmarshal(it, &x) == nil {
				s = fmt.Sprintf("subject %s at %s, protocol v%d, arm %s, enrolled %s", x.ID, x.Site, x.ProtocolVersion, x.Arm, x.Manifestation.Time)
			}
		case "entries":
			var x model.Entry
			if json.Unmarshal(it, &x) == nil {
				s = trials.FormatEntry(&x)
			}
		case "aes":
			var x model.AdverseEvent
			if json.Unmarshal(it, &x) == nil {
				s = trials.FormatAE(&x)
			}
		case "queries":
			var x model.Query
			if json.Unmarshal(it, &x) == nil {
				s = trials.FormatQuery(&x)
			}
		case "amendments":
			var x model.Amendment
			if json.Unmarshal(it, &x) == nil {
				s = trials.FormatAmendment(&x)
			}
		}
		if s == "" {
			s = string(it)
		}
		fmt.Fprintln(w, s)
	}
	if len(l.Items) == 0 {
		fmt.Fprintf(w, "no %s\n", kind)
	}
	if !l.Complete {
		fmt.Fprintln(w, "… (more: the list was cut to fit one answer)")
	}
}

func newTrialReportCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "report TRIAL",
		Short: "Show the outcome-reporting report: registered outcomes missing, added or changed in the results",
		Long: `Show the outcome-reporting report the contract stored when the results were
submitted: the outcomes pre-specified before the first enrolment compared
with the outcomes reported — missing, added, changed, a switched primary
outcome — and the amendments made after enrolment began.

With a genesis (--genesis, $TRIALCHAIN_GENESIS, --home or client.toml) the
report is VERIFIED: it is read from the trial's results record in an export
of the trial, checked like 'trialchain verify' (certified by the
validators, complete for the trial); without one it is the node's
unverified answer.` + queryNote,
		Example: `  trialchain trial report NCT05503693 --home devnet/node3`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			call := trials.ReportCall(trial)
			if g, err := optionalGenesis(cmd); err != nil {
				return err
			} else if g != nil {
				// With the genesis: the report stored with the verified
				// results record, from a complete bundle of the trial.
				b, err := verifiedOutcomeReport(cmd, trial)
				if err != nil {
					return err
				}
				return emitQuery(cmd, call, b)
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			b, err := queryCall(cmd, cl, call)
			if err != nil {
				return err
			}
			return emitQuery(cmd, call, b)
		},
	}
	c.Flags().String("seal", "", "with a genesis: key NAME that commits one anchor first, so that results in the newest block are certified")
	addTrialFlag(c)
	return c
}
