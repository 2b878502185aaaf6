// Package witness lets an organisation that runs no validator — a
// regulator, an ethics committee — vouch that the chain it was shown is
// the one history everybody is shown. A witness cosigns a certified
// checkpoint only when it is consistent with the last one it cosigned, and
// never cosigns two histories: a split view (two different certified
// histories shown to two parties) is caught by any witness that saw both.
// Evidence bundles carry cosignatures, and a verifier that trusts t of a
// set of witness keys requires them (chain/proof/bundle.VerifyWitnesses).
//
// # What a witness checks (Check, a pure function)
//
// Given its latest cosigned statement and an add-checkpoint Request (a
// checkpoint, the old size, a consistency proof), in order:
//
//  1. the checkpoint is of the genesis's chain        → else ErrWrongChain
//  2. its certificate holds a quorum of the genesis
//     validators over its header (proof.Checkpoint.Verify) → else ErrNotCertified
//  3. the old size is the witness's latest size        → else *ConflictError (ErrOldSize)
//  4. against the latest cosigned checkpoint:
//     - the same block: cosigned again (Latest, fresh time);
//     - another block at the same height               → ErrBlockConflict (ErrFork)
//     - the same log size with another root            → ErrRootConflict (ErrFork)
//     - a later block with a smaller log               → ErrRollback
//     - a later block whose log the proof does not show
//     to extend the latest (or, for the very next block,
//     whose parent is not the latest block)            → ErrInconsistent (ErrFork)
//     - a later block that passes                      → Latest: the new state
//     - an earlier block whose log the proof shows to be
//     a prefix of the latest's                         → Prefix (state unchanged)
//
// # Usage
//
// Running a witness (what `trialchain witness init` and `serve` do):
//
//	pk, err := witness.Init(home, "regulator")            // key 0600, witness.pub, empty state
//	key, pk, err := witness.LoadKey(home)
//	st, err := witness.Open(home, pk)                      // cross-checks state.json against cosigned.log
//	w, err := witness.New(st, key, pk.Name, g, time.Now)   // binds the home to g's chain on first use
//	c, err := w.Add(req)                                   // check, then persist, then return the cosignature
//	defer w.Close()
//
// Asking a witness (a client, e.g. `trialchain export --witness URL`):
// read its latest cosignature (its log size N), fetch from a node the
// consistency proof between N and the checkpoint's size, send Request{
// OldSize: N, Proof, Checkpoint}; on a *ConflictError (another client moved
// the witness on) fetch a new proof from its Size and send again.
//
// Checking cosignatures (a verifier, offline):
//
//	pk, err := witness.LoadPublicKey("regulator.pub")
//	err = c.VerifyBy(pk)        // its signature, by that name and key
//	err = c.Matches(cp)         // of exactly this checkpoint
//
// # Durability
//
// The home holds witness.key, witness.pub, state.json (the latest
// statement, the count of cosigned checkpoints and the head of a hash
// chain over the log) and cosigned.log (every Latest cosignature, each
// record length-prefixed and hash-chained, append-only). Add holds a lock
// across Check and Store.Append; Append writes and fsyncs the log record,
// then replaces state.json (temp file, fsync, rename, fsync dir), and only
// then is the cosignature returned. A refusal writes nothing; a Prefix
// statement writes nothing.
//
// Open refuses, each with its own error, a truncated or corrupt state file
// (ErrStateCorrupt), a missing one (ErrStateMissing), a truncated or
// missing log (ErrLogTruncated), an edited log (ErrLogCorrupt), a state
// file rolled back by more than one checkpoint (ErrRolledBack), and a
// state file whose hash chain disagrees with the log (ErrDisagree). It
// repairs the two states a crash in Append leaves: a partial record at the
// log's end (never answered) is cut off, and a state file one record
// behind the log (the rename did not happen) is rolled forward. So a
// state file rolled back by exactly one step is indistinguishable from a
// crash and is healed from the log, which is safe: the witness resumes
// from its true latest checkpoint. What cannot be detected from the home
// alone: the state and the log rolled back together to an earlier pair (a
// restored backup), or the home deleted and re-initialised with the same
// key. Then only cosignatures the witness already handed out expose it.
//
// # Where this differs from C2SP tlog-witness and tlog-cosignature, and why
//
//   - The checkpoint is not a signed note with an origin line but a block
//     header with a BFT commit certificate (proof.Checkpoint): "the log's
//     signature" is a quorum of the genesis validators, and the origin is
//     the chain id plus the genesis (a witness serves one chain).
//   - The cosigned message is a binary struct (like C2SP's ML-DSA-44
//     cosigned_message), not the note text: label
//     "trialchain-cosignature/v1\n\0", the witness's name and public key
//     (C2SP's Ed25519 v1 binds neither), the time in Unix seconds, the
//     statement, then chain id, height, block hash, log size, log root and
//     state root. A cosignature therefore names the block and state, not
//     only the log, and carries the key, not a 4-byte key id.
//   - The HTTP API speaks JSON (POST add-checkpoint with old_size, proof,
//     checkpoint; GET latest); the status codes follow the spec: 403 not
//     certified, 404 another chain, 409 old size mismatch (the body names
//     the witness's size) or same size with another root or block, 422 an
//     inconsistent proof, 400 malformed.
//   - An old size above the checkpoint's size is not "400 Bad Request":
//     the checkpoint is cosigned as a Prefix statement if the proof shows
//     its log to be a prefix of the witness's latest. Evidence bundles are
//     exported at a checkpoint that a witness following the chain has
//     usually passed already; a Prefix cosignature lets it vouch for that
//     checkpoint without moving its state back.
//   - A witness also compares block hashes at equal heights and the parent
//     link of the next block; the spec knows only sizes and roots.
//
// # Limits
//
// A witness compares record logs (plus block hashes at equal heights and
// parent links of consecutive blocks): two certified blocks with identical
// record logs at a height the witness never cosigned — validators that
// equivocate on execution but not on transactions — are not told apart.
// Validator-set changes are not walked by Check itself: it checks against
// the sets it is given (CheckAgainst; Witness.SetValidators), which a
// following witness (witnessd.Follower) walks from the genesis through the
// validators' certified blocks. A witness that only serves checks against
// the genesis set and refuses checkpoints certified after a set change.
package witness
