package bundle

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
)

// encodeReference is Encode written plainly: one json.MarshalIndent of the
// whole bundle. Encode must produce the same bytes.
func encodeReference(b *Bundle) []byte {
	j := bundleJSON{Format: Format, Version: Version, ChainID: b.ChainID, GenesisHash: b.GenesisHash, Scope: b.Scope,
		Checkpoints: b.Checkpoints, Consistency: b.Consistency, Records: []*recordJSON{}, Payloads: []*payloadJSON{}, Scopes: encodeScopes(b.Scopes), Withheld: []*withheldJSON{}, Witnesses: b.Witnesses}
	for _, w := range b.Withheld {
		j.Withheld = append(j.Withheld, &withheldJSON{SHA256: w.SHA256, Reason: w.Reason})
	}
	if j.Checkpoints == nil {
		j.Checkpoints = []*proof.Checkpoint{}
	}
	if j.Consistency == nil {
		j.Consistency = []*proof.ConsistencyProof{}
	}
	for _, r := range b.Records {
		rj := &recordJSON{Tx: r.Tx, Proof: r.Proof, Consents: r.Consents}
		if !r.CodeHash.IsZero() {
			h := r.CodeHash
			rj.CodeHash = &h
		}
		j.Records = append(j.Records, rj)
	}
	for _, p := range b.Payloads {
		j.Payloads = append(j.Payloads, &payloadJSON{Name: p.Name, Tx: p.Tx, Field: p.Field, SHA256: p.SHA256, Data: p.Data})
	}
	out, err := json.MarshalIndent(j, "", " ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}

// TestEncodeReference: the parallel encoder writes exactly the reference
// bytes, for bundles with and without records, code, payloads, witnesses
// and names that look like JSON.
func TestEncodeReference(t *testing.T) {
	f := newCompleteFixture(t)
	full, err := Decode(f.good)
	if err != nil {
		t.Fatal(err)
	}
	big := newTrialFixture(t, 3, 1500).export(t, true)
	noRecords := *full
	noRecords.Records = nil
	tricky := *full
	tricky.Scope = "trial:T1\n \"records\": [],\n"
	tricky.Payloads = append([]*Payload{{Name: "\n \"records\": [],\n", Field: FieldAnchor}}, full.Payloads...)
	noCode := newTrialFixture(t, 4, 3).export(t, false) // deploys by receipt alone (no tx)
	edges := *full
	edges.Records = nil
	for i, r := range full.Records {
		c := *r
		p := *r.Proof
		c.Proof = &p
		switch i % 3 {
		case 0:
			p.Hashes = nil // "hashes": null
		case 1:
			p.Hashes = []block.Hash{} // "hashes": []
			p.Record = nil            // record left out
		}
		edges.Records = append(edges.Records, &c)
	}
	for name, b := range map[string]*Bundle{"complete": full, "1500 records": big, "no records": &noRecords, "names like the list": &tricky,
		"receipt-only deploys": noCode, "empty and null lists": &edges} {
		if got, want := b.Encode(), encodeReference(b); !bytes.Equal(got, want) {
			t.Errorf("%s: Encode differs from the reference (%d vs %d bytes)", name, len(got), len(want))
		}
	}
}
