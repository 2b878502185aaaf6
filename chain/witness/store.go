package witness

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/proof"
)

// Files of a witness home directory.
const (
	KeyFile   = "witness.key"  // the private key (keys format, 0600)
	PubFile   = "witness.pub"  // the public-key file verifiers are given
	StateFile = "state.json"   // the latest cosigned statement, count and log head
	LogFile   = "cosigned.log" // every Latest cosignature, append-only, hash-chained
	stateFmt  = "trialchain-witness-state"
	logMagic  = "trialchain-witness-log/v1\n"
)

// Errors of the state files; match with errors.Is. Each names a different
// way the witness's memory was damaged; the witness refuses to start on
// any of them rather than guess its last cosigned checkpoint.
var (
	ErrNotInitialized = errors.New("witness: not a witness home (run 'trialchain witness init')")
	ErrStateCorrupt   = errors.New("witness: state file is truncated or corrupt")
	ErrStateMissing   = errors.New("witness: state file is missing but the cosigned log is not empty")
	ErrLogTruncated   = errors.New("witness: cosigned log is truncated")
	ErrLogCorrupt     = errors.New("witness: cosigned log is corrupt or was edited")
	ErrRolledBack     = errors.New("witness: state file was rolled back")
	ErrDisagree       = errors.New("witness: state file and cosigned log disagree")
	ErrKeyMismatch    = errors.New("witness: the key is not the one this state belongs to")
	ErrChainMismatch  = errors.New("witness: this witness follows another chain")
	ErrExists         = errors.New("witness: home already holds a witness")
)

// stateJSON is state.json.
type stateJSON struct {
	Format      string         `json:"format"`
	Version     int            `json:"version"`
	Name        string         `json:"name"`
	Key         proof.HexBytes `json:"public_key"`
	ChainID     string         `json:"chain_id"`     // "" until the first serve binds it
	GenesisHash block.Hash     `json:"genesis_hash"` // zero until bound
	Count       uint64         `json:"count"`        // records in the cosigned log
	Head        block.Hash     `json:"head"`         // hash chain over the log's records
	Latest      *Cosignature   `json:"latest"`       // the last record's cosignature; null when Count is 0
}

// decodeState reads state.json strictly.
func decodeState(b []byte) (*stateJSON, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s stateJSON
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	switch {
	case s.Format != stateFmt || s.Version != 1:
		return nil, fmt.Errorf("format %q version %d, want %q version 1", s.Format, s.Version, stateFmt)
	case !ValidName(s.Name) || len(s.Key) != ed25519.PublicKeySize:
		return nil, errors.New("no valid witness name and key")
	case (s.Count == 0) != (s.Latest == nil):
		return nil, fmt.Errorf("count %d with latest %v", s.Count, s.Latest != nil)
	case len(s.ChainID) > block.MaxChainIDBytes:
		return nil, errors.New("chain id too long")
	}
	return &s, nil
}

// logGenesis is the hash-chain value before the first record.
func logGenesis() block.Hash { return sha256.Sum256([]byte(logMagic)) }

// chainNext is the hash-chain value after a record.
func chainNext(prev block.Hash, rec []byte) block.Hash {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(rec)
	var out block.Hash
	h.Sum(out[:0])
	return out
}

// Store is a witness's durable memory: state.json and cosigned.log in its
// home directory. Open cross-checks them; Append writes the log first
// (fsync), then the state file (temp file, fsync, rename, fsync dir). A
// Store is not safe for concurrent use; Witness serialises it.
type Store struct {
	dir      string
	st       *stateJSON
	log      *os.File
	size     int64 // bytes of complete records in the log
	unlock   func()
	readOnly bool
	// Recovered says what Open repaired after a crash ("" if nothing).
	Recovered string
}

// Init makes a new witness home in dir (created 0700 if missing): a fresh
// key NAME (witness.key, 0600), its public-key file, an empty state and log.
//
// # Errors
//
// ErrExists if dir already holds a witness; an invalid name.
func Init(dir, name string) (PublicKey, error) {
	if !ValidName(name) {
		return PublicKey{}, fmt.Errorf("witness: invalid name %q (letters, digits, . _ -; up to %d)", name, MaxNameBytes)
	}
	for _, f := range []string{KeyFile, StateFile, LogFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return PublicKey{}, fmt.Errorf("%w: %s exists", ErrExists, filepath.Join(dir, f))
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return PublicKey{}, fmt.Errorf("witness: %w", err)
	}
	k, err := keys.Generate(name)
	if err != nil {
		return PublicKey{}, err
	}
	if err := k.Save(filepath.Join(dir, KeyFile)); err != nil {
		return PublicKey{}, err
	}
	pk := PublicKey{Name: name, Key: k.Public()}
	if err := genesis.WriteFileAtomic(filepath.Join(dir, PubFile), pk.Encode(), 0o644); err != nil {
		return PublicKey{}, err
	}
	if err := genesis.WriteFileAtomic(filepath.Join(dir, LogFile), nil, 0o600); err != nil {
		return PublicKey{}, err
	}
	st := &stateJSON{Format: stateFmt, Version: 1, Name: name, Key: proof.HexBytes(pk.Key), Head: logGenesis()}
	if err := writeState(dir, st); err != nil {
		return PublicKey{}, err
	}
	return pk, nil
}

