package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/node"
)

// TestValidatorActionFile: the action file 'validator add --action-out'
// writes is read back by 'consent sign' as exactly the action the chain
// verifies the organisations' consent against.
func TestValidatorActionFile(t *testing.T) {
	ch := genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 5, Name: "node4",
		Key: genesis.Key(bytes.Repeat([]byte{5}, 32)), Addr: "10.0.0.5:7000", API: "10.0.0.5:8000"}}
	b, err := json.Marshal(validatorActionFile(ch))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "add-5.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readAction(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := contracts.ValidatorChangeAction(ch); !got.Equal(want) {
		t.Fatalf("action %v, want %v", got, want)
	}
	rm := genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: 5}}
	if got.Equal(contracts.ValidatorChangeAction(rm)) {
		t.Fatal("the add's action also approves a removal")
	}
}

// TestValidatorInitCLI: 'validator init' writes a joining validator's home
// and prints the 'validator add' line, which prepares the action the
// organisations sign for exactly that validator.
func TestValidatorInitCLI(t *testing.T) {
	dir := t.TempDir()
	tn, err := node.NewTestnet(filepath.Join(dir, "net"), node.TestnetOptions{Validators: 1})
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(dir, "genesis.json")
	tn.Genesis.Params.ValidatorGroup = strings.Repeat("ab", 32)
	if err := tn.Genesis.Save(gen); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "hospital-c")
	out, errOut, code := run(t, "validator", "init", "--home", home, "--genesis", gen, "--id", "5", "--name", "hospital-c",
		"--addr", "10.0.0.5:7000", "--api", "10.0.0.5:7001", "--output", "json")
	if code != 0 {
		t.Fatalf("validator init: %d %s", code, errOut)
	}
	var got struct {
		Key string `json:"key"`
		Add string `json:"add"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cfg, err := node.LoadConfig(home)
	if err != nil || cfg.ID != 5 || cfg.Listen != "10.0.0.5:7000" {
		t.Fatalf("config %+v: %v", cfg, err)
	}
	args := append(strings.Fields(got.Add)[1:], "--action-out", filepath.Join(dir, "add-5.json"))
	if _, errOut, code := run(t, args...); code != 0 {
		t.Fatalf("%v: %d %s", args, code, errOut)
	}
	k, _ := hex.DecodeString(got.Key)
	want := genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 5, Name: "hospital-c", Key: genesis.Key(k), Addr: "10.0.0.5:7000", API: "10.0.0.5:7001"}}
	a, err := readAction(filepath.Join(dir, "add-5.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(contracts.ValidatorChangeAction(want)) {
		t.Fatal("the printed add line prepares another change")
	}
	if _, errOut, code := run(t, "validator", "init", "--home", home, "--genesis", gen, "--id", "6", "--addr", "10.0.0.6:7000"); code == 0 || !strings.Contains(errOut, "already holds a node") {
		t.Fatalf("a second init into the same home: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "validator", "init", "--home", filepath.Join(dir, "x"), "--genesis", filepath.Join(tn.Dir, "genesis.json"), "--id", "6", "--addr", "10.0.0.6:7000"); code == 0 || !strings.Contains(errOut, "validator_group") {
		t.Fatalf("init for a chain whose set cannot change: %d %s", code, errOut)
	}
}
