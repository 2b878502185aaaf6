// Package genesis owns the genesis file: the chain id, the validators (id,
// ed25519 key, QUIC and API addresses), the initial members (key,
// organisation, role) and the consensus parameters. Every node and every
// offline verifier starts from it; its hash commits to all of it.
//
// # Usage
//
//	g, err := genesis.Load("net/genesis.json") // parse + Validate
//	vals := g.ValidatorSet()                   // what certifies blocks
//	h := g.Hash()                              // canonical commitment
package genesis

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/trialchain/trialchain/chain/block"
)

// MaxFileBytes bounds a genesis file.
const MaxFileBytes = 1 << 20

// Key is an ed25519 public key written as hex in JSON.
type Key ed25519.PublicKey

// MarshalText encodes hex.
func (k Key) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(k)), nil }

// UnmarshalText decodes hex and checks the length.
func (k *Key) UnmarshalText(b []byte) error {
	raw, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("genesis: key %q: %w", b, err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return fmt.Errorf("genesis: key %q has %d bytes, want %d", b, len(raw), ed25519.PublicKeySize)
	}
	*k = raw
	return nil
}

// String returns hex.
func (k Key) String() string { return hex.EncodeToString(k) }

// Duration is a time.Duration written as "2s" in JSON.
type Duration time.Duration

// MarshalText encodes e.g. "1.5s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses e.g. "1.5s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("genesis: duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}

// Validator is a consensus node.
type Validator struct {
	ID   uint64 `json:"id"`   // > 0, unique (SmartBFT node id)
	Name string `json:"name"` // e.g. "node0"
	Key  Key    `json:"key"`  // pinned transport and signing key
	Addr string `json:"addr"` // QUIC (UDP) address peers dial
	API  string `json:"api"`  // client API address (HTTP over TCP; HTTP/3 on the same port over UDP)
}

// Member is an initial member.
type Member struct {
	Name string     `json:"name"`
	Org  string     `json:"org"`
	Role block.Role `json:"role"`
	Key  Key        `json:"key"`
}