// LoadKey reads the witness's private key from its home.
func LoadKey(dir string) (ed25519.PrivateKey, PublicKey, error) {
	k, err := keys.Load(filepath.Join(dir, KeyFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, PublicKey{}, fmt.Errorf("%w: no %s in %s", ErrNotInitialized, KeyFile, dir)
		}
		return nil, PublicKey{}, err
	}
	if !ValidName(k.Name) {
		return nil, PublicKey{}, fmt.Errorf("witness: key file names witness %q, not a valid witness name", k.Name)
	}
	return k.Private, PublicKey{Name: k.Name, Key: k.Public()}, nil
}

func writeState(dir string, st *stateJSON) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("witness: state: %w", err)
	}
	return genesis.WriteFileAtomic(filepath.Join(dir, StateFile), append(b, '\n'), 0o600)
}

// Open opens the witness home dir for the witness pk and cross-checks the
// state file against the cosigned log:
//
//   - state.json must decode (else ErrStateCorrupt: it is only ever
//     replaced by rename, so a crash cannot truncate it) and belong to pk
//     (ErrKeyMismatch);
//   - every record of the log must decode, be made by pk (the last
//     record's signature is verified), continue the
//     hash chain and move strictly up in height (ErrLogCorrupt);
//   - the log must hold state.count records whose hash chain ends at
//     state.head: fewer is ErrLogTruncated, more than one more is
//     ErrRolledBack, another head is ErrDisagree.
//
// Two states are repaired, both left by a crash inside Append: a partial
// record at the log's end (written but never fsynced, never answered) is
// cut off, and exactly one more record than the state counts (the log
// was synced, the state file not yet replaced) is rolled forward into the
// state file. Recovered says which.
//
// # Notes
//
// What cannot be detected: the state file and the log rolled back
// together to an earlier consistent pair (a restored backup of the whole
// home), or both deleted and re-initialised. Against those only the
// cosignatures the witness already published help: a client holding a
// newer cosignature of this witness sees it cosign an older or forked
// checkpoint. Keep the home on storage that is not restored from backups.
func Open(dir string, pk PublicKey) (*Store, error) { return open(dir, pk, false) }

// Inspect runs Open's checks without taking the lock or repairing
// anything (for `witness show` beside a running witness). The returned
// store is read-only: Append and Bind fail. A repair Open would make is
// reported in Recovered ("would ...").
func Inspect(dir string, pk PublicKey) (*Store, error) { return open(dir, pk, true) }

