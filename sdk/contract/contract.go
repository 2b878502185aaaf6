package contract

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/trialchain/trialchain/sdk/jsonfast"
	"github.com/trialchain/trialchain/vm/abi"
)

// unmarshal decodes b into a zero *v: with v's hand-written decoder when
// it has one (jsonfast.Unmarshaler) and the bytes are as encoding/json
// writes them, otherwise (and from zero again) with encoding/json, so
// the result is always encoding/json's.
func unmarshal[T any](b []byte, v *T) error {
	if decodeFast(b, v) {
		return nil
	}
	var zero T
	*v = zero
	return json.Unmarshal(b, v)
}

// decodeFast decodes b into v without reflection and reports whether it
// could: v has a hand-written decoder (jsonfast.Unmarshaler), or is an
// int64 or a string (counters and ids) written as encoding/json writes
// them. false: v may be partly written; the caller decodes again with
// encoding/json from zero.
func decodeFast(b []byte, v any) bool {
	var f jsonfast.Unmarshaler
	switch p := v.(type) {
	case *int64:
		f = (*fastInt64)(p)
	case *string:
		f = (*fastString)(p)
	default:
		var ok bool
		if f, ok = asUnmarshaler(v); !ok {
			return false
		}
	}
	d := getDecoder()
	ok := jsonfast.DecodeWith(d, b, f)
	putDecoder(d)
	return ok
}

type (
	fastInt64  int64
	fastString string
)

func (p *fastInt64) UnmarshalJSONFast(d *jsonfast.Decoder)  { *p = fastInt64(d.Int()) }
func (p *fastString) UnmarshalJSONFast(d *jsonfast.Decoder) { *p = fastString(d.String()) }

// encodeFast returns v's encoding without reflection, and false when
// encoding/json must do it: v has a hand-written encoder
// (jsonfast.Marshaler), or is an int64 or a string that encoding/json
// writes as it is (no escapes).
func encodeFast(v any) ([]byte, bool) {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(scratch(20)[:0], x, 10), true
	case string:
		e := jsonfast.NewEncoder(scratch(len(x) + 2)[:0])
		e.String(x)
		return e.Bytes()
	case JSON:
		if x == nil {
			return []byte("null"), true // as json.RawMessage
		}
		return x, true
	}
	if f, ok := asMarshaler(v); ok {
		return jsonfast.EncodeTo(scratch(1024)[:0], f)
	}
	return nil, false
}

// asUnmarshaler and asMarshaler are the SDK's type assertions to the
// fast interfaces, each at one call site, so that Prepare, run during
// initialisation, leaves the runtime's itab for each prepared type and
// the call site's cache in the snapshot every call starts from: a call
// would otherwise build them again (tens of thousands of gas per call).
//
//go:noinline
func asUnmarshaler(v any) (jsonfast.Unmarshaler, bool) {
	f, ok := v.(jsonfast.Unmarshaler)
	return f, ok
}

//go:noinline
func asMarshaler(v any) (jsonfast.Marshaler, bool) {
	f, ok := v.(jsonfast.Marshaler)
	return f, ok
}

// JSON is a value's JSON encoding as the SDK writes it (see Encoded
// methods such as Map.CreateEncoded): returned by a method (Handle,
// ReturnJSON) or emitted (EmitJSON), it is written as it is, so a record
// stored and returned is encoded once.
type JSON []byte

// MarshalJSON implements json.Marshaler (a JSON inside a value encoded
// by encoding/json is that JSON, not base64; nil is null).
func (j JSON) MarshalJSON() ([]byte, error) {
	if j == nil {
		return []byte("null"), nil
	}
	return j, nil
}

// Input returns the raw call arguments.
func Input() []byte { return host.input() }

// Args decodes the call arguments, a JSON document, into v. Empty arguments
// leave v unchanged.
func Args(v any) error {
	in := Input()
	if len(in) == 0 {
		return nil
	}
	if err := json.Unmarshal(in, v); err != nil {
		return fmt.Errorf("contract: bad arguments: %w", err)
	}
	return nil
}

