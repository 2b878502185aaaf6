package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

// demodata holds the demo's embedded defaults: hand-written stand-ins for
// the standards bodies' files (used when ../shared/fixtures is absent) and
// three PUBLIC demo dealer keys (safe-prime RSA keys: generating one takes
// minutes, too long for a demo; a real ceremony generates its own).
//
//go:embed demodata
var demodata embed.FS

// demoMember is a person of the demo, registered by the admin.
type demoMember struct {
	key, printed, org string
	role              block.Role
}

var demoMembers = []demoMember{
	{"site-a", "Dr. Mia Chen (PI, Melbourne)", "site-melbourne", block.RoleSite},
	{"site-b", "Dr. Tom Ward (PI, Sydney)", "site-sydney", block.RoleSite},
	{"ethics", "Prof. Ben Ethics (HREC chair)", "hrec", block.RoleCommittee},
	{"dsmb", "Dr. Dev Safety (DSMB chair)", "dsmb", block.RoleCommittee},
	{"statistician", "Eve Statistician", "Local sponsor", block.RoleSponsor},
	{"dac-1", "Dr. Ana Access (DAC)", "dac", block.RoleCommittee},
	{"dac-2", "Dr. Raj Genome (DAC)", "dac", block.RoleCommittee},
	{"researcher-a", "Dr. Uma Genomics", "uni-genomics", block.RoleResearcher},
	{"researcher-b", "Dr. Pat Pharma", "pharma-co", block.RoleResearcher},
	{"delegate", "J. Doe (subject's delegate)", "patient-advocates", block.RoleSubject},
	{"surgeon", "Dr Cora Cutter (surgeon)", "site-melbourne", block.RoleSite},
	{"clinician", "Dr Lena Second", "site-melbourne", block.RoleSite},
	{"anaesthetist", "Dr Omar Gas", "site-melbourne", block.RoleSite},
	{"site-perth", "Dr. Pia Perth (not a trial site)", "site-perth", block.RoleSite},
}

// trialDemo is the state the trial chapters share.
type trialDemo struct {
	addr      map[string]block.Hash // contract name → address
	groups    map[string]*demoGroup
	printed   map[string]string
	protocol  model.Protocol
	narrative []byte // the SAE narrative, off chain, redacted later
	subjects  []string
	entry     model.Entry
	fixtures  string
}

type demoGroup struct {
	g       *consent.Group
	id      string
	sealed  []*consent.SealedShare
	parties []string // keyring names, party i+1
}

// call signs and submits a contract call from the keyring member as,
// waiting for the receipt; a failed receipt is returned as an error
// whose text is the contract's reason. out, if not nil, receives the
// JSON result.
func (d *demoEnv) call(as string, c trials.Call, out any) error {
	td := d.trial
	addr, ok := td.addr[c.Contract]
	if !ok {
		return fmt.Errorf("contract %s is not deployed", c.Contract)
	}
	k, err := d.key(as)
	if err != nil {
		return err
	}
	cl := d.clients[len(as)%len(d.clients)]
	res, err := cl.Submit(d.ctx, client.CallTx(k, d.chainID, addr, c.Method, c.Args, 200_000_000), true)
	if err != nil {
		return err
	}
	if res.Receipt == nil {
		return fmt.Errorf("%s: not committed in time", c.Method)
	}
	if err := d.settle(res.Receipt.Height); err != nil {
		return err
	}
	if res.Receipt.Status != "ok" {
		return &refusal{msg: res.Receipt.Error}
	}
	if out != nil {
		b, err := hex.DecodeString(res.Receipt.Result)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s result: %w", c.Method, err)
		}
	}
	return nil
}

// refusal is a contract's refusal of a call.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// refused expects the call to be refused and returns the reason.
func (d *demoEnv) refused(as string, c trials.Call) (string, error) {
	err := d.call(as, c, nil)
	var r *refusal
	if !errors.As(err, &r) {
		if err == nil {
			return "", fmt.Errorf("%s was accepted, but should have been refused", c.Method)
		}
		return "", err
	}
	return trials.ExplainRefusal(r.msg), nil
}

func (d *demoEnv) sig(as, meaning string) model.Signature {
	return model.Signature{PrintedName: d.trial.printed[as], Meaning: meaning}
}

// fixture returns a standards body's file from ../shared/fixtures, or the
// embedded stand-in.
func (d *demoEnv) fixture(rel, fallback string) ([]byte, string, error) {
	if d.trial.fixtures != "" {
		if b, err := os.ReadFile(filepath.Join(d.trial.fixtures, rel)); err == nil {
			return b, rel, nil
		}
	}
	if fallback == "" {
		return nil, "", nil
	}
	b, err := demodata.ReadFile("demodata/" + fallback)
	return b, "embedded " + fallback, err
}

