package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

func init() { register(newGenomeCmd) }

func newGenomeCmd() *cobra.Command {
	c := domainGroup("genome", "Share genome datasets under GA4GH DUO conditions: register, request, decide, revoke, log",
		`Genome datasets are shared only through the genome-access contract. The
custodian registers a dataset with its SHA-256, a commitment to where it
is kept off chain (the location itself never goes on chain) and its GA4GH
Data Use Ontology (DUO) codes. A researcher requests access with a purpose;
the contract decides at once — granted, denied naming the DUO rule that
failed, or held for the data-access committee, whose threshold consent
decides. For each grant the custodian releases the location sealed to the
researcher's member key; 'genome access' opens it locally and checks it
against the commitment. Grants expire; a subject's delegate can revoke;
every request, decision and access is in the dataset's log.

  trialchain genome register --dataset wgs-ap303 --file wgs-ap303.vcf.enc --location blob:wgs-ap303 --duo HMB --duo NCU --duo IRB \
      --delegate delegate --committee-group dac/group.json --from site
  trialchain genome request --dataset wgs-ap303 --project "AP303 pharmacogenomics" --purpose HMB --ethics-approval irb-approval.pdf --from researcher
  trialchain genome decide req-000000003 --dataset wgs-col --approve --days 30 --reason "collaboration agreement signed" --action-out decide-action.json --from committee
  trialchain genome decide req-000000003 --dataset wgs-col --approve --days 30 --reason "collaboration agreement signed" --consent consent.sig --from committee
  trialchain genome release grant-000000001 --location blob:wgs-ap303 --from site
  trialchain genome access grant-000000001 --from researcher
  trialchain genome revoke grant-000000001 --reason "subject withdrew consent" --from delegate
  trialchain genome log wgs-ap303

DUO codes may be given by shorthand (GRU, HMB, DS, POA, NCU, NPU, IRB, GS,
COL, PUB, TS, …) or id (DUO:0000042). The contract is the one an admin
pinned as "genome-access" in the chain's contract registry (trialchain
contract pin; never a deploy label) unless --contract ADDR or
$TRIALCHAIN_GENOME_ACCESS is given.`,
		trials.GenomeAccess)
	c.AddCommand(newGenomeRegisterCmd(), newGenomeRequestCmd(), newGenomeDecideCmd(), newGenomeReleaseCmd(), newGenomeAccessCmd(), newGenomeRevokeCmd(), newGenomeLogCmd())
	return c
}