// Return sets the call's output (the last call wins).
func Return(b []byte) { host.setResult(b) }

// ReturnJSON sets the call's output to the JSON encoding of v.
func ReturnJSON(v any) {
	if b, ok := encodeFast(v); ok {
		Return(b)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		Abortf("contract: encode result: %v", err)
	}
	Return(b)
}

// Abort fails the call with msg: its state writes and events are discarded
// and the receipt records msg (at most abi.MaxAbortLen bytes). It does not
// return.
func Abort(msg string) { host.abort(msg) }

// Abortf is Abort with formatting.
func Abortf(format string, args ...any) { host.abort(fmt.Sprintf(format, args...)) }

// Prepare builds encoding/json's encoder and decoder of T (reflection,
// cached by type) by encoding and decoding a zero T. Called during
// initialisation (at package level, or in an init function), that work is
// done once at deploy and is part of the state every call starts from;
// otherwise every call pays it again, since each call starts from the
// state right after initialisation. NewValue and NewMap call it for their
// types; call it for the argument and result types of methods:
//
//	func init() { contract.Prepare[addArgs]() }
//
// Prepare also asks whether T and *T have hand-written encoders and
// decoders (sdk/jsonfast), so that the answers are in the snapshot too.
func Prepare[T any]() {
	var t T
	asMarshaler(t)
	var u T
	asUnmarshaler(&u)
	b, err := json.Marshal(t)
	if err != nil {
		return
	}
	_ = json.Unmarshal(b, &u)
}

// Handle runs a method body: arguments are decoded into a new A (JSON), fn
// runs, a non-nil error aborts the call with its message, and a non-nil
// result is returned as JSON. Use it as the whole body of a method:
//
//	//go:wasmexport add
//	func add() { contract.Handle(func(a addArgs) (any, error) { ... }) }
func Handle[A any](fn func(args A) (any, error)) {
	var a A
	if in := Input(); len(in) > 0 {
		if err := unmarshal(in, &a); err != nil {
			Abort(fmt.Errorf("contract: bad arguments: %w", err).Error())
		}
	}
	res, err := fn(a)
	if err != nil {
		Abort(err.Error())
	}
	if res != nil {
		ReturnJSON(res)
	}
}

// NoArgs is the argument type of a method that takes none.
type NoArgs struct{}

// Get returns the value stored under key in the contract's own state.
func Get(key []byte) ([]byte, bool) { return host.get(key) }

// Set stores value under key in the contract's own state.
func Set(key, value []byte) { host.set(key, value) }

// Delete removes key from the contract's own state.
func Delete(key []byte) { host.del(key) }

// Scan calls fn for every key with prefix in ascending order, until fn
// returns false. Pages of entries are fetched from the host as needed.
func Scan(prefix []byte, fn func(key, value []byte) bool) {
	var after []byte
	for {
		page := host.scan(prefix, after, 256)
		if len(page) == 0 {
			return
		}
		for len(page) > 0 {
			kn := binary.LittleEndian.Uint32(page)
			k := page[4 : 4+kn]
			page = page[4+kn:]
			vn := binary.LittleEndian.Uint32(page)
			v := page[4 : 4+vn]
			page = page[4+vn:]
			if !fn(k, v) {
				return
			}
			after = k
		}
		after = slices.Clone(after)
	}
}

// Value is a typed, JSON-encoded value under one key.
type Value[T any] struct{ key []byte }

// NewValue returns the value stored under key. It prepares T's JSON
// encoding (see Prepare).
func NewValue[T any](key string) Value[T] {
	Prepare[T]()
	return Value[T]{key: []byte(key)}
}

// Get returns the value, and false if it is not set.
func (v Value[T]) Get() (T, bool) {
	var t T
	b, ok := Get(v.key)
	if !ok {
		return t, false
	}
	if err := unmarshal(b, &t); err != nil {
		Abortf("contract: corrupt value %q: %v", v.key, err)
	}
	return t, true
}

