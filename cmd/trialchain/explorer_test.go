package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/cmd/trialchain/explorer"
	"github.com/trialchain/trialchain/sdk/client"
)

// chromiumBin finds a headless Chromium, or skips (failing in CI, where
// .ci/run installs Debian's chromium), as trials/audit's layout test does.
func chromiumBin(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium: the explorer test needs it in CI (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); the explorer test runs in CI")
	return ""
}

// TestExplorerAuditInChromium runs a 4-node network, exports a trial's
// bundle, serves the explorer, and has headless Chromium verify the bundle
// with the WebAssembly verifier: VERIFIED for the bundle as exported,
// FAILED naming the record for a tampered copy. Screenshots of both are
// written to $TRIALCHAIN_SCREENSHOTS (default: the test's temporary
// directory) and checked to be images of the page.
func TestExplorerAuditInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node network and Chromium")
	}
	bin := chromiumBin(t)
	dir := t.TempDir()

	wasmFile := filepath.Join(dir, "verify.wasm")
	build := exec.Command("go", "build", "-o", wasmFile, "./explorer/verifywasm")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm verifier: %v\n%s", err, out)
	}
	wasm, _ := os.ReadFile(wasmFile)
	wasmExec, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}

	counter := filepath.Join(dir, "counter.wasm")
	if out, err := buildWasm("../../contracts-examples/counter", counter); err != nil {
		t.Fatalf("build counter: %v\n%s", err, out)
	}
	net, homes := procNetwork(t)
	keyring := filepath.Join(net, "keys")
	var dep struct{ Address string }
	if err := json.Unmarshal([]byte(must(t, "contract", "deploy", counter, "--label", "counter", "--from", "sponsor", "--keyring", keyring, "--home", homes[0], "--wait", "--output", "json")), &dep); err != nil || len(dep.Address) != 64 {
		t.Fatalf("deploy: %v %+v", err, dep)
	}
	doc := filepath.Join(dir, "protocol.txt")
	os.WriteFile(doc, []byte("T1 protocol v1\n"), 0o644)
	for i := 0; i < 2; i++ {
		must(t, "anchor", doc, "--label", fmt.Sprintf("T1 protocol v%d", i+1), "--trial", "T1", "--from", "sponsor", "--keyring", keyring, "--home", homes[0], "--wait")
	}
	files := filepath.Join(dir, "files")
	os.MkdirAll(files, 0o755)
	good := filepath.Join(files, "good.json")
	must(t, "export", "--trial", "T1", "--out", good, "--home", homes[0], "--keyring", keyring)
	gen, _ := os.ReadFile(filepath.Join(net, "genesis.json"))
	os.WriteFile(filepath.Join(files, "genesis.json"), gen, 0o644)
	b, _ := os.ReadFile(good)
	// The first record's transaction, its version byte (1, or 2 with a
	// valid-until bound) made 0.
	bad := string(b)
	if i := strings.Index(bad, `"tx": "0`); i >= 0 && i+9 < len(bad) && (bad[i+8] == '1' || bad[i+8] == '2') {
		bad = bad[:i+8] + "0" + bad[i+9:]
	}
	if bad == string(b) {
		t.Fatal("nothing to tamper with in the bundle")
	}
	os.WriteFile(filepath.Join(files, "tampered.json"), []byte(bad), 0o644)

	addr, err := node.APIAddr(homes[0])
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files/", http.FileServer(http.Dir(files))))
	mux.Handle("/", explorer.Handler(client.New("http://"+addr), explorer.Options{Wasm: wasm, WasmExec: wasmExec}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	shots := os.Getenv("TRIALCHAIN_SCREENSHOTS")
	if shots == "" {
		shots = dir
	}
	os.MkdirAll(shots, 0o755)
	for _, tc := range []struct{ bundle, want, also string }{
		{"good.json", ">VERIFIED<", "records re-hashed"},
		{"tampered.json", ">FAILED<", "record 1 of "},
	} {
		url := srv.URL + "/audit?genesis=/files/genesis.json&bundle=/files/" + tc.bundle
		// The verdict appears once the verifier has loaded and run; a DOM
		// dumped before that (Chromium's virtual time budget does not always
		// cover wasm compilation) is read again.
		var dom string
		for try := 0; try < 4 && !strings.Contains(dom, `id="verdict" class=`); try++ {
			dom = chromiumRun(t, bin, dir, "--dump-dom", url)
		}
		if !strings.Contains(dom, tc.want) || !strings.Contains(dom, tc.also) {
			t.Errorf("%s: the page does not say %s / %q:\n%.3000s", tc.bundle, tc.want, tc.also, dom)
		}
		shot := filepath.Join(shots, "audit-"+strings.TrimSuffix(tc.bundle, ".json")+".png")
		chromiumRun(t, bin, dir, "--screenshot="+shot, url)
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 800 {
			t.Fatalf("screenshot %s: %v", shot, err)
		}
		t.Logf("screenshot %s", shot)
	}

	// The node's pages: blocks, a block's transactions, a trial's records,
	// a transaction, the contract and its code history.
	pageOf := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, b)
		}
		return string(b)
	}
	if dom := chromiumRun(t, bin, dir, "--dump-dom", srv.URL+"/"); !strings.Contains(dom, `href="/block/1"`) {
		t.Errorf("the front page lists no block 1:\n%.2000s", dom)
	}
	trial := pageOf("/trial?id=T1")
	if !strings.Contains(trial, "2 records") || strings.Count(trial, `href="/tx/`) != 2 {
		t.Errorf("trial T1's page does not list its 2 anchors:\n%s", trial)
	}
	txPath := trial[strings.Index(trial, `href="/tx/`)+6:]
	txPath = txPath[:strings.IndexByte(txPath, '"')]
	if page := pageOf(txPath); !strings.Contains(page, "anchor") || !strings.Contains(page, "ok") {
		t.Errorf("%s does not show a committed anchor:\n%s", txPath, page)
	}
	contract := pageOf("/contract/" + dep.Address)
	if !strings.Contains(contract, "Contract counter") || !strings.Contains(contract, "Code history") || !strings.Contains(contract, "<td>deploy</td>") {
		t.Errorf("the contract's page lacks its deploy in the code history:\n%s", contract)
	}
	if page := pageOf("/contracts"); !strings.Contains(page, "Contracts (the registry)") {
		t.Errorf("the registry page:\n%s", page)
	}
	shot := filepath.Join(shots, "contract.png")
	chromiumRun(t, bin, dir, "--screenshot="+shot, srv.URL+"/contract/"+dep.Address)
	t.Logf("screenshot %s", shot)
}

func chromiumRun(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1000,700", "--virtual-time-budget=30000"}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}
