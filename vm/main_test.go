package vm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Test contracts are built from vm/testdata/<name>/main.go by TestMain into a
// temp dir (never committed); engines share one on-disk compilation cache so
// each module compiles once per test process.
//
// Fuzzing runs the test binary again as worker processes, each through
// TestMain. The first process names its temp dir in testDirEnv (workers
// inherit the environment), so a worker reuses the built contracts and the
// compilation cache instead of building and compiling again: compiling the
// counter contract from scratch takes ~5 s, from the cache ~0.2 s, and a
// fuzz worker that spends its run compiling executes a handful of inputs.
const testDirEnv = "TRIALCHAIN_VM_TESTDIR"

var (
	wasmDir  string
	cacheDir string
	wasmCode = map[string][]byte{}
)

var testContracts = []string{"counter", "hostile", "initloop", "minimal"}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, shared := os.LookupEnv(testDirEnv)
	if !shared {
		var err error
		dir, err = os.MkdirTemp("", "vmtest")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := os.Setenv(testDirEnv, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	wasmDir = filepath.Join(dir, "wasm")
	cacheDir = filepath.Join(dir, "cache")
	if err := buildContracts(shared); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	closeSharedEngines()
	return code
}

// buildContracts builds the test contracts into wasmDir and reads them;
// with built set (a fuzz worker of a process that built them) it only
// reads them.
func buildContracts(built bool) error {
	if err := os.MkdirAll(wasmDir, 0o755); err != nil {
		return err
	}
	if built {
		return readContracts(nil)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(testContracts))
	for i, name := range testContracts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(wasmDir, name+".wasm")
			if pre := os.Getenv("VM_TESTDATA_WASM"); pre != "" { // prebuilt by build.sh
				if b, err := os.ReadFile(filepath.Join(pre, name+".wasm")); err == nil {
					errs[i] = os.WriteFile(out, b, 0o644)
					return
				}
			}
			cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", out, "./testdata/"+name)
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			if b, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("build %s: %v\n%s", name, err, b)
			}
		}()
	}
	wg.Wait()
	return readContracts(errs)
}

// readContracts reads the built contracts, first returning a build error
// of errs (nil: none) if any.
func readContracts(errs []error) error {
	for i, name := range testContracts {
		if errs != nil && errs[i] != nil {
			return errs[i]
		}
		b, err := os.ReadFile(filepath.Join(wasmDir, name+".wasm"))
		if err != nil {
			return err
		}
		wasmCode[name] = b
	}
	return nil
}

var (
	sharedMu      sync.Mutex
	sharedEngines = map[bool]*Engine{}
)

// sharedEngine returns a process-wide engine (compiler or interpreter).
func sharedEngine(t testing.TB, interp bool) *Engine {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if e := sharedEngines[interp]; e != nil {
		return e
	}
	e := newTestEngine(t, interp)
	sharedEngines[interp] = e
	return e
}

func closeSharedEngines() {
	for _, e := range sharedEngines {
		_ = e.Close(context.Background())
	}
}

// newTestEngine returns a fresh, independent engine (the caller closes it).
func newTestEngine(t testing.TB, interp bool) *Engine {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Interpreter = interp
	cfg.CacheDir = cacheDir
	if interp {
		cfg.CacheDir = "" // the interpreter does not use the compilation cache
	}
	e, err := NewEngine(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func compile(t testing.TB, e *Engine, name string) *Module {
	t.Helper()
	m, err := e.Compile(context.Background(), wasmCode[name])
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return m
}