// Set stores t.
func (v Value[T]) Set(t T) { Set(v.key, mustJSON(t)) }

// Delete removes the value.
func (v Value[T]) Delete() { Delete(v.key) }

// Map is a typed map of JSON-encoded values stored under name + "/" + key.
type Map[V any] struct{ prefix []byte }

// NewMap returns the map called name. It prepares V's JSON encoding (see
// Prepare).
func NewMap[V any](name string) Map[V] {
	Prepare[V]()
	return Map[V]{prefix: []byte(name + "/")}
}

func (m Map[V]) key(k string) []byte {
	b := scratch(len(m.prefix) + len(k))
	copy(b[copy(b, m.prefix):], k)
	return b
}

// Get returns the value under k, and false if there is none.
func (m Map[V]) Get(k string) (V, bool) {
	var v V
	b, ok := Get(m.key(k))
	if !ok {
		return v, false
	}
	if err := unmarshal(b, &v); err != nil {
		Abortf("contract: corrupt value %q: %v", m.key(k), err)
	}
	return v, true
}

// Set stores v under k. A sealed key fails the call.
func (m Map[V]) Set(k string, v V) { Set(m.key(k), mustJSON(v)) }

// Create stores v under k only if k is free, and reports whether it did: a
// record id a contract creates must never silently replace another record.
func (m Map[V]) Create(k string, v V) bool {
	if _, ok := Get(m.key(k)); ok {
		return false
	}
	m.Set(k, v)
	return true
}

// CreateEncoded is Create that also returns v's encoding as stored (nil
// if k is taken), for a method that returns the record it created:
// returned as JSON, it is not encoded again.
func (m Map[V]) CreateEncoded(k string, v V) (JSON, bool) {
	key := m.key(k)
	if _, ok := Get(key); ok {
		return nil, false
	}
	b := mustJSON(v)
	Set(key, b)
	return JSON(b), true
}

// Seal makes the value under k write-once (see Seal).
func (m Map[V]) Seal(k string) { Seal(m.key(k)) }

// SealUnder seals every key of the map starting with sub, which must end
// with '/' (e.g. "T1/": every entry of trial T1, present or future).
func (m Map[V]) SealUnder(sub string) { SealPrefix(m.key(sub)) }

// Delete removes k.
func (m Map[V]) Delete(k string) { Delete(m.key(k)) }

// Each calls fn for every entry in ascending key order until fn returns false.
func (m Map[V]) Each(fn func(k string, v V) bool) {
	Scan(m.prefix, func(key, b []byte) bool {
		var v V
		if err := unmarshal(b, &v); err != nil {
			Abortf("contract: corrupt value %q: %v", key, err)
		}
		return fn(string(key[len(m.prefix):]), v)
	})
}

// EachUnder calls fn for every entry whose key starts with sub (e.g. "P1/":
// the consents of patient P1), in ascending key order, until fn returns
// false; k is the whole key within the map.
func (m Map[V]) EachUnder(sub string, fn func(k string, v V) bool) {
	Scan(m.key(sub), func(key, b []byte) bool {
		var v V
		if err := unmarshal(b, &v); err != nil {
			Abortf("contract: corrupt value %q: %v", key, err)
		}
		return fn(string(key[len(m.prefix):]), v)
	})
}

func mustJSON(v any) []byte {
	if b, ok := encodeFast(v); ok {
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		Abortf("contract: encode: %v", err)
	}
	return b
}

// Caller returns the ed25519 public key of the transaction's sender.
func Caller() [32]byte { return host.caller() }

// CallerOrg returns the sender's organisation.
func CallerOrg() string { return host.callerOrg() }

// CallerRole returns the sender's role.
func CallerRole() string { return host.callerRole() }

// ErrForbidden is returned by CheckRole.
var ErrForbidden = errors.New("forbidden")

// CheckRole returns an error unless the caller has one of roles.
func CheckRole(roles ...string) error {
	r := CallerRole()
	if slices.Contains(roles, r) {
		return nil
	}
	return fmt.Errorf("%w: role %q is not one of %q", ErrForbidden, r, roles)
}

