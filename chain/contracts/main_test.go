package contracts_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/vm"
)

// Test contracts are built from vm/testdata/<name>/main.go by TestMain into
// a temp dir (never committed), as in package vm; engines share one
// on-disk compilation cache so each module compiles once per process.
var (
	wasmCode = map[string][]byte{}
	cacheDir string
)

var testContracts = []string{"counter", "hostile", "initloop", "minimal", "consented", "trial-protocol"}

// exampleContracts are built from contracts-examples/ rather than vm/testdata/.
var exampleContracts = map[string]bool{"trial-protocol": true}

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "contractstest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cacheDir = filepath.Join(dir, "cache")
	if err := buildContracts(filepath.Join(dir, "wasm")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func buildContracts(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(testContracts))
	for i, name := range testContracts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			file := filepath.Join(out, name+".wasm")
			if pre := os.Getenv("VM_TESTDATA_WASM"); pre != "" { // prebuilt by vm/testdata/build.sh
				if b, err := os.ReadFile(filepath.Join(pre, name+".wasm")); err == nil {
					errs[i] = os.WriteFile(file, b, 0o644)
					return
				}
			}
			src := "../../vm/testdata/" + name
			if exampleContracts[name] {
				src = "../../contracts-examples/" + name
			}
			cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", file, src)
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			if b, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("build %s: %v\n%s", name, err, b)
			}
		}()
	}
	wg.Wait()
	for i, name := range testContracts {
		if errs[i] != nil {
			return errs[i]
		}
		b, err := os.ReadFile(filepath.Join(out, name+".wasm"))
		if err != nil {
			return err
		}
		wasmCode[name] = b
	}
	return nil
}

// newEngine returns a VM engine closed at the end of the test. Engines
// with the shared cache dir reuse each other's compilations.
func newEngine(t testing.TB, interpreter bool) *vm.Engine {
	t.Helper()
	cfg := vm.DefaultConfig()
	cfg.Interpreter = interpreter
	if !interpreter {
		cfg.CacheDir = cacheDir
	}
	e, err := vm.NewEngine(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// testTime is when the test parties sign (manifestations carry a time).
var testTime = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

// partyKey is the derived member key of a test consent party (see
// testdata/README.md).
func partyKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("trialchain contracts test party " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// board is a consent group from testdata with every party's opened share.
type board struct {
	group  *consent.Group
	bin    []byte
	id     [32]byte
	shares []*consent.KeyShare // index i = party i+1
	keys   []ed25519.PrivateKey
}

func loadBoard(t testing.TB, dir string) *board {
	t.Helper()
	bin, err := os.ReadFile(filepath.Join("testdata", dir, consent.GroupBinFile))
	if err != nil {
		t.Fatal(err)
	}
	g, err := consent.ParseGroup(bin)
	if err != nil {
		t.Fatal(err)
	}
	b := &board{group: g, bin: bin, id: g.ID()}
	for _, p := range g.Parties {
		raw, err := os.ReadFile(filepath.Join("testdata", dir, consent.ShareFileName(p)))
		if err != nil {
			t.Fatal(err)
		}
		s, err := consent.ParseSealedShare(raw)
		if err != nil {
			t.Fatal(err)
		}
		k := partyKey(p.Name)
		ks, err := consent.OpenShare(g, s, k)
		if err != nil {
			t.Fatalf("open share of %s: %v", p.Name, err)
		}
		b.shares = append(b.shares, ks)
		b.keys = append(b.keys, k)
	}
	return b
}

// sign returns the signed shares of the given parties (1-based) for a
// request.
func (b *board) sign(t testing.TB, req consent.Request, parties ...int) []*consent.SignedShare {
	t.Helper()
	var out []*consent.SignedShare
	for _, p := range parties {
		name := b.group.Parties[p-1].Name
		m := consent.Manifestation{PrintedName: "Dr. " + strings.ToUpper(name[:1]) + name[1:],
			Time: testTime.Add(time.Duration(p) * time.Minute), Meaning: req.Meaning}
		ss, err := consent.SignShare(rand.Reader, b.group, b.shares[p-1], b.keys[p-1], req.ChainID, req.Action, m)
		if err != nil {
			t.Fatalf("party %d signs: %v", p, err)
		}
		out = append(out, ss)
	}
	return out
}

// consent combines the shares of parties and returns the encoded consent.
func (b *board) consent(t testing.TB, req consent.Request, parties ...int) []byte {
	t.Helper()
	c, err := consent.Combine(b.group, req, b.sign(t, req, parties...)...)
	if err != nil {
		t.Fatalf("combine: %v", err)
	}
	enc, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}
