package block

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

// HeaderVersion is the current header encoding version.
const HeaderVersion = 1

// MaxBlockTxs bounds the transactions in one block.
const MaxBlockTxs = 10000

// MaxBlockBytes bounds an encoded block (header, transactions, metadata and
// certificate). It is above SmartBFT's batch byte limit set in genesis.
const MaxBlockBytes = 64 << 20

// Header is a block header. Its canonical encoding, field by field:
//
//	version          1 byte, = 1
//	chain id         uvarint length + bytes (≤ 64)
//	height           8 bytes big-endian (genesis state is height 0; the first block is 1)
//	previous hash    32 bytes (zero for block 1)
//	proposer         8 bytes big-endian validator id
//	time             8 bytes big-endian, Unix milliseconds UTC (the proposer's clock)
//	tx count         uvarint
//	tx root          32 bytes, RFC 9162 Merkle tree hash over the transaction hashes
//	state root       32 bytes, state commitment after the previous block
//	log size         8 bytes big-endian, record-log size after the previous block
//	log root         32 bytes, record-log root after the previous block
//	validators hash  32 bytes, hash of the validator set that certifies this block
//
// The block hash is SHA-256 of the header encoding. The state root and
// record log after block H are committed by header H+1 (execution follows
// ordering), so a checkpoint for height H is the certified header H+1.
type Header struct {
	ChainID        string
	Height         uint64
	PrevHash       Hash
	Proposer       uint64
	TimeUnixMilli  int64
	TxCount        uint64
	TxRoot         Hash
	StateRoot      Hash
	LogSize        uint64
	LogRoot        Hash
	ValidatorsHash Hash
}

// Encode returns the canonical encoding.
func (h *Header) Encode() []byte {
	var w Writer
	w.Grow(1 + binary.MaxVarintLen64 + len(h.ChainID) + 8 + HashSize + 8 + 8 + binary.MaxVarintLen64 + 2*HashSize + 8 + 2*HashSize)
	w.Byte(HeaderVersion)
	w.String(h.ChainID)
	w.Uint64(h.Height)
	w.Fixed(h.PrevHash[:])
	w.Uint64(h.Proposer)
	w.Int64(h.TimeUnixMilli)
	w.Uvarint(h.TxCount)
	w.Fixed(h.TxRoot[:])
	w.Fixed(h.StateRoot[:])
	w.Uint64(h.LogSize)
	w.Fixed(h.LogRoot[:])
	w.Fixed(h.ValidatorsHash[:])
	return w.Bytes()
}

// Hash returns the block hash: SHA-256 of the header encoding.
func (h *Header) Hash() Hash { return Sum(h.Encode()) }