func open(dir string, pk PublicKey, readOnly bool) (*Store, error) {
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	sb, serr := os.ReadFile(filepath.Join(dir, StateFile))
	lf, lerr := os.OpenFile(filepath.Join(dir, LogFile), flag, 0)
	switch {
	case errors.Is(serr, os.ErrNotExist) && errors.Is(lerr, os.ErrNotExist):
		return nil, fmt.Errorf("%w: %s holds neither %s nor %s", ErrNotInitialized, dir, StateFile, LogFile)
	case errors.Is(lerr, os.ErrNotExist):
		return nil, fmt.Errorf("%w: %s is missing (the state file remains)", ErrLogTruncated, filepath.Join(dir, LogFile))
	case lerr != nil:
		return nil, fmt.Errorf("witness: %w", lerr)
	}
	s := &Store{dir: dir, log: lf, readOnly: readOnly}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	if !readOnly {
		unlock, err := lockFile(lf)
		if err != nil {
			return nil, fmt.Errorf("witness: %s is in use by another witness process: %w", dir, err)
		}
		s.unlock = unlock
	}
	recs, heads, good, torn, err := scanLog(lf, pk)
	if err != nil {
		return nil, err
	}
	n := uint64(len(recs))
	switch {
	case errors.Is(serr, os.ErrNotExist):
		if n == 0 && !torn {
			return nil, fmt.Errorf("%w: no %s in %s", ErrNotInitialized, StateFile, dir)
		}
		return nil, fmt.Errorf("%w: %s is gone, %s holds %d cosigned checkpoints", ErrStateMissing, StateFile, LogFile, n)
	case serr != nil:
		return nil, fmt.Errorf("witness: %w", serr)
	}
	st, err := decodeState(sb)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%d bytes): %w; restore it from the log only after finding out why", ErrStateCorrupt, filepath.Join(dir, StateFile), len(sb), err)
	}
	if st.Name != pk.Name || !bytes.Equal(st.Key, pk.Key) {
		return nil, fmt.Errorf("%w: the state belongs to %s (key %s), the key is %s", ErrKeyMismatch, st.Name, Fingerprint(st.Key), pk)
	}
	switch {
	case n < st.Count:
		return nil, fmt.Errorf("%w: %s holds %d complete records, the state file counts %d cosigned checkpoints (last at block %d)",
			ErrLogTruncated, LogFile, n, st.Count, st.Latest.Height)
	case n > st.Count+1:
		return nil, fmt.Errorf("%w: it counts %d cosigned checkpoints (last at block %d), the cosigned log holds %d (last at block %d)",
			ErrRolledBack, st.Count, latestHeight(st), n, recs[n-1].Height)
	case heads[st.Count] != st.Head:
		return nil, fmt.Errorf("%w: after %d records the log's hash chain is %s, the state file says %s (one of them was edited or replaced)",
			ErrDisagree, st.Count, heads[st.Count], st.Head)
	case st.Count > 0 && !bytes.Equal(st.Latest.Encode(), recs[st.Count-1].Encode()):
		return nil, fmt.Errorf("%w: the state's latest cosignature is not the log's record %d", ErrDisagree, st.Count)
	}
	s.st, s.size = st, good
	if readOnly {
		switch {
		case n == st.Count+1:
			s.Recovered = fmt.Sprintf("would roll the state file forward to the log's last record (block %d): a write in progress, or a crash", recs[n-1].Height)
			next := *st
			next.Count, next.Head, next.Latest = n, heads[n], recs[n-1]
			s.st = &next
		case torn:
			s.Recovered = fmt.Sprintf("would cut a partial record off the end of %s: a write in progress, or a crash", LogFile)
		}
		ok = true
		return s, nil
	}
	if torn {
		if err := lf.Truncate(good); err != nil {
			return nil, fmt.Errorf("witness: cutting the partial record off %s: %w", LogFile, err)
		}
		if err := lf.Sync(); err != nil {
			return nil, fmt.Errorf("witness: %w", err)
		}
		s.Recovered = fmt.Sprintf("cut a partial record (a crash during a write) off the end of %s", LogFile)
	}
	if n == st.Count+1 {
		next := *st
		next.Count, next.Head, next.Latest = n, heads[n], recs[n-1]
		if err := writeState(dir, &next); err != nil {
			return nil, err
		}
		s.st = &next
		s.Recovered = fmt.Sprintf("rolled the state file forward to the log's last record (block %d), written just before a crash", recs[n-1].Height)
	}
	if _, err := lf.Seek(0, io.SeekEnd); err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	ok = true
	return s, nil
}

func latestHeight(st *stateJSON) uint64 {
	if st.Latest == nil {
		return 0
	}
	return st.Latest.Height
}

// recordHeader is the length prefix of a log record.
const recordHeader = 4

// scanLog reads every complete record: each decoded, signed by pk, heights
// strictly increasing. heads[i] is the hash chain after i records. good is
// the byte length of the complete records; torn reports bytes after them.
func scanLog(f *os.File, pk PublicKey) (recs []*Cosignature, heads []block.Hash, good int64, torn bool, err error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, 0, false, fmt.Errorf("witness: %w", err)
	}
	r := bufio.NewReader(f)
	heads = []block.Hash{logGenesis()}
	for {
		var hdr [recordHeader]byte
		n, err := io.ReadFull(r, hdr[:])
		if err == io.EOF {
			return recs, heads, good, false, verifyLast(recs, pk)
		}
		if err == io.ErrUnexpectedEOF {
			return recs, heads, good, n > 0, verifyLast(recs, pk)
		}
		if err != nil {
			return nil, nil, 0, false, fmt.Errorf("witness: reading %s: %w", LogFile, err)
		}
		l := binary.BigEndian.Uint32(hdr[:])
		if l == 0 || int(l) > maxEncodedBytes {
			return nil, nil, 0, false, fmt.Errorf("%w: record %d at byte %d: length %d", ErrLogCorrupt, len(recs)+1, good, l)
		}
		rec := make([]byte, l+32)
		if _, err := io.ReadFull(r, rec); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				return recs, heads, good, true, verifyLast(recs, pk)
			}
			return nil, nil, 0, false, fmt.Errorf("witness: reading %s: %w", LogFile, err)
		}
		body, link := rec[:l], block.Hash(rec[l:])
		i := len(recs) + 1
		c, err := DecodeCosignature(body)
		if err != nil {
			return nil, nil, 0, false, fmt.Errorf("%w: record %d: %w", ErrLogCorrupt, i, err)
		}
		if !bytes.Equal(c.Key, pk.Key) || c.Name != pk.Name {
			return nil, nil, 0, false, fmt.Errorf("%w: record %d: made by %q (key %s), not this witness", ErrLogCorrupt, i, c.Name, Fingerprint(c.Key))
		}
		if c.Statement != Latest || (len(recs) > 0 && c.Height <= recs[len(recs)-1].Height) {
			return nil, nil, 0, false, fmt.Errorf("%w: record %d (block %d) does not move up from record %d", ErrLogCorrupt, i, c.Height, i-1)
		}
		next := chainNext(heads[len(heads)-1], body)
		if next != link {
			return nil, nil, 0, false, fmt.Errorf("%w: record %d breaks the hash chain", ErrLogCorrupt, i)
		}
		recs, heads = append(recs, c), append(heads, next)
		good += int64(recordHeader) + int64(l) + 32
	}
}