// Params are the consensus and execution parameters every validator must
// share. Each value is sized on purpose; see DefaultParams.
type Params struct {
	// RequestMaxBytes is the largest transaction the request pool accepts.
	// SmartBFT's default (10 KiB) cannot carry a contract; a Go wasip1
	// contract is about 1.8 MB, so it equals block.MaxTxBytes (4 MiB + 1 KiB).
	RequestMaxBytes uint64 `json:"request_max_bytes"`
	// BatchMaxCount is the most transactions per block. Throughput goal is
	// thousands of tx/s; with ~50-100 blocks/s on a LAN 1,000 per batch keeps
	// the per-block overhead (two consensus rounds, one synced write) small.
	BatchMaxCount uint64 `json:"batch_max_count"`
	// BatchMaxBytes caps a block's transactions; it must hold at least one
	// request of RequestMaxBytes. The default is one maximal request plus
	// 1 MiB: a block carries at most one large contract upload. This bounds
	// SmartBFT's view-change messages, which carry the last decided block
	// and the in-flight proposal from a quorum of validators (the transport's
	// frame cap is sized from it; see chain/node).
	BatchMaxBytes uint64 `json:"batch_max_bytes"`
	// BatchMaxInterval is how long the leader waits to fill a batch:
	// SmartBFT's leader, each time it may propose (after the previous
	// decision's Deliver), waits this long unless BatchMaxCount requests
	// (or BatchMaxBytes) are pending, and then proposes what is pending.
	// Below BatchMaxCount it waits in full at every block, so it adds to
	// every transaction's latency and to the block period under any load
	// short of full blocks. The requests that arrived during the previous
	// decision are already pending, so the wait need only catch a burst
	// under way: 5 ms, a little over the followers' forward delay (2 ms,
	// chain/consensus), so a frame from each is in. Shorter, blocks under
	// light load shrink to a handful of transactions and each costs every
	// validator its fixed CPU (SmartBFT's three phases with signatures
	// and WAL syncs, a synced store write: ~2 ms on the 2-core bench
	// machine); 2 ms raised CPU per transaction by a third at 1,000 tx/s.
	// It was 20 ms, a fifth of the block period at 80% of peak load
	// (issue 15).
	BatchMaxInterval Duration `json:"batch_max_interval"`
	// RequestPoolSize bounds pending transactions per node (≥ 2 × BatchMaxCount).
	RequestPoolSize uint64 `json:"request_pool_size"`
	// RequestForwardTimeout: a follower forwards a pending request to the
	// leader after this long; RequestComplainTimeout later it complains
	// (view change); RequestAutoRemoveTimeout later it drops it.
	// Forward ≤ Complain ≤ AutoRemove.
	RequestForwardTimeout    Duration `json:"request_forward_timeout"`
	RequestComplainTimeout   Duration `json:"request_complain_timeout"`
	RequestAutoRemoveTimeout Duration `json:"request_auto_remove_timeout"`
	// LeaderHeartbeatTimeout: followers start a view change when the leader
	// is silent this long. The leader sends a heartbeat every
	// LeaderHeartbeatTimeout/LeaderHeartbeatCount from its own goroutine,
	// also while it executes a block in Deliver, so a slow block does not
	// make a live leader look dead.
	//
	// Sizing for a LAN (defaults): a crashed or paused leader is suspected
	// after 5 s, the view change completes in about a round trip, so commits
	// resume within 10 s. A request that stays pending is forwarded after
	// 2 s and the leader is accused of censorship after 15 s more: this
	// timer, unlike the heartbeat, runs while Deliver executes, so it is
	// kept above the longest Deliver we expect. Until contract compilation
	// leaves Deliver (the VM issue), a 4 MB Go contract deployment compiles
	// there (about 4 s on one idle core; tens of seconds measured with 4
	// validators on 2 busy cores): such a deployment may cost one view
	// change (seconds) on a loaded machine, never a stall, because the
	// compiled module is cached by code hash and the re-proposed block
	// executes fast.
	//
	// The view-change timeout (2 s) bounds a view change that cannot
	// complete: its next leader is down or restarting, or is behind and
	// refuses the others' view data; the replicas then catch up and try
	// the next view. SmartBFT v1.0.1 multiplies it by 1, 2, 3, … for each
	// timeout in a row until a view is installed, so three failed view
	// changes in a row cost 2+4+6 s: with 10 s (the earlier default) one
	// failure cost 10 s and two 30 s, the crash loop's 19–33 s stalls. A
	// view change on a LAN completes in well under a second, also on the
	// loaded 2-core test machine; one that is slower times out, and the
	// growing timeout lets a later attempt finish. Resends every 1 s cover
	// lost view-change messages (and undecided proposal messages, see
	// chain/consensus).
	LeaderHeartbeatTimeout Duration `json:"leader_heartbeat_timeout"`
	LeaderHeartbeatCount   uint64   `json:"leader_heartbeat_count"`
	// ViewChangeResendInterval ≤ ViewChangeTimeout.
	ViewChangeResendInterval Duration `json:"view_change_resend_interval"`
	ViewChangeTimeout        Duration `json:"view_change_timeout"`
	// CollectTimeout bounds the state-transfer round on start and sync
	// (SmartBFT asks every peer for its view and sequence and waits for
	// f+1 equal answers). In the crash loop a restarted replica waited the
	// whole round at nearly every start (why the answers did not agree in
	// time was not traced), before taking part: 1.0 s of each restart with
	// the earlier default of 1 s; with 300 ms, 0.33–1.16 s from the disk
	// check to "node started", most under 0.5 s.
	CollectTimeout Duration `json:"collect_timeout"`
	// DecisionsPerLeader rotates the leader after this many blocks (0: no rotation).
	DecisionsPerLeader uint64 `json:"decisions_per_leader"`
	// MaxClockSkew is how far a proposal's timestamp may run ahead of a
	// follower's clock before it refuses to sign.
	MaxClockSkew Duration `json:"max_clock_skew"`
	// MaxTxGas caps the gas limit of one transaction.
	MaxTxGas uint64 `json:"max_tx_gas"`
	// BlockGasLimit caps the sum of the gas limits of a block's
	// transactions: the leader never proposes more and followers refuse a
	// proposal that does, so no block executes longer than this much gas
	// (≥ max_tx_gas). One unit is about a nanosecond with the compiler (1e9
	// gas of a loop ran in 1.1 s on the 2-core test machine), so the
	// default, 4e9, bounds a block's execution to about 4.5 s on that
	// machine, under the view-change timers.
	BlockGasLimit uint64 `json:"block_gas_limit"`
	// CodeActivationDelay is how long after its deploy or upgrade block
	// (block time) new contract code starts to run. Meanwhile every node
	// compiles it in the background, so no block waits for a compiler
	// (vm/RATIONALE.md). Sized from the compile time of the largest example
	// contract (4 MB trial-protocol: 2.5–7 s with wazero's compiler on the
	// 2-core test machine, depending on load) and the chance that a
	// validator starts compiling only when it sees the deploy block. 0
	// activates at once: the first call then compiles (tests only).
	CodeActivationDelay Duration `json:"code_activation_delay"`
	// ValidatorGroup is the 64-hex id of the consent group of the
	// validator organisations: a validator transaction (add or remove a
	// validator) needs its threshold consent. The group is made offline
	// before the genesis (its id is the hash of its public material) and
	// registered on chain like any group. Empty: the set never changes.
	ValidatorGroup string `json:"validator_group,omitempty"`
}

