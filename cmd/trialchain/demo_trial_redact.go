package main

import (
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
)

// The redaction chapter: an off-chain payload with PHI typed in by
// mistake is held by every validator, then redacted; the evidence stays.
func init() {
	demoSteps = append(demoSteps, demoStep{"redact a payload with mistaken PHI", demoRedact})
}

func demoRedact(d *demoEnv) error {
	narrative := d.trial.narrative
	h := block.Sum(narrative)
	d.say("The serious adverse event's narrative is off chain: those entitled read it with a signed request")
	reg, err := d.key("regulator")
	if err != nil {
		return err
	}
	if _, err := d.clients[2].Payload(d.ctx, reg, d.chainID, h); err != nil {
		return fmt.Errorf("regulator reads the narrative: %w", err)
	}
	d.detail("the regulator reads it from node2: allowed")
	sp, err := d.key("sponsor")
	if err != nil {
		return err
	}
	if _, err := d.clients[1].Payload(d.ctx, sp, d.chainID, h); err == nil {
		return errors.New("the sponsor, another organisation, read the site's payload")
	} else {
		d.detail("the sponsor tries to read it: REFUSED — %v", err)
	}

	d.say("Site Sydney finds the patient's name and record number in the narrative and redacts it (21 CFR Part 11 record: who, when, why, meaning)")
	p := &block.RedactPayload{Targets: []block.Hash{h}, Basis: block.BasisMistakenPHI,
		Reason: "patient name and MRN typed into the narrative", Meaning: "approval of redaction"}
	_, tx, err := d.submit(0, "site-b", block.KindRedact, p.Encode(), 200_000)
	if err != nil {
		return err
	}
	x, err := d.clients[3].Redaction(d.ctx, h)
	if err != nil {
		return err
	}
	d.detail("redaction tx %s at height %d, %s, basis %s, reason %q", tx, x.Height, x.Time, x.Basis, x.Reason)
	for i, c := range d.clients {
		if _, err := c.Payload(d.ctx, reg, d.chainID, h); !errors.Is(err, client.ErrGone) {
			return fmt.Errorf("node%d after the redaction: %v", i, err)
		}
		if _, err := c.PutPayload(d.ctx, reg, d.chainID, narrative); !errors.Is(err, client.ErrGone) {
			return fmt.Errorf("node%d takes the redacted payload back: %v", i, err)
		}
	}
	d.detail("all %d validators: the copy and its data key are destroyed; reading it answers \"redacted\", giving it back is REFUSED", len(d.clients))

	corrected := []byte(`{"form":"sae","term":"Anaphylaxis","narrative":"Subject collapsed 20 minutes after the infusion"}` + "\n")
	hc := block.Sum(corrected)
	if _, _, err := d.submit(0, "site-b", block.KindAnchor, (&block.AnchorPayload{Hash: hc, Label: "SAE narrative " + d.trial.protocol.ID + " (corrected)", Scope: state.TrialScope(d.trial.protocol.ID)}).Encode(), 100_000); err != nil {
		return err
	}
	sb, err := d.key("site-b")
	if err != nil {
		return err
	}
	if _, err := client.Replicate(d.ctx, d.clients, sb, d.chainID, corrected); err != nil {
		return err
	}
	d.detail("the corrected narrative (%s…) is anchored and handed to the validators", hc.String()[:16])
	vs, err := d.clients[1].ProveState(d.ctx, d.tn.Genesis, state.RedactionKey(h), -1)
	if err != nil {
		return fmt.Errorf("state proof of the redaction: %w", err)
	}
	if !vs.Found {
		return errors.New("the redaction record is not in the certified state")
	}
	as, err := d.clients[2].Anchors(d.ctx, h)
	if err != nil || len(as) != 1 {
		return fmt.Errorf("the redacted payload's anchoring: %d %v", len(as), err)
	}
	d.detail("VERIFIED: the redaction record is in the state certified by block %d (sparse-Merkle proof, %d siblings); the redacted payload's hash stays anchored at height %d",
		vs.Checkpoint.Height(), len(vs.Proof.Siblings), as[0].Height)
	d.fact("mistaken PHI redacted on all %d validators (crypto-shredded); its hash, anchoring and proofs stay", len(d.clients))
	return nil
}