// verifyLast checks the signature of the log's last record (the one the
// witness resumes from). Earlier records are bound by the hash chain and
// the state file's head; re-verifying every signature at start would cost
// ~50 µs per record and adds nothing against someone who can edit the
// home, which also holds the key.
func verifyLast(recs []*Cosignature, pk PublicKey) error {
	if len(recs) == 0 {
		return nil
	}
	if err := recs[len(recs)-1].VerifyBy(pk); err != nil {
		return fmt.Errorf("%w: record %d: %w", ErrLogCorrupt, len(recs), err)
	}
	return nil
}

// Latest is the newest cosigned statement (nil before the first).
func (s *Store) Latest() *Cosignature { return s.st.Latest }

// Count is the number of checkpoints cosigned as Latest.
func (s *Store) Count() uint64 { return s.st.Count }

// Chain is the chain id and genesis hash the witness is bound to ("" and
// zero before its first serve).
func (s *Store) Chain() (string, block.Hash) { return s.st.ChainID, s.st.GenesisHash }

// Bind ties the witness to the chain of g on first use, and refuses
// another chain afterwards.
//
// # Errors
//
// ErrChainMismatch naming both chains.
func (s *Store) Bind(g *genesis.Genesis) error {
	gh := g.Hash()
	if s.st.ChainID != "" {
		if s.st.ChainID != g.ChainID || s.st.GenesisHash != gh {
			return fmt.Errorf("%w: it follows chain %q (genesis %s), the genesis file is of chain %q (genesis %s)",
				ErrChainMismatch, s.st.ChainID, s.st.GenesisHash, g.ChainID, gh)
		}
		return nil
	}
	if s.readOnly {
		return errors.New("witness: store opened read-only (Inspect)")
	}
	next := *s.st
	next.ChainID, next.GenesisHash = g.ChainID, gh
	if err := writeState(s.dir, &next); err != nil {
		return err
	}
	s.st = &next
	return nil
}

// Append records c as the new latest statement: the log record is written
// and fsynced, then the state file replaced atomically. Only after it
// returns may c be handed out.
func (s *Store) Append(c *Cosignature) error {
	if s.log == nil || s.readOnly {
		return errors.New("witness: store is closed or read-only")
	}
	body := c.Encode()
	head := chainNext(s.st.Head, body)
	rec := make([]byte, 0, recordHeader+len(body)+32)
	rec = binary.BigEndian.AppendUint32(rec, uint32(len(body)))
	rec = append(append(rec, body...), head[:]...)
	if _, err := s.log.Write(rec); err != nil {
		s.cut()
		return fmt.Errorf("witness: appending to %s: %w", LogFile, err)
	}
	if err := s.log.Sync(); err != nil {
		s.cut()
		return fmt.Errorf("witness: syncing %s: %w", LogFile, err)
	}
	next := *s.st
	next.Count, next.Head, next.Latest = s.st.Count+1, head, c
	if err := writeState(s.dir, &next); err != nil {
		// The log holds the record: the next Open rolls the state
		// forward. The caller must not hand c out; refuse further use.
		s.Close()
		return err
	}
	s.st, s.size = &next, s.size+int64(len(rec))
	return nil
}

// cut removes a partly written record after a failed append, and closes
// the store if it cannot.
func (s *Store) cut() {
	if err := s.log.Truncate(s.size); err != nil {
		s.Close()
		return
	}
	_, _ = s.log.Seek(s.size, io.SeekStart)
}

// Close releases the log file and its lock.
func (s *Store) Close() error {
	if s.log == nil {
		return nil
	}
	if s.unlock != nil {
		s.unlock()
	}
	err := s.log.Close()
	s.log = nil
	return err
}