// DecodeHeader decodes a canonical header.
func DecodeHeader(b []byte) (*Header, error) {
	r := NewReader(b)
	h := readHeader(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return h, nil
}

func readHeader(r *Reader) *Header {
	if v := r.Byte("header version"); r.Err() == nil && v != HeaderVersion {
		r.Fail(fmt.Errorf("header version %d: %w", v, ErrBadVersion))
	}
	h := &Header{}
	h.ChainID = r.String(MaxChainIDBytes, "chain id")
	h.Height = r.Uint64("height")
	h.PrevHash = r.Hash("previous hash")
	h.Proposer = r.Uint64("proposer")
	h.TimeUnixMilli = r.Int64("time")
	h.TxCount = r.Uvarint("tx count")
	if r.Err() == nil && h.TxCount > MaxBlockTxs {
		r.Fail(fmt.Errorf("tx count %d, limit %d: %w", h.TxCount, MaxBlockTxs, ErrTooLarge))
	}
	h.TxRoot = r.Hash("tx root")
	h.StateRoot = r.Hash("state root")
	h.LogSize = r.Uint64("log size")
	h.LogRoot = r.Hash("log root")
	h.ValidatorsHash = r.Hash("validators hash")
	return h
}

// EncodeTxs encodes a transaction list: uvarint count ‖ each as uvarint length + bytes.
func EncodeTxs(txs [][]byte) []byte {
	var w Writer
	w.Grow(txsSize(txs))
	writeTxs(&w, txs)
	return w.Bytes()
}

func writeTxs(w *Writer, txs [][]byte) {
	w.Uvarint(uint64(len(txs)))
	for _, tx := range txs {
		w.VarBytes(tx)
	}
}

// txsSize bounds the size of EncodeTxs(txs) (varints at their longest).
func txsSize(txs [][]byte) int {
	n := binary.MaxVarintLen64
	for _, tx := range txs {
		n += binary.MaxVarintLen64 + len(tx)
	}
	return n
}

// DecodeTxs decodes a transaction list; each element is returned raw (not decoded).
func DecodeTxs(b []byte) ([][]byte, error) {
	if len(b) > MaxBlockBytes {
		return nil, fmt.Errorf("transaction list of %d bytes: %w", len(b), ErrTooLarge)
	}
	r := NewReader(b)
	txs := readTxs(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("transaction list: %w", err)
	}
	return txs, nil
}

// DecodeTxsShared is DecodeTxs without copying: each transaction is a
// slice of b (capped at its end), valid while b is and wrong if b
// changes. For a list whose bytes are never modified, such as a
// consensus proposal's payload.
func DecodeTxsShared(b []byte) ([][]byte, error) {
	if len(b) > MaxBlockBytes {
		return nil, fmt.Errorf("transaction list of %d bytes: %w", len(b), ErrTooLarge)
	}
	r := &Reader{buf: b, alias: true}
	txs := readTxs(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("transaction list: %w", err)
	}
	return txs, nil
}

func readTxs(r *Reader) [][]byte {
	n := r.Count(MaxBlockTxs, "transactions")
	txs := make([][]byte, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		txs = append(txs, r.varBytesAt(MaxTxBytes, "transaction", i))
	}
	return txs
}

// TxRoot computes the RFC 9162 Merkle tree hash over the hashes of raw transactions.
func TxRoot(txs [][]byte) Hash {
	leaves := make([]Hash, len(txs))
	for i, tx := range txs {
		leaves[i] = Sum(tx)
	}
	return MerkleRoot(leaves)
}

// MerkleRoot is the RFC 9162 (section 2.1.1) Merkle tree hash over leaf
// data: MTH({}) = SHA-256(), leaf = SHA-256(0x00 ‖ d), node = SHA-256(0x01 ‖ l ‖ r),
// splitting at the largest power of two below n. The record log in
// chain/proof uses the same hashing (via transparency-dev/merkle) and its
// tests cross-check this function.
func MerkleRoot(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return Sum(nil)
	}
	level := make([]Hash, len(leaves))
	var in [1 + HashSize]byte // 0x00 ‖ leaf
	for i := range leaves {
		copy(in[1:], leaves[i][:])
		level[i] = Sum(in[:])
	}
	return mth(level)
}

func mth(nodes []Hash) Hash {
	if len(nodes) == 1 {
		return nodes[0]
	}
	k := 1
	for k*2 < len(nodes) {
		k *= 2
	}
	l, r := mth(nodes[:k]), mth(nodes[k:])
	buf := make([]byte, 0, 1+2*HashSize)
	buf = append(buf, 1)
	buf = append(buf, l[:]...)
	buf = append(buf, r[:]...)
	return Sum(buf)
}

// Block is a header and its transactions (raw canonical encodings).
type Block struct {
	Header Header
	Txs    [][]byte
}

// Hash returns the block hash (the header hash).
func (b *Block) Hash() Hash { return b.Header.Hash() }