// splitFlagList splits repeated, comma-separated flag values.
func splitFlagList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func newGenomeRegisterCmd() *cobra.Command {
	var d model.Dataset
	var file, group, location string
	var codes, diseases, delegates []string
	c := &cobra.Command{
		Use:   "register --dataset ID --file FILE --location WHERE --duo CODE... --delegate KEY --committee-group GROUP --from NAME",
		Short: "Register a genome dataset (custodian): its hash, a commitment to its off-chain location, and DUO use conditions",
		Long: `Register a dataset as its custodian (a site or sponsor key). --file is the
(encrypted) dataset: its SHA-256 goes on chain, the data does not (or give
--hash). --duo lists its GA4GH DUO codes: exactly one permission (NRES, GRU,
HMB, DS, POA) and any modifiers (NCU, NPU, IRB, GS, COL, PUB, TS, …); DS
needs --disease, TS needs --max-days. --delegate is a subject delegate who
may revoke grants (a member key: keyring name or 64 hex; repeat).
--committee-group is the data-access committee's consent group.

--location (where the data is kept) never goes on chain: only a salted
SHA-256 commitment to it, whose salt is derived from your member key and
the dataset id. Release it to each granted researcher with 'genome release'
(with the same key and location).`,
		Example: `  trialchain genome register --dataset wgs-ap303 --file wgs-ap303.vcf.enc --location blob:wgs-ap303 \
      --duo HMB,NCU,IRB --max-days 180 --delegate delegate --committee-group dac/group.json \
      --from site --keyring devnet/keys --home devnet/node1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			switch {
			case d.ID == "":
				return requireFlag("dataset", "wgs-ap303")
			case file == "" && d.Hash == "":
				return requireFlag("file", "wgs-ap303.vcf.enc (or --hash SHA256)")
			case location == "":
				return requireFlag("location", "blob:wgs-ap303 (where the data is kept off chain)")
			case len(codes) == 0:
				return requireFlag("duo", "HMB,NCU,IRB")
			case len(delegates) == 0:
				return requireFlag("delegate", "NAME (a subject delegate's key, who may revoke)")
			}
			if file != "" {
				if d.Hash, err = hashArg("--file", file); err != nil {
					return err
				}
			} else if d.Hash, err = hashArg("--hash", d.Hash); err != nil {
				return err
			}
			if d.Codes, err = trials.ParseDUOCodes(splitFlagList(codes)); err != nil {
				return err
			}
			d.Diseases = splitFlagList(diseases)
			for _, k := range splitFlagList(delegates) {
				pub, err := memberKey(cmd, k)
				if err != nil {
					return fmt.Errorf("--delegate: %w", err)
				}
				d.Delegates = append(d.Delegates, hex.EncodeToString(pub))
			}
			if d.CommitteeGroup, err = groupID("--committee-group", group); err != nil {
				return err
			}
			cl, s, _, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			d.LocationCommitment = trials.LocationCommitment(trials.LocationSalt(s.key, d.ID), location)
			call, err := trials.RegisterDatasetCall(d)
			if err != nil {
				return notSent(err)
			}
			r, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&d.ID, "dataset", "", "dataset id")
	c.Flags().StringVar(&file, "file", "", "the dataset file (its SHA-256 is registered)")
	c.Flags().StringVar(&d.Hash, "hash", "", "the dataset's SHA-256 instead of --file")
	c.Flags().StringVar(&location, "location", "", "where the dataset is kept off chain, e.g. blob:ID or s3://bucket/key (only a commitment to it goes on chain)")
	c.Flags().StringArrayVar(&codes, "duo", nil, "DUO code(s), shorthand or id (repeat or comma-separate)")
	c.Flags().StringArrayVar(&diseases, "disease", nil, "disease id(s) a DS dataset is limited to, e.g. MONDO:0005148")
	c.Flags().IntVar(&d.MaxDays, "max-days", 0, "longest grant in days (required with TS)")
	c.Flags().StringArrayVar(&delegates, "delegate", nil, "subject delegate member key (keyring name or 64 hex; repeat)")
	c.Flags().StringVar(&group, "committee-group", "", "data-access committee's consent group: id (64 hex) or group.json")
	addSignFlags(c, "custodian")
	return c
}

func newGenomeRequestCmd() *cobra.Command {
	var r model.AccessRequest
	var purpose, ethics string
	var diseases []string
	c := &cobra.Command{
		Use:   "request --dataset ID --project TEXT --purpose CODE --from NAME",
		Short: "Request access to a dataset (researcher); the contract grants, denies (naming the DUO rule) or holds it",
		Long: `Request access as a researcher. --purpose is the DUO permission your research
falls under: GRU (general research), HMB (health/medical/biomedical), DS
(disease-specific, with --disease) or POA (population origins/ancestry).
Say whether the use is --commercial and whether your organisation is
--for-profit; --ethics-approval is your IRB/ERB approval (a file: its SHA-256
is sent; or the SHA-256). The decision comes back at once: GRANTED (with a
grant id to use with 'genome access'), DENIED with the DUO rule that failed,
or HELD for the data-access committee.`,
		Example: `  trialchain genome request --dataset wgs-ap303 --project "AP303 pharmacogenomics" --purpose HMB \
      --ethics-approval irb-approval-2026-17.pdf --days 90 --from researcher --keyring devnet/keys --home devnet/node2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case r.Dataset == "":
				return requireFlag("dataset", "wgs-ap303")
			case r.Project == "":
				return requireFlag("project", `"AP303 pharmacogenomics"`)
			case purpose == "":
				return requireFlag("purpose", "HMB (or GRU, DS, POA)")
			}
			ids, err := trials.ParseDUOCodes([]string{purpose})
			if err != nil {
				return fmt.Errorf("--purpose: %w", err)
			}
			r.Purpose = ids[0]
			r.Diseases = splitFlagList(diseases)
			if ethics != "" {
				if r.EthicsApproval, err = hashArg("--ethics-approval", ethics); err != nil {
					return err
				}
			}
			call, err := trials.RequestCall(r)
			if err != nil {
				return notSent(err)
			}
			cl, s, _, err := clientAndSender(cmd)
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
	c.Flags().StringVar(&r.Dataset, "dataset", "", "dataset id")
	c.Flags().StringVar(&r.Project, "project", "", "your project")
	c.Flags().StringVar(&purpose, "purpose", "", "DUO permission of the research: GRU, HMB, DS or POA")
	c.Flags().StringArrayVar(&diseases, "disease", nil, "with DS: disease id(s) studied")
	c.Flags().BoolVar(&r.Methods, "methods", false, "the work includes general methods development")
	c.Flags().BoolVar(&r.Genetic, "genetic", false, "the work is a genetic study")
	c.Flags().BoolVar(&r.Commercial, "commercial", false, "commercial use")
	c.Flags().BoolVar(&r.ForProfit, "for-profit", false, "your organisation is for-profit")
	c.Flags().StringVar(&ethics, "ethics-approval", "", "IRB/ERB approval: a file or its SHA-256")
	c.Flags().IntVar(&r.Days, "days", 0, "length of access wanted, in days")
	addSignFlags(c, "access request")
	return c
}

