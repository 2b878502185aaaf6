// Package trials is the host side of TrialChain's clinical-trial domain:
// importers from the standards the users already have (FHIR R5
// ResearchStudy, FHIR R4 Procedure, CDISC ODM 1.3.2 ClinicalData, CDISC
// Dataset-JSON, the GA4GH DUO terms file), the builders of every contract
// call the CLI sends (pure functions from user input to a Call: contract,
// method and JSON arguments) and formatters that turn results and
// refusals into plain words.
//
// The records, arguments and rules themselves live in trials/model, which
// the contracts (contracts-examples/trial-protocol, genome-access,
// surgical-records) compile in too, so the client checks exactly what the
// contract will check and can say what to fix before sending. Nothing here
// talks to a node, reads a clock or a global random source: times and
// randomness are parameters.
//
// # CLI verbs
//
// Each verb builds a Call (Contract, Method, Args) to send as a contract
// call; Describe(call, output) prints the result, ExplainRefusal(msg) a
// refusal (the receipt's "code: message").
//
//	trial register   LoadProtocol(file, DefaultTemplate()) (FHIR R5 ResearchStudy or our JSON), set ConsentGroup,
//	                 RegisterCall; then ActivateCall to open enrolment
//	trial amend      ParseAmendment(file, current) → Amendment; the group signs ConsentMessage(a.Digest())
//	                 for method "amend"; AmendCall(a, sig, consent)
//	trial enroll     NewSubjectID(crypto/rand), HashBytes(signed consent PDF), EnrollCall
//	trial submit     ParseFields(["SYSBP=128 mm[Hg]", ...]) or ParseODMClinicalData + RecordsFromODM;
//	                 NewRecord(crypto/rand, ...); SubmitCall(protocol, rec, sig) (keep rec, encrypted, off chain)
//	trial correct    CorrectCall(protocol, entryID, correctedRec, reason, sig)
//	trial ae         AECall(trial, subject, term, serious, severity, awareAt, onset, recordHash, sig)
//	trial lock       LockCall
//	trial results    ParseDatasetJSON(adtte/adsl) + ResultsFromADaM(adtte, adsl, ADaMOptions{Types: {"TTDE": "primary"}, Arms: protocol arms}),
//	                 or a JSON list of model.OutcomeResult; ResultsCall (returns the report)
//	trial show       ShowCall; ListCall(trial, "subjects"|"entries"|"aes"|"amendments"); EntryCall
//	trial report     ReportCall
//	genome register  ParseDUOCodes(["HMB","NCU","IRB"]); RegisterDatasetCall(model.Dataset{...})
//	genome request   RequestCall(model.AccessRequest{...}); AccessCall(grant) to use a grant
//	genome decide    the committee signs ConsentMessage(DecisionDigest(...)) for method "decide"; DecideCall
//	genome revoke    RevokeCall(grant, reason)
//	genome log       LogCall(dataset); GrantCall(grant)
//	surgery record   ProcedureFromFHIR(file, ProcedureOptions{Patient: pseudonym, ...}) or model.Procedure JSON;
//	                 RecordCall; LinkCall once final
//	surgery cosign   the team signs ConsentMessage(RecordDigest(&record)) for method "cosign"; CosignCall
//	surgery amend    AddendumCall / CorrectionCall (the amendment is co-signed like a record)
//	surgery show     ShowRecordCall; FinalCall refuses a record that is not final
//
// # Consents
//
// A contract passes a 32-byte digest of the exact act (the amendment with
// its reason and version; the committee's decision; the surgical record) as
// the message of consent_verify, naming the 64-hex consent group id it
// stores (Protocol.ConsentGroup, Dataset.CommitteeGroup,
// Procedure.TeamGroup). The chain verifies the consent for the action
// consent.CallAction(contract address, method, message) and refuses a
// replay; the contracts also refuse a consent they have already seen. So
// the parties sign with
//
//	trialchain consent action --contract ADDR --method amend --message-file digest.bin --out action.bin
//
// where digest.bin holds ConsentMessage(digest). Package testgroups has
// public test groups that sign without the CLI (tests, demo).
package trials