// CheckBody checks that the transactions match the header's count and root.
func (b *Block) CheckBody() error {
	if uint64(len(b.Txs)) != b.Header.TxCount {
		return fmt.Errorf("block %d: header counts %d transactions, body has %d", b.Header.Height, b.Header.TxCount, len(b.Txs))
	}
	if got := TxRoot(b.Txs); got != b.Header.TxRoot {
		return fmt.Errorf("block %d: transaction root %s, header says %s", b.Header.Height, got, b.Header.TxRoot)
	}
	return nil
}

// Vote is what a validator signs to commit a block. Encoding:
//
//	"trialchain/vote/v1\x00" ‖ chain id string ‖ height 8 ‖ block hash 32 ‖
//	metadata hash 32 ‖ verification sequence 8 ‖ aux bytes(≤64 KiB)
//
// Metadata is the consensus library's view metadata of the proposal; aux is
// the library's auxiliary input. A Vote is the Msg of a SmartBFT signature,
// so an offline verifier needs only the header and the genesis validator keys.
type Vote struct {
	ChainID      string
	Height       uint64
	BlockHash    Hash
	MetadataHash Hash
	VerSeq       uint64
	Aux          []byte
}

const voteDomain = "trialchain/vote/v1\x00"

// Encode returns the canonical encoding (the signed message).
func (v *Vote) Encode() []byte {
	w := Writer{buf: []byte(voteDomain)}
	w.String(v.ChainID)
	w.Uint64(v.Height)
	w.Fixed(v.BlockHash[:])
	w.Fixed(v.MetadataHash[:])
	w.Uint64(v.VerSeq)
	w.VarBytes(v.Aux)
	return w.Bytes()
}

// DecodeVote decodes a Vote.
func DecodeVote(b []byte) (*Vote, error) {
	if len(b) < len(voteDomain) || string(b[:len(voteDomain)]) != voteDomain {
		return nil, fmt.Errorf("vote: missing domain prefix: %w", ErrBadVersion)
	}
	r := NewReader(b[len(voteDomain):])
	v := &Vote{}
	v.ChainID = r.String(MaxChainIDBytes, "chain id")
	v.Height = r.Uint64("height")
	v.BlockHash = r.Hash("block hash")
	v.MetadataHash = r.Hash("metadata hash")
	v.VerSeq = r.Uint64("verification sequence")
	v.Aux = r.VarBytes(64<<10, "aux")
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("vote: %w", err)
	}
	return v, nil
}

// CommitSig is one validator's signature in a commit certificate.
// Msg is an encoded Vote; Sig is ed25519 over Msg.
type CommitSig struct {
	Validator uint64
	Msg       []byte
	Sig       []byte
}

// Certificate is the 2f+1 validator signatures that commit a block.
type Certificate struct {
	Sigs []CommitSig
}

// MaxCertSigs bounds the signatures in a certificate.
const MaxCertSigs = 256

func (c *Certificate) write(w *Writer) {
	w.Uvarint(uint64(len(c.Sigs)))
	for _, s := range c.Sigs {
		w.Uint64(s.Validator)
		w.VarBytes(s.Msg)
		w.VarBytes(s.Sig)
	}
}

func readCert(r *Reader) Certificate {
	n := r.Count(MaxCertSigs, "certificate signatures")
	c := Certificate{Sigs: make([]CommitSig, 0, n)}
	for i := 0; i < n && r.Err() == nil; i++ {
		c.Sigs = append(c.Sigs, CommitSig{
			Validator: r.Uint64("signer"),
			Msg:       r.VarBytes(70<<10, "signed message"),
			Sig:       r.VarBytes(ed25519.SignatureSize, "signature"),
		})
	}
	return c
}

// Committed is a block as stored and synced: the block, the consensus
// metadata of its proposal and its commit certificate. Encoding:
//
//	version 1 byte ‖ header bytes ‖ transaction list ‖ metadata bytes(≤64 KiB) ‖
//	verification sequence 8 ‖ certificate (uvarint count ‖ each: validator 8 ‖ msg bytes ‖ sig bytes)
type Committed struct {
	Block    Block
	Metadata []byte
	VerSeq   uint64
	Cert     Certificate
}