// consentOf has the named parties of group sign the action of contract's
// method over digest, and combines their shares.
func (d *demoEnv) consentOf(group, contract, method string, digest [32]byte, meaning string, parties ...string) ([]byte, error) {
	dg := d.trial.groups[group]
	addr := d.trial.addr[contract]
	action := contracts.CallAction(addr, method, digest[:])
	var shares []*consent.SignedShare
	for _, p := range parties {
		idx := -1
		for i, n := range dg.parties {
			if n == p {
				idx = i
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("%s is not in %s", p, group)
		}
		k, err := d.key(p)
		if err != nil {
			return nil, err
		}
		ks, err := consent.OpenShare(dg.g, dg.sealed[idx], k)
		if err != nil {
			return nil, err
		}
		ss, err := consent.SignShare(rand.Reader, dg.g, ks, k, d.chainID, action,
			consent.Manifestation{PrintedName: d.trial.printed[p], Time: time.Now().UTC(), Meaning: meaning})
		ks.Wipe()
		if err != nil {
			return nil, err
		}
		shares = append(shares, ss)
	}
	c, err := consent.Combine(dg.g, consent.Request{ChainID: d.chainID, Action: action, Meaning: meaning}, shares...)
	if err != nil {
		return nil, err
	}
	return c.MarshalBinary()
}

func init() {
	demoSteps = append(demoSteps,
		demoStep{"people", demoPeople},
		demoStep{"contracts", demoContracts},
		demoStep{"consent groups", demoGroups},
		demoStep{"protocol", demoProtocol},
		demoStep{"amendment", demoAmendment},
		demoStep{"code governance", demoGovernance},
		demoStep{"enrolment", demoEnrolment},
		demoStep{"case-report forms", demoForms},
		demoStep{"adverse events", demoAE},
		demoStep{"genome access", demoGenome},
		demoStep{"surgical record", demoSurgery},
		demoStep{"lock and results", demoResults},
		demoStep{"data export", demoExport},
	)
}

func demoPeople(d *demoEnv) error {
	d.trial = &trialDemo{addr: map[string]block.Hash{}, groups: map[string]*demoGroup{}, printed: map[string]string{
		"sponsor": "Dr. Ada Sponsor", "committee": "Prof. Carla Committee", "regulator": "Rita Regulator (inspector)", "admin": "Network admin"}}
	if d.fixturesDir != "" {
		if _, err := os.Stat(d.fixturesDir); err == nil {
			d.trial.fixtures = d.fixturesDir
		}
	}
	d.say("The network admin registers the people of the trial (member key, organisation, role)")
	admin, err := d.key("admin")
	if err != nil {
		return err
	}
	var txs []*block.Tx
	for _, m := range demoMembers {
		k, err := d.ring.New(m.key)
		if err != nil {
			return err
		}
		d.trial.printed[m.key] = m.printed
		p := &block.RegisterPayload{Key: k.Public(), Org: m.org, Name: m.key, Role: m.role}
		txs = append(txs, client.Sign(admin, d.chainID, block.KindRegister, p.Encode(), 100_000))
	}
	if err := d.submitAll(txs); err != nil {
		return err
	}
	for _, m := range demoMembers {
		d.detail("%-13s %-30s %-18s %s", m.key, m.printed, m.org, m.role)
	}
	d.fact("%d members registered by the admin; every later transaction is signed by one of them", len(demoMembers))
	return nil
}

// awaitReceipt polls for the receipt of a transaction the node did not
// commit within its wait (a block of contract deployments compiles each
// module on every validator).
func (d *demoEnv) awaitReceipt(c *client.Client, h block.Hash) (*view.Receipt, error) {
	for {
		t, err := c.Tx(d.ctx, h)
		if err == nil && t.Receipt != nil {
			return t.Receipt, nil
		}
		if err != nil && !errors.Is(err, client.ErrNotFound) {
			return nil, err
		}
		select {
		case <-d.ctx.Done():
			return nil, d.ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// submitAll submits transactions concurrently and waits for every receipt.
func (d *demoEnv) submitAll(txs []*block.Tx) error {
	errs := make([]error, len(txs))
	heights := make([]uint64, len(txs))
	var wg sync.WaitGroup
	for i, tx := range txs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := d.clients[i%len(d.clients)]
			res, err := c.Submit(d.ctx, tx, true)
			if err == nil && res.Receipt == nil {
				res.Receipt, err = d.awaitReceipt(c, res.Hash)
			}
			switch {
			case err != nil:
				errs[i] = err
			case res.Receipt == nil:
				errs[i] = fmt.Errorf("tx %s not committed in time", res.Hash)
			case res.Receipt.Status != "ok":
				errs[i] = fmt.Errorf("tx %s failed: %s", res.Hash, res.Receipt.Error)
			default:
				heights[i] = res.Receipt.Height
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return d.settle(slices.Max(append(heights, 0)))
}

func demoContracts(d *demoEnv) error {
	d.say("The sponsor deploys the three contracts built by 'make contracts'")
	sponsor, err := d.key("sponsor")
	if err != nil {
		return err
	}
	names := []string{trials.TrialProtocol, trials.GenomeAccess, trials.SurgicalRecords}
	var txs []*block.Tx
	for _, n := range names {
		code, err := os.ReadFile(filepath.Join(d.contracts, n+".wasm"))
		if err != nil {
			return fmt.Errorf("%w (run 'make contracts' first, or pass --contracts DIR)", err)
		}
		tx := client.DeployTx(sponsor, d.chainID, code, block.PolicyOwner, nil, n)
		d.trial.addr[n] = client.ContractAddress(tx)
		txs = append(txs, tx)
		d.detail("%-17s %7d bytes  → %s", n, len(code), d.trial.addr[n])
	}
	start := time.Now()
	if err := d.submitAll(txs); err != nil {
		return err
	}
	for _, n := range names { // code runs code_activation_delay after its block, compiled meanwhile
		if err := d.clients[0].WaitActive(d.ctx, d.trial.addr[n]); err != nil {
			return err
		}
	}
	d.detail("deployed, validated, then compiled in the background on all 4 validators and active in %.1fs", time.Since(start).Seconds())
	d.fact("3 contracts deployed by the sponsor; once a trial registers, trial-protocol's upgrades need the trial's consent group")

	// The admin pins them in the contract registry: every client resolves
	// "trial-protocol" & co. through it, never by deploy label.
	admin, err := d.key("admin")
	if err != nil {
		return err
	}
	txs = txs[:0]
	for _, n := range names {
		p := &block.PinPayload{Name: n, Contract: d.trial.addr[n], Reason: "the sponsor's " + n + " build, deployed for the demo trial"}
		txs = append(txs, client.Sign(admin, d.chainID, block.KindPin, p.Encode(), 200_000))
	}
	if err := d.submitAll(txs); err != nil {
		return fmt.Errorf("pinning the contracts: %w", err)
	}
	for i, n := range names {
		got, err := d.clients[(i+1)%len(d.clients)].ResolvePin(d.ctx, n)
		if err != nil {
			return err
		}
		if got != d.trial.addr[n] {
			return fmt.Errorf("the registry resolves %s to %s, not the deployed %s", n, got, d.trial.addr[n])
		}
	}
	d.fact("the admin pinned the 3 contracts in the chain's registry: clients find them there, never by a label a look-alike could copy")
	return nil
}

func demoGroups(d *demoEnv) error {
	d.say("Three consent groups hold key ceremonies and go on chain")
	specs := []struct {
		name      string
		threshold int
		parties   []string
		roles     []string
		dealer    string
	}{
		{"amendment-board", 3, []string{"sponsor", "ethics", "site-a", "dsmb", "statistician"},
			[]string{"trial sponsor", "ethics committee", "principal investigator", "data-safety board", "trial statistician"}, "dealer-1.pem"},
		{"data-access-committee", 2, []string{"delegate", "dac-1", "dac-2"},
			[]string{"subject's legal representative", "data-access committee", "data-access committee"}, "dealer-2.pem"},
		{"surgical-team", 2, []string{"surgeon", "clinician", "anaesthetist"},
			[]string{"surgeon", "second clinician", "anaesthetist"}, "dealer-3.pem"},
	}
	sponsor, err := d.key("sponsor")
	if err != nil {
		return err
	}
	var txs []*block.Tx
	for _, s := range specs {
		spec := consent.GroupSpec{Name: s.name, Threshold: s.threshold}
		for i, p := range s.parties {
			k, err := d.key(p)
			if err != nil {
				return err
			}
			spec.Parties = append(spec.Parties, consent.PartySpec{Name: p, Role: s.roles[i], MemberKey: k.Public().(ed25519.PublicKey)})
		}
		pemB, err := demodata.ReadFile("demodata/" + s.dealer)
		if err != nil {
			return err
		}
		key, err := parseDealerKey(pemB, s.dealer)
		if err != nil {
			return err
		}
		g, sealed, err := consent.DealWithKey(rand.Reader, spec, key)
		if err != nil {
			return err
		}
		id := g.ID()
		d.trial.groups[s.name] = &demoGroup{g: g, id: hex.EncodeToString(id[:]), sealed: sealed, parties: s.parties}
		bin, err := g.MarshalBinary()
		if err != nil {
			return err
		}
		txs = append(txs, client.ConsentGroupTx(sponsor, d.chainID, bin))
		d.detail("%-22s %d of %d: %s", s.name, s.threshold, len(s.parties), strings.Join(s.parties, ", "))
	}
	if err := d.submitAll(txs); err != nil {
		return err
	}
	d.detail("each share is encrypted to its party's member key; the demo deals from public DEMO keys (a real ceremony generates its own)")
	return nil
}

func demoProtocol(d *demoEnv) error {
	study, src, err := d.fixture("fhir-r5/ResearchStudy-example-ctgov-study-record.json", "researchstudy-small.json")
	if err != nil {
		return err
	}
	tmpl := trials.DefaultTemplate()
	tmpl.ConsentGroup = d.trial.groups["amendment-board"].id
	tmpl.AnalysisPlanHash = d.plan.String() // the plan anchored before enrolment
	p, err := trials.ProtocolFromResearchStudy(study, tmpl)
	if err != nil {
		return fmt.Errorf("import %s: %w", src, err)
	}
	d.say("The sponsor registers trial %s from the FHIR R5 ResearchStudy (%s)", p.ID, src)
	pins := map[string]string{}
	for _, n := range []string{trials.GenomeAccess, trials.SurgicalRecords} {
		a := d.trial.addr[n]
		pins[n] = hex.EncodeToString(a[:])
	}
	call, err := trials.RegisterPinnedCall(p, d.sig("sponsor", "registration"), pins)
	if err != nil {
		return err
	}
	var st model.TrialState
	if err := d.call("sponsor", call, &st); err != nil {
		return err
	}
	d.trial.protocol = st.Protocol
	d.detail("%q", st.Protocol.Title)
	np := 0
	for _, o := range st.Protocol.Outcomes {
		if o.Type == model.Primary {
			np++
		}
	}
	d.detail("%d pre-specified outcomes (%d primary), committed before enrolment, e.g.:", len(st.Protocol.Outcomes), np)
	for _, o := range st.Protocol.Outcomes[:min(3, len(st.Protocol.Outcomes))] {
		tf := ""
		if o.TimeFrame != "" {
			tf = " (" + o.TimeFrame + ")"
		}
		d.detail("  %-9s %-12s %s%s", o.Type, o.ID, o.Measure, tf)
	}
	d.detail("sites %v; amendments need 3 of 5 of the amendment board", st.Protocol.Sites)
	d.detail("from now on the trial-protocol contract's code changes only with the amendment board's consent; %d contracts pinned to the trial", len(st.Contracts))
	d.fact("trial %s registered with %d pre-specified outcomes", p.ID, len(st.Protocol.Outcomes))
	return nil
}

func demoAmendment(d *demoEnv) error {
	p := d.trial.protocol
	outs := append(append([]model.Outcome(nil), p.Outcomes...), model.Outcome{ID: "secondary-bp", Type: model.Secondary,
		Measure: "Change in systolic blood pressure from baseline", TimeFrame: "Day 8"})
	am := trials.Amendment{Trial: p.ID, Version: 2, Reason: "Ethics committee asked for a blood-pressure outcome", Changes: model.Changes{Outcomes: &outs}}
	d.say("The sponsor amends the protocol (adds a secondary outcome)")
	why, err := d.refused("sponsor", trials.AmendCall(am, d.sig("sponsor", "amendment"), nil))
	if err != nil {
		return err
	}
	d.detail("without consent: REFUSED — %s", why)
	rej, err := d.consentOf("amendment-board", trials.TrialProtocol, "amend", am.Digest(), "REJECT amendment: we object", "ethics", "site-a", "dsmb")
	if err != nil {
		return err
	}
	err = d.call("sponsor", trials.AmendCall(am, d.sig("sponsor", "amendment"), rej), nil)
	var r *refusal
	if !errors.As(err, &r) {
		return fmt.Errorf("an amendment with a REJECT consent was not refused: %v", err)
	}
	if !strings.Contains(r.msg, `signed meaning "REJECT amendment: we object"`) || !strings.Contains(r.msg, `needs signers meaning "approve amendment"`) {
		return fmt.Errorf("REJECT consent refused for another reason: %s", r.msg)
	}
	d.detail("with 3 board members signing \"REJECT amendment: we object\": REFUSED — the chain reads what each signature")
	d.detail("  means; %s, %s and %s said no, and a no never counts as an approval", d.trial.printed["ethics"], d.trial.printed["site-a"], d.trial.printed["dsmb"])
	cs, err := d.consentOf("amendment-board", trials.TrialProtocol, "amend", am.Digest(), consent.MeaningApproveAmendment, "sponsor", "ethics", "dsmb")
	if err != nil {
		return err
	}
	d.detail("sponsor, ethics committee and data-safety board sign (3 of 5); one RSA-PSS signature of %d bytes", len(cs))
	var a model.Amendment
	if err := d.call("sponsor", trials.AmendCall(am, d.sig("sponsor", "amendment"), cs), &a); err != nil {
		return err
	}
	d.detail("with consent: ACCEPTED — protocol v%d; %s", a.Version, strings.Join(a.OutcomeChanges, "; "))
	why, err = d.refused("sponsor", trials.AmendCall(am, d.sig("sponsor", "amendment"), cs))
	if err != nil {
		return err
	}
	d.detail("the same amendment and consent again: REFUSED — %s", why)
	d.fact("amendment refused without consent and with a 3-of-5 REJECT, accepted with a 3-of-5 approval, replay refused")
	return nil
}

// demoGovernance: the sponsor cannot change the code that holds the
// trial's records on its own.
func demoGovernance(d *demoEnv) error {
	d.say("The sponsor tries to replace the trial-protocol contract's code on its own")
	code, err := os.ReadFile(filepath.Join(d.contracts, trials.TrialProtocol+".wasm"))
	if err != nil {
		return err
	}
	// Other code: the same module with one custom section ("rewrite") added.
	code = append(code, 0x00, 0x08, 0x07, 'r', 'e', 'w', 'r', 'i', 't', 'e')
	k, err := d.key("sponsor")
	if err != nil {
		return err
	}
	res, err := d.clients[0].Submit(d.ctx, client.UpgradeTx(k, d.chainID, d.trial.addr[trials.TrialProtocol], code, nil), true)
	if err != nil {
		return err
	}
	if res.Receipt == nil {
		return fmt.Errorf("upgrade %s not committed in time", res.Hash)
	}
	if err := d.settle(res.Receipt.Height); err != nil {
		return err
	}
	if res.Receipt.Status == "ok" || !strings.Contains(res.Receipt.Error, "is governed by consent group") {
		return fmt.Errorf("the sponsor's lone upgrade was not refused as it should be: %s %s", res.Receipt.Status, res.Receipt.Error)
	}
	d.detail("sponsor upgrades trial-protocol alone: REFUSED — the contract holding trial %s's records answers to", d.trial.protocol.ID)
	d.detail("  the amendment board: new code needs 3 of its 5 members to approve that exact code (%s…);", block.Sum(code).String()[:16])
	d.detail("  no single party — sponsor, deployer or admin — can change it, and signed entries are sealed even then")
	d.fact("the sponsor's lone code change refused by every validator")
	return nil
}

func demoEnrolment(d *demoEnv) error {
	p := d.trial.protocol
	arm := p.Arms[0].ID
	d.say("The sponsor activates the trial; sites enrol subjects with random pseudonymous ids")
	early, err := trials.NewSubjectID(rand.Reader)
	if err != nil {
		return err
	}
	call, err := trials.EnrollCall(p.ID, early, trials.HashBytes([]byte("x")), 2, arm, d.sig("site-a", "enrolment"))
	if err != nil {
		return err
	}
	why, err := d.refused("site-a", call)
	if err != nil {
		return err
	}
	d.detail("enrolment before the protocol is active: REFUSED — %s", why)
	if err := d.call("sponsor", trials.ActivateCall(p.ID, d.sig("sponsor", "activation")), nil); err != nil {
		return err
	}
	for _, site := range []string{"site-a", "site-a", "site-b"} {
		subj, err := trials.NewSubjectID(rand.Reader)
		if err != nil {
			return err
		}
		call, err := trials.EnrollCall(p.ID, subj, trials.HashBytes([]byte("signed consent form of "+subj)), 2, arm, d.sig(site, "enrolment"))
		if err != nil {
			return err
		}
		if err := d.call(site, call, nil); err != nil {
			return err
		}
		d.trial.subjects = append(d.trial.subjects, subj)
		d.detail("%s enrols subject %s (consent form hash on chain, protocol v2)", d.trial.printed[site], subj)
	}
	sub, err := trials.NewSubjectID(rand.Reader)
	if err != nil {
		return err
	}
	call, _ = trials.EnrollCall(p.ID, sub, trials.HashBytes([]byte("x")), 2, arm, d.sig("researcher-a", "enrolment"))
	if why, err = d.refused("researcher-a", call); err != nil {
		return err
	}
	d.detail("a researcher tries to enrol: REFUSED — %s", why)
	call, _ = trials.EnrollCall(p.ID, sub, trials.HashBytes([]byte("x")), 2, arm, d.sig("site-perth", "enrolment"))
	if why, err = d.refused("site-perth", call); err != nil {
		return err
	}
	d.detail("a site not allowed by the protocol tries to enrol: REFUSED — %s", why)
	d.fact("3 subjects enrolled at 2 sites under pseudonyms; outcomes frozen at first enrolment")
	return nil
}

func vitals(sys, dia, hr string) map[string]model.FieldValue {
	return map[string]model.FieldValue{
		"SYSBP": {Value: sys, Unit: "mm[Hg]"}, "DIABP": {Value: dia, Unit: "mm[Hg]"}, "HR": {Value: hr, Unit: "/min"},
		"NOTES": {Value: "Subject calm; mentioned a headache"},
	}
}

func demoForms(d *demoEnv) error {
	p := d.trial.protocol
	s1, s2 := d.trial.subjects[0], d.trial.subjects[1]
	d.say("Site Melbourne submits case-report forms (validated by the contract; the full record stays off chain)")
	rec, err := trials.NewRecord(rand.Reader, p.ID, s1, "day1", "vitals", vitals("128", "82", "71"))
	if err != nil {
		return err
	}
	call, err := trials.SubmitCall(&p, rec, d.sig("site-a", "author"))
	if err != nil {
		return err
	}
	if err := d.call("site-a", call, &d.trial.entry); err != nil {
		return err
	}
	e := d.trial.entry
	d.detail("vitals day 1 of %s: entry %s, record hash %s…, public fields SYSBP=%s DIABP=%s HR=%s (free-text notes stay off chain)",
		s1, e.ID, e.RecordHash[:16], e.Public["SYSBP"].Value, e.Public["DIABP"].Value, e.Public["HR"].Value)
	store := trials.RecordStore{Dir: filepath.Join(d.dir, "site-melbourne-records")}
	path, err := store.Put(rec)
	if err != nil {
		return err
	}
	if back, err := store.Get(e.RecordHash); err != nil || back.Hash() != e.RecordHash {
		return fmt.Errorf("site record store: %v", err)
	}
	d.detail("the full record is kept by the site, AES-GCM-encrypted under the subject's own key: %s", path)
	bad, err := trials.NewRecord(rand.Reader, p.ID, s2, "day1", "vitals", vitals("300", "82", "71"))
	if err != nil {
		return err
	}
	if _, err := trials.SubmitCall(&p, bad, d.sig("site-a", "author")); err != nil {
		d.detail("the CLI's own check catches SYSBP=300: %v", err)
	}
	why, err := d.refused("site-a", trials.UncheckedSubmitCall(p.ID, s2, "day1", "vitals",
		map[string]model.FieldValue{"SYSBP": {Value: "300", Unit: "mm[Hg]"}, "DIABP": {Value: "82", Unit: "mm[Hg]"}, "HR": {Value: "71", Unit: "/min"}},
		bad.Hash(), d.sig("site-a", "author")))
	if err != nil {
		return err
	}
	d.detail("sent anyway: REFUSED by the contract — %s", why)
	ok3 := map[string]model.FieldValue{"SYSBP": {Value: "120", Unit: "mm[Hg]"}, "DIABP": {Value: "80", Unit: "mm[Hg]"}, "HR": {Value: "70", Unit: "/min"}}
	stranger, err := trials.NewSubjectID(rand.Reader)
	if err != nil {
		return err
	}
	for _, b := range []struct {
		what, as, subject, visit, form string
		fields                         map[string]model.FieldValue
	}{
		{"a subject who is not enrolled", "site-a", stranger, "day1", "vitals", ok3},
		{"a visit not in the protocol", "site-a", s1, "day99", "vitals", ok3},
		{"a form not in the protocol", "site-a", s1, "day1", "xray", ok3},
		{"a required field missing (HR)", "site-a", s1, "day1", "vitals", map[string]model.FieldValue{"SYSBP": {Value: "120", Unit: "mm[Hg]"}, "DIABP": {Value: "80", Unit: "mm[Hg]"}}},
		{"data from a site not allowed", "site-perth", s1, "day1", "vitals", ok3},
	} {
		why, err := d.refused(b.as, trials.UncheckedSubmitCall(p.ID, b.subject, b.visit, b.form, b.fields, trials.HashBytes([]byte(b.what)), d.sig(b.as, "author")))
		if err != nil {
			return fmt.Errorf("%s: %w", b.what, err)
		}
		d.detail("%s: REFUSED — %s", b.what, why)
	}
	// The monitor queries SYSBP; the site corrects it citing the query; the query closes.
	qcall, err := trials.QueryRaiseCall(p.ID, e.ID, "SYSBP", "SYSBP 128 here, 118 in the source document: please check", d.sig("sponsor", "query"))
	if err != nil {
		return err
	}
	var q model.Query
	if err := d.call("sponsor", qcall, &q); err != nil {
		return err
	}
	d.detail("query %s raised by the sponsor on entry %s field SYSBP: %q", q.ID, e.ID, q.Text)
	if _, err := d.refused("sponsor", trials.LockCall(p.ID, d.sig("sponsor", "database lock"))); err != nil {
		return fmt.Errorf("lock with an open query: %w", err)
	}
	d.detail("database lock while query %s is open: REFUSED", q.ID)
	fixed := rec
	fixed.Fields = vitals("118", "82", "71")
	call, err = trials.CorrectQueryCall(&p, e.ID, q.ID, fixed, "transcription error: 118 read as 128", d.sig("site-a", "correction"))
	if err != nil {
		return err
	}
	var corr model.Entry
	if err := d.call("site-a", call, &corr); err != nil {
		return err
	}
	if _, err := store.Put(fixed); err != nil {
		return err
	}
	d.detail("correction %s of %s answers query %s: SYSBP 128 → %s, reason %q; the original stays", corr.ID, e.ID, q.ID, corr.Public["SYSBP"].Value, corr.Reason)
	ccall, err := trials.QueryCloseCall(p.ID, q.ID, "corrected against the source", d.sig("sponsor", "query close"))
	if err != nil {
		return err
	}
	if err := d.call("sponsor", ccall, &q); err != nil {
		return err
	}
	d.detail("query %s %s by the sponsor: %q", q.ID, q.Status, q.Steps[len(q.Steps)-1].Text)
	d.fact("form validated on chain; invalid forms (range, required field, unknown visit/form/subject, site not allowed) refused with their reasons; a query raised, answered by a correction kept beside the original, closed")
	return nil
}

// query reads a contract method without a transaction.
func (d *demoEnv) query(c trials.Call, out any) error {
	addr, ok := d.trial.addr[c.Contract]
	if !ok {
		return fmt.Errorf("contract %s is not deployed", c.Contract)
	}
	q, err := d.clients[0].Query(d.ctx, addr, c.Method, c.Args, 0)
	if err != nil {
		return err
	}
	if q.Status != "ok" {
		return &refusal{msg: q.Error}
	}
	b, err := hex.DecodeString(q.Result)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// demoExport exports the locked trial's data as SDTM and ODM and reads the
// ODM back through the importer.
func demoExport(d *demoEnv) error {
	p := d.trial.protocol
	d.say("The data manager exports the locked trial: SDTM Dataset-JSON and ODM with its audit trail")
	td := &trials.TrialData{Records: map[string]trials.Record{}}
	var aml model.List[model.Amendment]
	var sl model.List[model.Subject]
	var el model.List[model.Entry]
	var al model.List[model.AdverseEvent]
	for _, q := range []struct {
		c   trials.Call
		out any
	}{{trials.ListCall(p.ID, "amendments"), &aml}, {trials.ListCall(p.ID, "subjects"), &sl}, {trials.ListCall(p.ID, "entries"), &el}, {trials.ListCall(p.ID, "aes"), &al}} {
		if err := d.query(q.c, q.out); err != nil {
			return fmt.Errorf("%s %s: %w", q.c.Method, string(q.c.Args), err)
		}
	}
	// The protocol as registered, with its amendments applied in order.
	for _, am := range aml.Items {
		p = am.Changes.Apply(p)
		p.Version = am.Version
	}
	td.Protocol, td.Subjects, td.Entries, td.AEs = p, sl.Items, el.Items, al.Items
	store := trials.RecordStore{Dir: filepath.Join(d.dir, "site-melbourne-records")}
	for _, e := range td.Entries {
		if r, err := store.Get(e.RecordHash); err == nil {
			td.Records[e.RecordHash] = r
		}
	}
	const created = "2026-03-01T12:00:00"
	files, err := trials.SDTM(td, trials.SDTMOptions{Created: created})
	if err != nil {
		return err
	}
	dir := filepath.Join(d.dir, "sdtm")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rows := 0
	for _, n := range []string{"dm.json", "ae.json", "vs.json", "ts.json", "tv.json"} {
		ds, err := trials.ParseDatasetJSON(files[n])
		if err != nil {
			return fmt.Errorf("exported %s: %w", n, err)
		}
		rows += len(ds.Rows)
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return err
		}
	}
	d.detail("SDTM Dataset-JSON 1.1 written to %s: DM, AE, VS, TS, TV (%d rows, each naming its on-chain record and hash)", dir, rows)
	odm, err := trials.ODM(td, created)
	if err != nil {
		return err
	}
	odmPath := filepath.Join(d.dir, "clinical-data.odm.xml")
	if err := os.WriteFile(odmPath, odm, 0o644); err != nil {
		return err
	}
	forms, err := trials.ParseODMClinicalData(odm)
	if err != nil {
		return err
	}
	ids := map[string]string{}
	for _, s := range td.Subjects {
		ids[s.ID] = s.ID
	}
	back, probs := trials.ImportODM(rand.Reader, &td.Protocol, forms, trials.ODMMaps{Subjects: ids})
	if len(probs) > 0 {
		return fmt.Errorf("the exported ODM does not import: %w", probs)
	}
	cur, _ := trials.CurrentEntries(td.Entries)
	for i, e := range cur {
		want := e.Public
		if r, ok := td.Records[e.RecordHash]; ok {
			want = r.Fields
		}
		if model.Hash(back[i].Fields) != model.Hash(want) {
			return fmt.Errorf("ODM round trip: form %d (%s) came back different", i, e.ID)
		}
	}
	d.detail("ODM 1.3.2 with %d audit records written to %s; re-imported: %d forms identical", strings.Count(string(odm), "<UserRef"), odmPath, len(back))
	d.fact("trial data exported as SDTM (Dataset-JSON 1.1) and ODM 1.3.2; the ODM re-imports identical")
	return nil
}

func demoAE(d *demoEnv) error {
	p := d.trial.protocol
	d.say("Site Sydney reports a serious adverse event 30 hours after becoming aware of it")
	// The full narrative stays off chain: the report carries its SHA-256,
	// and every validator keeps the bytes encrypted (payload put).
	narrative := []byte(`{"form":"sae","term":"Anaphylaxis","narrative":"Mrs Jane Roe (MRN 0042317) collapsed 20 minutes after the infusion"}` + "\n")
	h := block.Sum(narrative)
	if _, _, err := d.submit(0, "site-b", block.KindAnchor, (&block.AnchorPayload{Hash: h, Label: "SAE narrative " + p.ID, Scope: state.TrialScope(p.ID)}).Encode(), 100_000); err != nil {
		return err
	}
	sb, err := d.key("site-b")
	if err != nil {
		return err
	}
	if n, err := client.Replicate(d.ctx, d.clients, sb, d.chainID, narrative); n != len(d.clients) {
		return fmt.Errorf("narrative held by %d of %d validators: %w", n, len(d.clients), err)
	}
	d.trial.narrative = narrative
	var sae model.AdverseEvent
	if err := d.call("site-b", trials.AECall(p.ID, d.trial.subjects[2], "Anaphylaxis", true, "severe", time.Now().Add(-30*time.Hour), "", h.String(), d.sig("site-b", "author")), &sae); err != nil {
		return err
	}
	d.detail("the full narrative stays off chain: the report carries its SHA-256 %s…, each of the %d validators keeps the bytes encrypted under a data key of its own", h.String()[:16], len(d.clients))
	if !sae.Late {
		return fmt.Errorf("a serious event reported 30 h after awareness was not flagged late: %+v", sae)
	}
	d.detail("%s", strings.TrimSpace(trials.FormatAE(&sae)))
	d.fact("serious adverse event flagged late (%d minutes past the 24-hour limit)", sae.MinutesLate)
	return nil
}

func demoGenome(d *demoEnv) error {
	td := d.trial
	dac := td.groups["data-access-committee"]
	delegate, err := d.key("delegate")
	if err != nil {
		return err
	}
	d.say("A genome dataset is registered with GA4GH DUO codes; three researchers ask for access")
	siteA, err := d.key("site-a")
	if err != nil {
		return err
	}
	siteB, err := d.key("site-b")
	if err != nil {
		return err
	}
	const location = "blob:wgs-demo"
	dsID := "wgs-" + strings.ToLower(td.protocol.ID)
	ds := model.Dataset{ID: dsID, Hash: trials.HashBytes([]byte("encrypted genome dataset")), LocationCommitment: trials.LocationCommitment(trials.LocationSalt(siteA, dsID), location),
		Codes: []string{model.DUOHMB, model.DUONCU, model.DUOEthics}, Delegates: []string{hex.EncodeToString(delegate.Public().(ed25519.PublicKey))}, CommitteeGroup: dac.id, MaxDays: 180}
	call, err := trials.RegisterDatasetCall(ds)
	if err != nil {
		return err
	}
	if err := d.call("site-a", call, nil); err != nil {
		return err
	}
	d.detail("dataset %s: %s; its location is not on chain, only a salted commitment %s…", ds.ID, strings.Join(ds.Codes, ", "), ds.LocationCommitment[:16])
	irb := trials.HashBytes([]byte("IRB approval 2026-17"))
	var granted, denied, held, decided model.Request
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "AP303 pharmacogenomics", Purpose: model.DUOHMB, EthicsApproval: irb, Days: 90})
	if err := d.call("researcher-a", call, &granted); err != nil {
		return err
	}
	d.detail("university, health research with ethics approval: %s", strings.TrimSpace(trials.FormatRequest(&granted)))
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "Drug target discovery", Purpose: model.DUOHMB, Commercial: true, ForProfit: true, EthicsApproval: irb})
	if err := d.call("researcher-b", call, &denied); err != nil {
		return err
	}
	d.detail("company, commercial use: %s", strings.TrimSpace(trials.FormatRequest(&denied)))
	ds2 := model.Dataset{ID: ds.ID + "-collab", Hash: trials.HashBytes([]byte("second dataset")), LocationCommitment: trials.LocationCommitment(trials.LocationSalt(siteB, ds.ID+"-collab"), "blob:wgs-collab"),
		Codes: []string{model.DUOGRU, model.DUOCollaboration, model.DUOPublication}, Delegates: ds.Delegates, CommitteeGroup: dac.id}
	call, _ = trials.RegisterDatasetCall(ds2)
	if err := d.call("site-b", call, nil); err != nil {
		return err
	}
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds2.ID, Project: "Rare variant atlas", Purpose: model.DUOGRU, Days: 30})
	if err := d.call("researcher-a", call, &held); err != nil {
		return err
	}
	d.detail("dataset %s needs a collaboration agreement: %s", ds2.ID, strings.TrimSpace(trials.FormatRequest(&held)))
	reason := "collaboration agreement signed"
	cs, err := d.consentOf("data-access-committee", trials.GenomeAccess, "decide", trials.DecisionDigest(held.ID, ds2.ID, true, 30, reason), consent.MeaningReleaseGenomeData, "dac-1", "dac-2")
	if err != nil {
		return err
	}
	if err := d.call("dac-1", trials.DecideCall(held.ID, true, 30, reason, cs), &decided); err != nil {
		return err
	}
	d.detail("the committee decides with 2 of 3 signatures: %s", strings.TrimSpace(trials.FormatRequest(&decided)))
	// The custodian releases the location to the grant, sealed to the
	// researcher's member key; only the researcher opens it.
	researcher, err := d.key("researcher-a")
	if err != nil {
		return err
	}
	info := trials.LocationSealInfo(td.addr[trials.GenomeAccess], granted.Grant, ds.ID)
	sealed, err := consent.SealToMember(rand.Reader, researcher.Public().(ed25519.PublicKey), info, trials.LocationPlaintext(trials.LocationSalt(siteA, ds.ID), location))
	if err != nil {
		return err
	}
	call, err = trials.ReleaseCall(granted.Grant, hex.EncodeToString(sealed))
	if err != nil {
		return err
	}
	if err := d.call("site-a", call, nil); err != nil {
		return err
	}
	var acc model.AccessResult
	if err := d.call("researcher-a", trials.AccessCall(granted.Grant), &acc); err != nil {
		return err
	}
	raw, err := hex.DecodeString(acc.Sealed)
	if err != nil {
		return err
	}
	pt, err := consent.OpenAsMember(researcher, info, raw)
	if err != nil {
		return fmt.Errorf("the researcher cannot open the released location: %w", err)
	}
	got, err := trials.OpenedLocation(pt, acc.LocationCommitment)
	if err != nil || got != location {
		return fmt.Errorf("released location %q: %v", got, err)
	}
	if _, err := consent.OpenAsMember(siteB, info, raw); err == nil {
		return errors.New("another member opened the location released to the researcher")
	}
	d.detail("the custodian releases the location sealed to researcher-a's key; researcher-a opens it (%s, matches the commitment), another member cannot", got)
	if err := d.call("delegate", trials.RevokeCall(granted.Grant, "subject withdrew consent for genome sharing"), nil); err != nil {
		return err
	}
	why, err := d.refused("researcher-a", trials.AccessCall(granted.Grant))
	if err != nil {
		return err
	}
	d.detail("access once, then the subject's delegate revokes; next access: REFUSED — %s", why)
	d.fact("genome access: granted, denied by DUO rule, decided by the committee's 2-of-3 consent, revoked; every step logged")
	return nil
}