// RequireRole aborts the call unless the caller has one of roles.
func RequireRole(roles ...string) {
	if err := CheckRole(roles...); err != nil {
		Abort(err.Error())
	}
}

// Self returns the address of the running contract.
func Self() [32]byte { return host.self() }

// BlockHeight returns the height of the block being executed.
func BlockHeight() uint64 { return host.height() }

// BlockTimeMilli returns the block time (Unix milliseconds, from the block
// header). time.Now inside a contract returns the same instant.
func BlockTimeMilli() int64 { return host.timeMilli() }

// TxHash returns the hash of the transaction making the call.
func TxHash() [32]byte { return host.txHash() }

// Emit appends an event (topic at most abi.MaxTopicLen bytes, data at most
// abi.MaxEventLen bytes) to the call's receipt.
func Emit(topic string, data []byte) { host.emit(topic, data) }

// EmitJSON emits the JSON encoding of v.
func EmitJSON(topic string, v any) { Emit(topic, mustJSON(v)) }

// SHA256 hashes b on the host (cheaper than hashing in wasm).
func SHA256(b []byte) [32]byte { return host.sha256(b) }

// VerifyEd25519 reports whether sig is pk's valid signature of msg.
func VerifyEd25519(pk [32]byte, msg []byte, sig [64]byte) bool {
	return host.ed25519Verify(&pk, msg, &sig)
}

// VerifyConsent reports whether sig is a valid combined threshold consent
// of the consent group over msg whose signers all signed with exactly
// meaning (e.g. "approve amendment"): a consent that means something else
// ("REJECT amendment") is refused, and the chain's receipt names its
// signers. The chain also refuses a consent used before, in this call or
// any earlier transaction, so one consent counts once however often it is
// attached. The call fails if the chain has no consent verifier.
func VerifyConsent(group, meaning string, msg, sig []byte) bool {
	return host.consentVerify(group, meaning, msg, sig)
}

// RecordScope puts the running transaction's record in the record set
// name — for a trial, "trial:" + its id — which the chain keeps, not the
// contract: the state commits to each set's ordered list of records, so a
// regulator's export proves it holds every record of the trial, none
// dropped and none foreign. Call it as soon as the call knows which trial
// it is for (before any check that may abort), so that refused attempts are
// in the trial's record too: a call joins its sets even if it fails
// afterwards. At most 4 sets per call; a name is 1..128 printable ASCII
// bytes; "code:" and "member:" names are the chain's own and trap.
func RecordScope(name string) { host.recordScope(name) }

// Seal makes key write-once: from now on no transaction, under this code
// or any code the contract is upgraded to, can Set or Delete it (the call
// fails with status "sealed"). Write the final value first, then seal it;
// to change a sealed record, append a new record that references it.
// Sealing is recorded by the chain outside the contract's namespace and
// shows in state proofs.
func Seal(key []byte) { host.seal(key, false) }

// SealPrefix seals every key that starts with prefix, present or future:
// no key under it can be created, changed or deleted afterwards (e.g. the
// entries of a locked trial). prefix must end with '/' (a Map's prefix
// does).
func SealPrefix(prefix []byte) { host.seal(prefix, true) }

// Govern hands this contract's upgrades to the consent group (64-hex id):
// from then on an upgrade needs a threshold consent of that group for the
// exact new code hash; the owner alone can no longer upgrade. The chain
// allows it when the contract is owner-upgradable and the caller is its
// owner, or is governed by the same group already (no change); moving to
// another group needs a consent of the current group verified earlier in
// the same call. An immutable contract stays immutable. Otherwise the
// call fails with status "denied".
func Govern(group string) { host.govern(group) }

// Limits re-exported for contract authors.
const (
	MaxKeyLen   = abi.MaxKeyLen
	MaxValueLen = abi.MaxValueLen
	MaxEventLen = abi.MaxEventLen
)