// Encode returns the canonical encoding.
func (c *Committed) Encode() []byte {
	var w Writer
	header := c.Block.Header.Encode()
	n := 1 + binary.MaxVarintLen64 + len(header) + txsSize(c.Block.Txs) + binary.MaxVarintLen64 + len(c.Metadata) + 8 + binary.MaxVarintLen64
	for _, s := range c.Cert.Sigs {
		n += 8 + 2*binary.MaxVarintLen64 + len(s.Msg) + len(s.Sig)
	}
	w.Grow(n) // one allocation for a block of any size
	w.Byte(1)
	w.VarBytes(header)
	writeTxs(&w, c.Block.Txs)
	w.VarBytes(c.Metadata)
	w.Uint64(c.VerSeq)
	c.Cert.write(&w)
	return w.Bytes()
}

// DecodeCommitted decodes a committed block and checks its body against its header.
func DecodeCommitted(b []byte) (*Committed, error) {
	return decodeCommitted(NewReader(b))
}

// DecodeCommittedShared is DecodeCommitted without copying: the block's
// transactions, metadata and certificate are slices of b, valid while b
// is (and wrong if b changes). It serves a stored block without holding
// it twice in memory.
func DecodeCommittedShared(b []byte) (*Committed, error) {
	return decodeCommitted(&Reader{buf: b, alias: true})
}

// CommittedTx returns a copy of transaction index of the committed block
// encoded in b, reading only what precedes it: the block's other
// transactions are neither copied nor hashed, and its body is not checked
// against its header (the caller checks the transaction it asked for,
// e.g. by its hash). A lookup then costs the size of one transaction, not
// of a block of up to MaxBlockBytes.
//
// # Errors
//
// A malformed encoding, or an index beyond the block's transactions.
func CommittedTx(b []byte, index uint64) ([]byte, error) {
	if len(b) > MaxBlockBytes {
		return nil, fmt.Errorf("committed block of %d bytes: %w", len(b), ErrTooLarge)
	}
	r := &Reader{buf: b, alias: true}
	if v := r.Byte("version"); r.Err() == nil && v != 1 {
		return nil, fmt.Errorf("committed block version %d: %w", v, ErrBadVersion)
	}
	r.VarBytes(4096, "header")
	n := r.Count(MaxBlockTxs, "transactions")
	if r.Err() == nil && index >= uint64(n) {
		return nil, fmt.Errorf("committed block: no transaction %d (it holds %d)", index, n)
	}
	var tx []byte
	for i := uint64(0); i <= index && r.Err() == nil; i++ {
		tx = r.varBytesAt(MaxTxBytes, "transaction", int(i))
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("committed block: %w", err)
	}
	return bytes.Clone(tx), nil
}

func decodeCommitted(r *Reader) (*Committed, error) {
	if len(r.buf) > MaxBlockBytes {
		return nil, fmt.Errorf("committed block of %d bytes: %w", len(r.buf), ErrTooLarge)
	}
	if v := r.Byte("version"); r.Err() == nil && v != 1 {
		return nil, fmt.Errorf("committed block version %d: %w", v, ErrBadVersion)
	}
	hb := r.VarBytes(4096, "header")
	c := &Committed{}
	if r.Err() == nil {
		h, err := DecodeHeader(hb)
		if err != nil {
			return nil, fmt.Errorf("committed block: %w", err)
		}
		c.Block.Header = *h
	}
	c.Block.Txs = readTxs(r)
	c.Metadata = r.VarBytes(64<<10, "metadata")
	c.VerSeq = r.Uint64("verification sequence")
	c.Cert = readCert(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("committed block: %w", err)
	}
	if err := c.Block.CheckBody(); err != nil {
		return nil, err
	}
	return c, nil
}
