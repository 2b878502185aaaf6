package testgroups

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
)

func TestGroups(t *testing.T) {
	want := map[string][2]int{AmendmentBoard: {3, 5}, SurgicalTeam: {2, 3}, DataAccessCommittee: {2, 3}}
	for _, n := range Names {
		g, err := Load(n)
		if err != nil {
			t.Fatal(err)
		}
		if w := want[n]; g.Group.Threshold != w[0] || len(g.Group.Parties) != w[1] || len(g.Printed) != w[1] || len(g.ID) != 64 {
			t.Fatalf("%s: %d of %d", n, g.Group.Threshold, len(g.Group.Parties))
		}
	}
	g := MustLoad(SurgicalTeam)
	var addr [32]byte
	a := Action(addr, "cosign", [32]byte{7})
	c, err := g.Consent(rand.Reader, "test", a, consent.MeaningAttestSurgicalRecord, time.Unix(1800000000, 0), 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	v := Verifier("test", addr, "cosign", g)
	if err := v(g.ID, consent.MeaningAttestSurgicalRecord, []byte("another message"), c, nil); err == nil {
		t.Fatal("consent accepted for another message")
	}
	msg := [32]byte{7}
	if err := v(g.ID, consent.MeaningAttestSurgicalRecord, msg[:], c, nil); err != nil {
		t.Fatal(err)
	}
	if err := v(g.ID, consent.MeaningApproveAmendment, msg[:], c, nil); err == nil {
		t.Fatal("consent accepted for another meaning")
	}
	if err := Verifier("test", addr, "amend", g)(g.ID, consent.MeaningAttestSurgicalRecord, msg[:], c, nil); err == nil {
		t.Fatal("consent accepted for another method")
	}
	if _, err := g.Consent(rand.Reader, "test", a, consent.MeaningAttestSurgicalRecord, time.Now(), 1); err == nil {
		t.Fatal("one share of a 2-of-3 group combined")
	}
}
