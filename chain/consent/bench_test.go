package consent

import (
	"crypto/rand"
	"fmt"
	"testing"
)

// Benchmarks. The key ceremony is dominated by safe-prime generation, whose
// time varies a lot from run to run; run it a few times:
//
//	go test -run '^$' -bench 'NewGroup/2048' -benchtime 3x ./chain/consent
//	go test -run '^$' -bench 'NewGroup/3072' -benchtime 3x -timeout 2h ./chain/consent
//	go test -run '^$' -bench 'Deal|Open|Sign|Combine|Verify' ./chain/consent

// BenchmarkNewGroup is the whole ceremony for a 3-of-5 group: safe-prime
// key generation, dealing, sealing five shares.
func BenchmarkNewGroup(b *testing.B) {
	for _, bits := range []int{2048, 3072} {
		b.Run(fmt.Sprint(bits), func(b *testing.B) {
			spec := testSpec()
			spec.Bits = bits
			for b.Loop() {
				if _, _, err := NewGroup(rand.Reader, spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeal is the ceremony without key generation (stored 2048-bit
// key): safe-prime check, CIRCL Deal, five HPKE seals.
func BenchmarkDeal(b *testing.B) {
	spec := testSpec()
	for b.Loop() {
		if _, _, err := dealTest(rand.Reader, spec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenShare(b *testing.B) {
	f := testFixture(b)
	for b.Loop() {
		if _, err := OpenShare(f.group, f.sealed[0], f.members[0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignShare(b *testing.B) {
	f := testFixture(b)
	for b.Loop() {
		f.sign(b, 1)
	}
}

func BenchmarkCombine(b *testing.B) {
	f := testFixture(b)
	for _, n := range []int{3, 5} {
		b.Run(fmt.Sprintf("%d-of-5", n), func(b *testing.B) {
			var shares []*SignedShare
			for p := 1; p <= n; p++ {
				shares = append(shares, f.sign(b, p))
			}
			for b.Loop() {
				if _, err := Combine(f.group, testRequest(), shares...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCombineBadShare: 5 shares, one corrupted; the subset search
// names it.
func BenchmarkCombineBadShare(b *testing.B) {
	f := testFixture(b)
	var shares []*SignedShare
	for p := 1; p <= 5; p++ {
		shares = append(shares, f.sign(b, p))
	}
	shares[0] = f.corrupt(b, shares[0])
	for b.Loop() {
		if _, err := Combine(f.group, testRequest(), shares...); err == nil {
			b.Fatal("combined a corrupted share")
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	f := testFixture(b)
	c, err := Combine(f.group, testRequest(), f.sign(b, 1), f.sign(b, 2), f.sign(b, 3))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Verify(f.group, testChain, testAction(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyEncoded is the consent_verify host function's work:
// decode the group and the consent, then Verify.
func BenchmarkVerifyEncoded(b *testing.B) {
	enc := encodings(b)
	for b.Loop() {
		if _, _, err := VerifyEncoded(enc["group"], testChain, testAction(), enc["consent"]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyEncodedSigners prices consent_verify (chain/contracts
// consentGas): decode the group and the consent and verify, by the number
// of signers, and decoding the group alone.
func BenchmarkVerifyEncodedSigners(b *testing.B) {
	f := testFixture(b)
	gb, err := f.group.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("group-decode", func(b *testing.B) {
		b.ReportMetric(float64(len(gb)), "group-bytes")
		for b.Loop() {
			if _, err := ParseGroup(gb); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n := range []int{3, 4, 5} {
		b.Run(fmt.Sprintf("%d-signers", n), func(b *testing.B) {
			var shares []*SignedShare
			for p := 1; p <= n; p++ {
				shares = append(shares, f.sign(b, p))
			}
			c, err := Combine(f.group, testRequest(), shares...)
			if err != nil {
				b.Fatal(err)
			}
			cb, err := c.MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(cb)), "consent-bytes")
			for b.Loop() {
				if _, _, err := VerifyEncoded(gb, testChain, testAction(), cb); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