// DefaultParams are tuned for a local or LAN network (see each field).
func DefaultParams() Params {
	return Params{
		RequestMaxBytes:          block.MaxTxBytes,
		BatchMaxCount:            1000,
		BatchMaxBytes:            block.MaxTxBytes + 1<<20,
		BatchMaxInterval:         Duration(5 * time.Millisecond),
		RequestPoolSize:          20000,
		RequestForwardTimeout:    Duration(2 * time.Second),
		RequestComplainTimeout:   Duration(15 * time.Second),
		RequestAutoRemoveTimeout: Duration(2 * time.Minute),
		LeaderHeartbeatTimeout:   Duration(5 * time.Second),
		LeaderHeartbeatCount:     10,
		ViewChangeResendInterval: Duration(1 * time.Second),
		ViewChangeTimeout:        Duration(2 * time.Second),
		CollectTimeout:           Duration(300 * time.Millisecond),
		DecisionsPerLeader:       0,
		MaxClockSkew:             Duration(10 * time.Second),
		MaxTxGas:                 1_000_000_000,
		BlockGasLimit:            4_000_000_000,
		CodeActivationDelay:      Duration(8 * time.Second),
	}
}

// Genesis is the file every node and verifier starts from.
type Genesis struct {
	ChainID    string      `json:"chain_id"`
	Time       time.Time   `json:"genesis_time"`
	Validators []Validator `json:"validators"`
	Members    []Member    `json:"members"`
	Params     Params      `json:"params"`
}

