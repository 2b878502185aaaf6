package contract

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/trialchain/trialchain/vm/abi"
)

// What every example contract wrote for itself (a counter, a sealed log, a
// refusal with a code, the caller as hex), in the SDK once: the contracts
// of issue 19 (record sharing, claims, drug traceability) were written
// against these, and the earlier examples show the hand-rolled versions.

// CallerHex returns the sender's ed25519 key as lowercase hex, the form a
// contract stores and compares member keys in.
func CallerHex() string {
	k := Caller()
	return hex.EncodeToString(k[:])
}

// Refusal is a contract's refusal: Code classifies it ("no-consent",
// "not-holder"), Msg says what is wrong. Handle aborts with Error(),
// "code: msg", so the receipt of the failed call carries the code first
// and clients tell refusals apart without parsing prose.
type Refusal struct {
	Code string
	Msg  string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Msg }

// Is reports whether target is a *Refusal with the same code.
func (r *Refusal) Is(target error) bool {
	t, ok := target.(*Refusal)
	return ok && t.Code == r.Code
}

// Refuse returns a *Refusal with code and a formatted message.
func Refuse(code, format string, args ...any) error {
	return &Refusal{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Counter is an int64 counter under one key, for sequence numbers of
// record ids: Next increments and returns the new value (1 first).
type Counter struct{ v Value[int64] }

// NewCounter returns the counter stored under key.
func NewCounter(key string) Counter { return Counter{v: NewValue[int64](key)} }

// Get returns the current value (0 if never incremented).
func (c Counter) Get() int64 { n, _ := c.v.Get(); return n }

// Next increments the counter and returns its new value.
func (c Counter) Next() int64 {
	n := c.Get() + 1
	c.v.Set(n)
	return n
}

// Journal is an append-only, sealed log of typed entries per subject (a
// patient, a dataset, a lot): entries are stored under
// name/subject/NNNNNNNNN (9-digit sequence, so key order is append order),
// each created only if free and sealed at once, so no transaction under
// any code version can change or delete one. The sequence counter lives
// under "#" + name + "/" + subject, outside the entries' prefix. subject
// must not contain '/'.
type Journal[T any] struct{ name string }

// NewJournal returns the journal called name.
func NewJournal[T any](name string) Journal[T] { return Journal[T]{name: name} }

func (j Journal[T]) entries(subject string) Map[T] { return NewMap[T](j.name + "/" + subject) }

// Append writes v as subject's next entry, seals it and returns its
// sequence number (1 first). It aborts the call if the entry's key is
// taken (a broken counter), never overwriting an entry.
func (j Journal[T]) Append(subject string, v T) int64 {
	n := NewCounter("#" + j.name + "/" + subject).Next()
	k := seq9(n)
	m := j.entries(subject)
	if !m.Create(k, v) {
		Abortf("exists: journal entry %s/%s/%s exists; it is never overwritten", j.name, subject, k)
	}
	m.Seal(k)
	return n
}

// Len returns the number of subject's entries.
func (j Journal[T]) Len(subject string) int64 {
	return NewCounter("#" + j.name + "/" + subject).Get()
}

// Each calls fn with subject's entries in append order until fn returns
// false.
func (j Journal[T]) Each(subject string, fn func(seq int64, v T) bool) {
	j.entries(subject).Each(func(k string, v T) bool {
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			Abortf("contract: corrupt journal key %s/%s/%s", j.name, subject, k)
		}
		return fn(n, v)
	})
}

func seq9(n int64) string {
	s := "000000000" + strconv.FormatInt(n, 10)
	return s[len(s)-9:]
}

// TryRecordScope is RecordScope for a name built from the call's
// arguments: it joins the record set only if name is a valid set name
// (abi.ValidScopeName) and reports whether it did, where RecordScope
// would trap and lose the refusal's receipt from every set. Call it first
// with the best name the arguments give, then validate them.
func TryRecordScope(name string) bool {
	if abi.ValidScopeName(name) != "" {
		return false
	}
	RecordScope(name)
	return true
}
