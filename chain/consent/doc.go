// Package consent implements multi-party consent for TrialChain: t of n
// parties of a consent group agree to one exact action, and the chain
// records one compact RSA signature that anyone can verify against the
// group's public key, plus who signed, when, and what each signature meant
// (21 CFR 11.50 and 11.70).
//
// The threshold signature is CIRCL's tss/rsa (Shoup's threshold RSA); the
// combined signature is a standard RSASSA-PSS-SHA256 signature that
// crypto/rsa.VerifyPSS checks. This package is CIRCL's only importer in the
// tree. Why this scheme, and its limits, are in RATIONALE.md.
//
// # Usage
//
// 1. Key ceremony, once per group, on a machine every party trusts (the
// dealer sees the private key while it exists):
//
//	g, sealed, err := consent.NewGroup(rand.Reader, consent.GroupSpec{
//		Name: "amendment-board", Threshold: 3,
//		Parties: []consent.PartySpec{{Name: "sponsor", Role: "trial sponsor", MemberKey: sponsorPub}, ...},
//	})
//	err = consent.WriteCeremony(dir, g, sealed) // group.json, group.bin, share-NN-NAME.bin
//
// NewGroup generates a 2048-bit (or up to 4096-bit) RSA key from safe
// primes — tens of seconds to minutes —, deals one key share per party,
// seals each share with HPKE to the X25519 form of the party's ed25519
// member key, and wipes the private key (best effort, see NewGroup). The
// group (group.bin, whose SHA-256 is the group id) goes on chain; each
// party receives its own share file.
//
// 2. Each party that consents opens its share and signs:
//
//	s, _ := consent.ParseSealedShare(shareFile)
//	ks, err := consent.OpenShare(g, s, memberKey) // g read from the chain
//	ss, err := consent.SignShare(rand.Reader, g, ks, memberKey, chainID, action,
//		consent.Manifestation{PrintedName: "Dr. Jane Doe", Time: now, Meaning: consent.MeaningApproveAmendment})
//	ks.Wipe()
//	file, err := ss.MarshalBinary() // hand this to whoever combines
//
// 3. Anyone with at least the threshold of signed shares combines them:
//
//	c, err := consent.Combine(g, consent.Request{ChainID: chainID, Action: action, Meaning: consent.MeaningApproveAmendment}, shares...)
//	tx, err := c.MarshalBinary() // goes on chain
//
// Combine refuses any bad share and names it (*ShareError,
// *BadSharesError); remove it and call again.
//
// 4. Anyone verifies, offline or on chain — a pure function of its
// inputs:
//
//	signers, err := consent.Verify(g, chainID, action, c)
//	// or, in the VM host function consent_verify:
//	c, signers, err := consent.VerifyEncoded(groupBytes, chainID, action, consentBytes)
//
// The caller then checks c.Request.Meaning and refuses a consent whose
// c.ID() it has seen before (replay protection is the chain's job).
//
// # What is signed
//
// The threshold RSA signature is over one message common to all signers,
// the consent message (Request.Message):
//
//	"trialchain/consent/message/v1" | group id | chain id | action kind | action data | meaning
//
// Each party additionally signs, with its ed25519 member key,
//
//	"trialchain/consent/attestation/v1" | SHA-256(consent message) | party | printed name | time | meaning | its RSA share
//
// so its manifestation is bound to this record and to its own share, and
// Verify checks that the listed shares combine into exactly the consent's
// signature. Every listed signer therefore really signed this consent.
// Anyone relaying a consent can still drop signers down to the threshold
// (any t shares give the same signature) but cannot add, swap or alter one.
//
// # Files and encodings
//
// group.json is for people (strict JSON, the id is checked); group.bin,
// share files, signed-share files and consents use one canonical binary
// encoding (see encoding.go): fixed field order, length-prefixed,
// domain-tagged, and the decoders reject trailing bytes and non-minimal
// lengths, so every value has exactly one encoding.
//
// # Ownership and concurrency
//
// Values are plain data; functions do not retain their arguments. A
// KeyShare is secret: the caller owns it and wipes it. All functions are
// safe for concurrent use on distinct values. Nothing here reads the clock
// or a global random source: times and randomness are parameters.
package consent
