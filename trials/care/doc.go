// Package care holds the healthcare scenarios beyond trials that run as
// contracts on TrialChain, shared by the three contracts and their clients:
//
//   - record sharing between hospitals under a patient's FHIR R4 Consent
//     (contracts-examples/record-sharing): Consent, Decide, ImportConsent,
//     ExportConsent;
//   - insurance claims shaped after FHIR R4 Claim / ClaimResponse, with
//     pseudonymous patients (contracts-examples/claims): Plan, Claim,
//     Adjudicate;
//   - drug traceability with GS1 identifiers (GTIN + serial, lot, expiry)
//     and EPCIS 2.0-style events (contracts-examples/drug-trace): Pack,
//     Event, CheckGTIN, Verify.
//
// Like trials/model it imports only the standard library (and trials/model
// for its error type and helpers) and never reads a clock, a random source
// or the environment: a contract compiled to WebAssembly and a client on a
// laptop apply the same rules, and a client can check a call before the
// chain refuses it.
//
// # Usage
//
// A client builds the arguments here and sends them with package trials
// (trials.CareCall, trials.GrantConsentCall; trials.RecordCommitment and
// trials.RecordPlaintext / trials.OpenedRecord around chain/consent's HPKE
// seal for a released record), the "trialchain share" verbs or the
// generic "trialchain contract call"; the contract decides with the same
// functions (Decide, Adjudicate, Verify) on the block's time:
//
//	c, err := care.ImportConsent(fhirJSON)          // FHIR R4 Consent → Consent
//	d, err := care.Decide([]care.Consent{c}, care.Read{Actor: care.OrgActor("hospital-b"),
//		Purpose: "TREAT", Class: cls, Code: code, AtMilli: blockMs}) // no-consent, denied-by-consent or a permit
//	b, err := care.ExportConsent(&c)                // back to FHIR (revoked: status inactive)
//	r := care.Adjudicate(&plan, &proc, &claim)      // approved / denied (rule) / pended
//	ans := care.Verify(&pack, found, recalled, nowMs) // genuine, already-dispensed, unknown, recalled, expired
//
// # Determinism
//
// Every function is a function of its arguments: lists are scanned in
// order, amounts are integers in minor units (cents), times are Unix
// milliseconds from the block or RFC 3339 / YYYY-MM-DD strings.
//
// # Errors
//
// Refusals are *model.Error values whose Code names the case: each bad
// input of the scenarios has its own code (CodeNoConsent, CodeRevoked,
// CodeProcedureUnknown, CodeAlreadyClaimed, CodeNotHolder,
// CodeAlreadyDispensed, CodeRecalled, ...), so a client, a test and an
// auditor reading a failed receipt can tell them apart.
package care
