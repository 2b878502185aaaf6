// Command counter is a well-behaved test contract using the SDK.
package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/trialchain/trialchain/sdk/contract"
)

var count = contract.NewValue[int64]("count")

type addArgs struct {
	By int64 `json:"by"`
}

//go:wasmexport add
func add() {
	contract.Handle(func(a addArgs) (any, error) {
		n, _ := count.Get()
		n += a.By
		count.Set(n)
		contract.EmitJSON("added", a)
		return n, nil
	})
}

//go:wasmexport get
func get() {
	n, _ := count.Get()
	contract.ReturnJSON(n)
}

// noop is an empty method: the warm call overhead.
//
//go:wasmexport noop
func noop() {}

type kvArgs struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

//go:wasmexport put
func put() {
	contract.Handle(func(a kvArgs) (any, error) {
		contract.Set([]byte(a.Key), []byte(a.Value))
		return nil, nil
	})
}

type sealArgs struct {
	Key    string `json:"key"`
	Prefix bool   `json:"prefix"`
	Then   string `json:"then"` // "", "put" or "del": write the key after sealing, in the same call
}

// seal seals a key or prefix (and optionally writes it afterwards).
//
//go:wasmexport seal
func seal() {
	contract.Handle(func(a sealArgs) (any, error) {
		if a.Prefix {
			contract.SealPrefix([]byte(a.Key))
		} else {
			contract.Seal([]byte(a.Key))
		}
		switch a.Then {
		case "put":
			contract.Set([]byte(a.Key), []byte("after"))
		case "del":
			contract.Delete([]byte(a.Key))
		}
		return nil, nil
	})
}

// govern hands the contract's upgrades to a consent group.
//
//go:wasmexport govern
func govern() {
	contract.Handle(func(a struct {
		Group string `json:"group"`
	}) (any, error) {
		contract.Govern(a.Group)
		return nil, nil
	})
}

//go:wasmexport getkv
func getkv() {
	contract.Handle(func(a kvArgs) (any, error) {
		v, ok := contract.Get([]byte(a.Key))
		if !ok {
			return nil, errors.New("not found")
		}
		return string(v), nil
	})
}

//go:wasmexport del
func del() {
	contract.Handle(func(a kvArgs) (any, error) {
		contract.Delete([]byte(a.Key))
		return nil, nil
	})
}

//go:wasmexport scan
func scan() {
	contract.Handle(func(a kvArgs) (any, error) {
		var out []string
		contract.Scan([]byte(a.Key), func(k, v []byte) bool {
			out = append(out, string(k)+"="+string(v))
			return true
		})
		return out, nil
	})
}

type nArgs struct {
	N int `json:"n"`
}

// heavy is a CPU-bound loop (integer and float work).
//
//go:wasmexport heavy
func heavy() {
	contract.Handle(func(a nArgs) (any, error) {
		var x uint64 = 1
		f := 1.0
		for i := 0; i < a.N; i++ {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 17
			if i%64 == 0 {
				f = f*1.0000001 + 0.5
			}
		}
		return fmt.Sprintf("%d %.6f", x, f), nil
	})
}

// writes performs n state writes of 32-byte values.
//
//go:wasmexport writes
func writes() {
	contract.Handle(func(a nArgs) (any, error) {
		v := make([]byte, 32)
		for i := 0; i < a.N; i++ {
			v[0] = byte(i)
			contract.Set([]byte("w/"+strconv.Itoa(i)), v)
		}
		return a.N, nil
	})
}

//go:wasmexport info
func info() {
	c := contract.Caller()
	self := contract.Self()
	tx := contract.TxHash()
	contract.ReturnJSON(map[string]any{
		"caller": hex.EncodeToString(c[:]),
		"org":    contract.CallerOrg(),
		"role":   contract.CallerRole(),
		"height": contract.BlockHeight(),
		"time":   contract.BlockTimeMilli(),
		"tx":     hex.EncodeToString(tx[:]),
		"self":   hex.EncodeToString(self[:]),
	})
}

type verifyArgs struct {
	PK  []byte `json:"pk"`
	Msg []byte `json:"msg"`
	Sig []byte `json:"sig"`
}

//go:wasmexport verify
func verify() {
	contract.Handle(func(a verifyArgs) (any, error) {
		var pk [32]byte
		var sig [64]byte
		copy(pk[:], a.PK)
		copy(sig[:], a.Sig)
		h := contract.SHA256(a.Msg)
		return map[string]any{"ok": contract.VerifyEd25519(pk, a.Msg, sig), "sha256": hex.EncodeToString(h[:])}, nil
	})
}

//go:wasmexport consent
func consent() {
	contract.Handle(func(a verifyArgs) (any, error) {
		return contract.VerifyConsent("irb", "approve", a.Msg, a.Sig), nil
	})
}

// failAfterWrite writes state and emits an event, then aborts.
//
//go:wasmexport failAfterWrite
func failAfterWrite() {
	contract.Set([]byte("count"), []byte("999"))
	contract.Emit("never", nil)
	contract.Abort("changed my mind")
}

//go:wasmexport sitesOnly
func sitesOnly() {
	contract.RequireRole("site")
	contract.Return([]byte("welcome"))
}

// floats returns the bits of NaN-producing operations.
//
//go:wasmexport floats
func floats() {
	contract.Handle(func(a nArgs) (any, error) {
		z := float64(a.N) // 0
		nan := z / z
		s := math.Sqrt(z - 1)
		f32 := float32(z) / float32(z)
		return []uint64{math.Float64bits(nan), math.Float64bits(s), uint64(math.Float32bits(f32)),
			math.Float64bits(nan + 1), math.Float64bits(-nan)}, nil
	})
}

// echo returns its raw input (for fuzzing arguments).
//
//go:wasmexport echo
func echo() {
	contract.Return(contract.Input())
}

// grow allocates n MiB: a call that grows the memory.
//
//go:wasmexport grow
func grow() {
	contract.Handle(func(a nArgs) (any, error) {
		b := make([]byte, a.N<<20)
		b[len(b)-1] = 1
		return len(b), nil
	})
}

//go:wasmexport parse
func parse() {
	contract.Handle(func(a map[string]any) (any, error) {
		return len(a), nil
	})
}

func main() {}