func demoSurgery(d *demoEnv) error {
	td := d.trial
	team := td.groups["surgical-team"]
	b, src, err := d.fixture("fhir-r4/Procedure-example-implant.json", "procedure-small.json")
	if err != nil {
		return err
	}
	proc, err := trials.ProcedureFromFHIR(b, trials.ProcedureOptions{ID: "surg-0001", Patient: "pt-7f3a9c", Site: "site-melbourne", TeamGroup: team.id})
	if err != nil {
		return fmt.Errorf("import %s: %w", src, err)
	}
	d.say("The surgeon records a procedure imported from a FHIR R4 Procedure (%s)", src)
	// No PHI on the ledger: the full record (surgeon's name, exact date,
	// notes, device) is an encrypted payload on the validators, committed by
	// its hash; the chain gets the code, the month and the status.
	proc, full, err := trials.SealProcedure(rand.Reader, proc)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(full)
	if err != nil {
		return err
	}
	h := block.Sum(payload)
	if h.String() != proc.RecordHash {
		return fmt.Errorf("the procedure's payload hashes to %s, its record hash is %s", h, proc.RecordHash)
	}
	if _, _, err := d.submit(0, "surgeon", block.KindAnchor, (&block.AnchorPayload{Hash: h, Label: "surgical record " + proc.ID}).Encode(), 100_000); err != nil {
		return err
	}
	sk, err := d.key("surgeon")
	if err != nil {
		return err
	}
	if n, err := client.Replicate(d.ctx, d.clients, sk, d.chainID, payload); n != len(d.clients) {
		return fmt.Errorf("procedure record held by %d of %d validators: %w", n, len(d.clients), err)
	}
	call, err := trials.RecordCall(proc, d.sig("surgeon", "author"), time.Now())
	if err != nil {
		return err
	}
	var sr model.SurgicalRecord
	if err := d.call("surgeon", call, &sr); err != nil {
		return err
	}
	d.detail("record %s: %s %s in %s, status %s; the surgeon's name, the exact date, the notes and the device stay off chain (encrypted payload %s…)",
		sr.ID, sr.Procedure.Code.Code, sr.Procedure.Code.Display, sr.Procedure.Start, sr.Procedure.Status, proc.RecordHash[:16])
	why, err := d.refused("regulator", trials.FinalCall(sr.ID))
	if err != nil {
		return err
	}
	d.detail("used as final before co-signature: REFUSED — %s", why)
	cs, err := d.consentOf("surgical-team", trials.SurgicalRecords, "cosign", trials.RecordDigest(&sr), consent.MeaningAttestSurgicalRecord, "surgeon", "clinician")
	if err != nil {
		return err
	}
	if err := d.call("surgeon", trials.CosignCall(sr.ID, cs), &sr); err != nil {
		return err
	}
	d.detail("surgeon and second clinician co-sign (2 of 3): status %s", sr.Status)
	var add model.SurgicalRecord
	if err := d.call("surgeon", trials.AddendumCall(sr.ID, "Post-operative check at day 5: wound healing well", "follow-up finding", d.sig("surgeon", "addendum")), &add); err != nil {
		return err
	}
	if err := d.call("surgeon", trials.LinkCall(sr.ID, td.protocol.ID, td.subjects[0], d.sig("surgeon", "link")), nil); err != nil {
		return err
	}
	d.detail("addendum %s references the original, which stays; the record is linked to subject %s", add.ID, td.subjects[0])
	d.fact("surgical record final only after a 2-of-3 co-signature; amended by addendum, original kept")
	return nil
}