// Parse decodes and validates a genesis file's bytes. Unknown fields are refused.
func Parse(b []byte) (*Genesis, error) {
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("genesis: file of %d bytes, limit %d", len(b), MaxFileBytes)
	}
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	g := &Genesis{}
	if err := dec.Decode(g); err != nil {
		return nil, fmt.Errorf("genesis: decode: %w", err)
	}
	if dec.More() {
		return nil, errors.New("genesis: trailing data after the JSON object")
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// Load reads, parses and validates a genesis file.
func Load(path string) (*Genesis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	g, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Save writes the genesis file (atomically: temp file, sync, rename).
func (g *Genesis) Save(path string) error {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return fmt.Errorf("genesis: encode: %w", err)
	}
	return WriteFileAtomic(path, append(b, '\n'), 0o644)
}

// Validate checks the file's internal consistency.
func (g *Genesis) Validate() error {
	if g.ChainID == "" || len(g.ChainID) > block.MaxChainIDBytes {
		return fmt.Errorf("genesis: chain_id must be 1..%d bytes", block.MaxChainIDBytes)
	}
	if n := len(g.Validators); n < 1 || n > block.MaxCertSigs {
		return fmt.Errorf("genesis: %d validators, want 1..%d", n, block.MaxCertSigs)
	}
	ids, keys := map[uint64]bool{}, map[string]bool{}
	for i, v := range g.Validators {
		switch {
		case v.ID == 0:
			return fmt.Errorf("genesis: validator %d: id must be > 0", i)
		case ids[v.ID]:
			return fmt.Errorf("genesis: validator id %d appears twice", v.ID)
		case len(v.Key) != ed25519.PublicKeySize:
			return fmt.Errorf("genesis: validator %d: missing key", v.ID)
		case keys[string(v.Key)]:
			return fmt.Errorf("genesis: validator %d: key used twice", v.ID)
		case v.Addr == "":
			return fmt.Errorf("genesis: validator %d: missing addr", v.ID)
		}
		ids[v.ID], keys[string(v.Key)] = true, true
	}
	admins := 0
	mkeys := map[string]bool{}
	for i, m := range g.Members {
		if len(m.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("genesis: member %d (%s): missing key", i, m.Name)
		}
		if !m.Role.Valid() {
			return fmt.Errorf("genesis: member %d (%s): unknown role", i, m.Name)
		}
		if mkeys[string(m.Key)] {
			return fmt.Errorf("genesis: member %s: key used twice", m.Name)
		}
		if len(m.Name) > block.MaxNameBytes || len(m.Org) > block.MaxNameBytes {
			return fmt.Errorf("genesis: member %d: name or org over %d bytes", i, block.MaxNameBytes)
		}
		mkeys[string(m.Key)] = true
		if m.Role == block.RoleAdmin {
			admins++
		}
	}
	if admins == 0 {
		return errors.New("genesis: no member has the admin role; nobody could register members")
	}
	return g.Params.Validate()
}

// Validate checks the parameter relations documented on Params.
func (p Params) Validate() error {
	if p.ValidatorGroup != "" {
		if _, err := block.ParseHash(p.ValidatorGroup); err != nil {
			return fmt.Errorf("genesis: validator_group: %w", err)
		}
	}
	switch {
	case p.RequestMaxBytes == 0 || p.RequestMaxBytes > block.MaxTxBytes:
		return fmt.Errorf("genesis: request_max_bytes must be 1..%d", block.MaxTxBytes)
	case p.BatchMaxCount == 0 || p.BatchMaxCount > block.MaxBlockTxs:
		return fmt.Errorf("genesis: batch_max_count must be 1..%d", block.MaxBlockTxs)
	case p.BatchMaxBytes < p.RequestMaxBytes || p.BatchMaxBytes > block.MaxBlockBytes/2:
		return fmt.Errorf("genesis: batch_max_bytes must be between request_max_bytes and %d", block.MaxBlockBytes/2)
	case p.RequestPoolSize < 2*p.BatchMaxCount:
		return errors.New("genesis: request_pool_size must be at least 2 × batch_max_count")
	case p.BatchMaxInterval <= 0:
		return errors.New("genesis: batch_max_interval must be > 0")
	case !(0 < p.RequestForwardTimeout && p.RequestForwardTimeout <= p.RequestComplainTimeout && p.RequestComplainTimeout <= p.RequestAutoRemoveTimeout):
		return errors.New("genesis: need 0 < request_forward_timeout ≤ request_complain_timeout ≤ request_auto_remove_timeout")
	case p.LeaderHeartbeatTimeout <= 0 || p.LeaderHeartbeatCount == 0:
		return errors.New("genesis: leader_heartbeat_timeout and leader_heartbeat_count must be > 0")
	case !(0 < p.ViewChangeResendInterval && p.ViewChangeResendInterval <= p.ViewChangeTimeout):
		return errors.New("genesis: need 0 < view_change_resend_interval ≤ view_change_timeout")
	case p.CollectTimeout <= 0:
		return errors.New("genesis: collect_timeout must be > 0")
	case p.MaxClockSkew <= 0:
		return errors.New("genesis: max_clock_skew must be > 0")
	case p.MaxTxGas == 0:
		return errors.New("genesis: max_tx_gas must be > 0")
	case p.BlockGasLimit < p.MaxTxGas:
		return errors.New("genesis: block_gas_limit must be at least max_tx_gas")
	case p.CodeActivationDelay < 0 || p.CodeActivationDelay > Duration(time.Hour):
		return errors.New("genesis: code_activation_delay must be between 0 and 1h")
	}
	return nil
}

// F is the number of Byzantine validators tolerated: n = 3f+1.
func (g *Genesis) F() int { return (len(g.Validators) - 1) / 3 }

// Quorum is the number of validator signatures that commit a block. It is
// SmartBFT's quorum, ⌈(n+f+1)/2⌉, which is 2f+1 when n = 3f+1.
func (g *Genesis) Quorum() int {
	n, f := len(g.Validators), g.F()
	return (n + f + 2) / 2
}

// Validator returns the validator with id.
func (g *Genesis) Validator(id uint64) (Validator, bool) {
	for _, v := range g.Validators {
		if v.ID == id {
			return v, true
		}
	}
	return Validator{}, false
}

// IDs returns the validator ids in ascending order.
func (g *Genesis) IDs() []uint64 {
	ids := make([]uint64, len(g.Validators))
	for i, v := range g.Validators {
		ids[i] = v.ID
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// ValidatorsHash commits to the validator set (ids and keys, in id order):
// SHA-256 of uvarint count ‖ each: id 8 ‖ key 32.
func (g *Genesis) ValidatorsHash() block.Hash { return g.Set().Hash() }

// Hash commits to the whole genesis: chain id, time, validators (with
// addresses), members and parameters in a canonical binary encoding.
func (g *Genesis) Hash() block.Hash {
	var w block.Writer
	w.String("trialchain/genesis/v1")
	w.String(g.ChainID)
	w.Int64(g.Time.UnixMilli())
	w.Uvarint(uint64(len(g.Validators)))
	for _, v := range g.Validators {
		w.Uint64(v.ID)
		w.String(v.Name)
		w.Fixed(v.Key)
		w.String(v.Addr)
		w.String(v.API)
	}
	w.Uvarint(uint64(len(g.Members)))
	for _, m := range g.Members {
		w.String(m.Name)
		w.String(m.Org)
		w.Byte(byte(m.Role))
		w.Fixed(m.Key)
	}
	pj, _ := json.Marshal(g.Params) // fixed struct field order: deterministic
	w.VarBytes(pj)
	return block.Sum(w.Bytes())
}