func newGenomeDecideCmd() *cobra.Command {
	var dataset, reason string
	var approve, refuse bool
	var days int
	c := &cobra.Command{
		Use:   "decide REQUEST --dataset ID (--approve|--refuse) --reason TEXT (--action-out FILE | --consent consent.sig) --from NAME",
		Short: "Decide a held request with the data-access committee's consent (two steps)",
		Long: `Decide a request the contract held for the data-access committee. Step 1
(--action-out FILE) writes the action the committee's consent group signs:
this request, dataset, decision, days and reason exactly. The members sign
it with 'trialchain consent sign' and the shares are combined with
'trialchain consent combine'; step 2 (--consent consent.sig, the same
decision flags) sends it. Any member may relay the consent.`,
		Example: `  trialchain genome decide req-000000003 --dataset wgs-col --approve --days 30 --reason "collaboration agreement signed" \
      --action-out decide-action.json --from committee --keyring devnet/keys --home devnet/node0
  trialchain genome decide req-000000003 --dataset wgs-col --approve --days 30 --reason "collaboration agreement signed" \
      --consent consent.sig --from committee --keyring devnet/keys --home devnet/node0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case dataset == "":
				return requireFlag("dataset", "wgs-col (the dataset of the request)")
			case approve == refuse:
				return fmt.Errorf("say --approve or --refuse")
			case strings.TrimSpace(reason) == "":
				return requireFlag("reason", `"collaboration agreement signed"`)
			}
			cl, s, _, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			verdict := "--refuse"
			if approve {
				verdict = "--approve"
			}
			rerun := fmt.Sprintf("trialchain genome decide %s --dataset %s %s --days %d --reason %q --from %s", args[0], dataset, verdict, days, reason, flagString(cmd, "from"))
			cons, done, err := consentStep(cmd, cl, trials.GenomeAccess, "decide", trials.DecisionDigest(args[0], dataset, approve, days, reason),
				"release genome data", "the dataset's data-access committee", rerun)
			if err != nil || done {
				return err
			}
			if cons == nil {
				return fmt.Errorf("a decision needs the committee's consent: run with --action-out FILE first, then --consent consent.sig")
			}
			r, err := sendCall(cmd, cl, s, trials.DecideCall(args[0], approve, days, reason, cons))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&dataset, "dataset", "", "the request's dataset")
	c.Flags().BoolVar(&approve, "approve", false, "grant access")
	c.Flags().BoolVar(&refuse, "refuse", false, "refuse access")
	c.Flags().IntVar(&days, "days", 0, "length of the grant in days (0: the request's or the default)")
	c.Flags().StringVar(&reason, "reason", "", "the committee's reason")
	addConsentFlags(c)
	addSignFlags(c, "relay committee decision")
	return c
}

func newGenomeAccessCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "access GRANT --from NAME",
		Short: "Use a grant (researcher): opens the location released to you and prints it; the access is logged",
		Long: `Use a grant as its researcher. The access is logged on chain; the contract
answers with the dataset's location as the custodian released it, sealed
to your member key, and this command opens it with your key and checks it
against the commitment registered with the dataset. Nobody else — other
members, node operators, state proofs — sees the location. Refused when
the custodian has not released it yet, or the grant was revoked or expired.`,
		Example: `  trialchain genome access grant-000000001 --from researcher --keyring devnet/keys --home devnet/node2`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, s, _, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			call := trials.AccessCall(args[0])
			r, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			if r.Status == "ok" {
				if err := openAccess(r, s.key, call); err != nil {
					return &exitError{code: 1, msg: fmt.Sprintf("The access was logged (tx %s), but the location cannot be used: %v", r.Tx, err)}
				}
			}
			return emitResults(cmd, r)
		},
	}
	addSignFlags(c, "access")
	return c
}

func newGenomeRevokeCmd() *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "revoke GRANT --reason TEXT --from NAME",
		Short: "Revoke a grant (a subject's delegate or the custodian); later accesses are refused",
		Example: `  trialchain genome revoke grant-000000001 --reason "subject withdrew consent for genome sharing" \
      --from delegate --keyring devnet/keys --home devnet/node3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return requireFlag("reason", `"subject withdrew consent"`)
			}
			cl, s, _, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			r, err := sendCall(cmd, cl, s, trials.RevokeCall(args[0], reason))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why the grant is revoked")
	addSignFlags(c, "revocation")
	return c
}

func newGenomeLogCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "log DATASET",
		Short: "Show a dataset's log: registration, every request, decision, access and revocation",
		Long: `Show the dataset's log (read-only): one line per event — seq, time, kind,
request or grant, outcome, organisation and key of the actor, detail.`,
		Example: `  trialchain genome log wgs-ap303 --home devnet/node3
  trialchain genome log wgs-ap303 --output json --home devnet/node3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			call := trials.LogCall(args[0])
			b, err := queryCall(cmd, cl, call)
			if err != nil {
				return err
			}
			return emitQuery(cmd, call, b)
		},
	}
}

func newGenomeReleaseCmd() *cobra.Command {
	var location string
	c := &cobra.Command{
		Use:   "release GRANT --location WHERE --from CUSTODIAN",
		Short: "Release a dataset's location to a grant's researcher (custodian), sealed to their member key",
		Long: `Release the location of a granted dataset to the grant's researcher. The
location is checked against the commitment registered with the dataset
(give the same --location and sign with the key that registered it: the
commitment's salt is derived from that key), then sealed with HPKE to the
researcher's member key; only those sealed bytes go on chain. Once per
grant: a release is write-once and sealed. Refused for a revoked or
expired grant; requests that were refused or are still held have no grant.`,
		Example: `  trialchain genome release grant-000000001 --location blob:wgs-ap303 --from site --keyring devnet/keys --home devnet/node1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if location == "" {
				return requireFlag("location", "blob:wgs-ap303 (as given to genome register)")
			}
			cl, s, _, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			var g model.Grant
			if err := queryInto(cmd, cl, trials.GrantCall(args[0]), &g); err != nil {
				return err
			}
			var dv model.DatasetView
			if err := queryInto(cmd, cl, trials.ShowDatasetCall(g.Dataset), &dv); err != nil {
				return err
			}
			salt := trials.LocationSalt(s.key, g.Dataset)
			if trials.LocationCommitment(salt, location) != dv.Dataset.LocationCommitment {
				return &exitError{code: 1, msg: fmt.Sprintf("Not sent: --location %q with key %q does not match the commitment registered with dataset %s: give the location it was registered with, signing with the key that registered it (the commitment's salt comes from that key)",
					location, mustFlag(cmd, "from"), g.Dataset)}
			}
			researcher, err := hex.DecodeString(g.Researcher)
			if err != nil || len(researcher) != ed25519.PublicKeySize {
				return fmt.Errorf("grant %s names researcher key %q: not an ed25519 key", g.ID, g.Researcher)
			}
			addr, err := resolveContract(cmd, cl, trials.GenomeAccess)
			if err != nil {
				return err
			}
			sealed, err := consent.SealToMember(rand.Reader, researcher, trials.LocationSealInfo(addr, g.ID, g.Dataset), trials.LocationPlaintext(salt, location))
			if err != nil {
				return fmt.Errorf("sealing the location to the researcher of %s: %w", g.ID, err)
			}
			call, err := trials.ReleaseCall(g.ID, hex.EncodeToString(sealed))
			if err != nil {
				return notSent(err)
			}
			r, err := sendCall(cmd, cl, s, call)
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	c.Flags().StringVar(&location, "location", "", "the dataset's location, as given to genome register")
	addSignFlags(c, "release")
	return c
}

// queryInto runs a read-only call and decodes its JSON result into v.
func queryInto(cmd *cobra.Command, cl *client.Client, call trials.Call, v any) error {
	b, err := queryCall(cmd, cl, call)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s.%s answer: %w", call.Contract, call.Method, err)
	}
	return nil
}

func mustFlag(cmd *cobra.Command, name string) string {
	v, _ := cmd.Flags().GetString(name)
	return v
}

// openAccess opens the location an access returned, sealed to key, checks
// it against the dataset's commitment and puts it in r's result and summary.
func openAccess(r *callResult, key ed25519.PrivateKey, call trials.Call) error {
	var a model.AccessResult
	if err := json.Unmarshal(r.Result, &a); err != nil {
		return fmt.Errorf("access result: %w", err)
	}
	sealed, err := hex.DecodeString(a.Sealed)
	if err != nil {
		return fmt.Errorf("the sealed location is not hex: %w", err)
	}
	pt, err := consent.OpenAsMember(key, trials.LocationSealInfo(r.Address, a.Grant, a.Dataset), sealed)
	if errors.Is(err, consent.ErrMemberSeal) {
		return fmt.Errorf("it does not open with your key (it was sealed to another key or for another grant): %w", err)
	}
	if err != nil {
		return err
	}
	loc, err := trials.OpenedLocation(pt, a.LocationCommitment)
	if err != nil {
		return err
	}
	a.Location = loc
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	r.Result = b
	if d, err := trials.Describe(call, b); err == nil {
		r.Summary = d
	}
	return nil
}