func demoResults(d *demoEnv) error {
	p := d.trial.protocol
	d.say("Database lock, then the sponsor submits results — with the primary outcome switched")
	early, err := trials.ResultsCall(p.ID, []model.OutcomeResult{{Outcome: p.Outcomes[0].ID, Type: p.Outcomes[0].Type, Measure: p.Outcomes[0].Measure,
		Arms: []model.ArmResult{{Arm: p.Arms[0].ID, N: 1, Events: 0}}}}, trials.HashBytes([]byte("early")), "early look", d.sig("statistician", "results"))
	if err != nil {
		return err
	}
	why, err := d.refused("statistician", early)
	if err != nil {
		return err
	}
	d.detail("results before database lock: REFUSED — %s", why)
	if err := d.call("sponsor", trials.LockCall(p.ID, d.sig("sponsor", "database lock")), nil); err != nil {
		return err
	}
	var first model.Outcome
	for _, o := range p.Outcomes {
		if o.Type == model.Primary {
			first = o
			break
		}
	}
	arms := p.Arms
	res := []model.OutcomeResult{{Outcome: first.ID, Type: model.Primary, Measure: first.Measure,
		Arms: []model.ArmResult{{Arm: arms[0].ID, N: 2, Events: 1}}}}
	src := "a hand-written stand-in"
	adtteB, _, _ := d.fixture("cdisc-dataset-json/adtte.json", "")
	adslB, _, _ := d.fixture("cdisc-dataset-json/adsl.json", "")
	if adtteB != nil && adslB != nil {
		adtte, err := trials.ParseDatasetJSON(adtteB)
		if err != nil {
			return err
		}
		adsl, err := trials.ParseDatasetJSON(adslB)
		if err != nil {
			return err
		}
		tte, err := trials.ResultsFromADaM(adtte, adsl, trials.ADaMOptions{Types: map[string]string{"TTDE": model.Primary}})
		if err != nil {
			return err
		}
		res, src = append(res, tte...), "CDISC Dataset-JSON adsl/adtte"
	} else {
		res = append(res, model.OutcomeResult{Type: model.Primary, Measure: "Time to First Dermatologic Event",
			Arms: []model.ArmResult{{Arm: arms[0].ID, N: 2, Events: 1, Value: "24", Unit: "d"}}})
	}
	call, err := trials.ResultsCall(p.ID, res, trials.HashBytes(adtteB), src, d.sig("statistician", "results"))
	if err != nil {
		return err
	}
	var rep model.Report
	if err := d.call("statistician", call, &rep); err != nil {
		return err
	}
	d.detail("results from %s; the contract's outcome-reporting report:", src)
	for _, l := range strings.Split(strings.TrimSpace(trials.FormatReport(&rep)), "\n") {
		d.detail("  %s", l)
	}
	if rep.Faithful || !rep.PrimarySwitched {
		return fmt.Errorf("the switched primary outcome was not flagged: %+v", rep)
	}
	d.fact("outcome switching caught: the report flags the primary outcome switch (stored on chain)")
	return nil
}
