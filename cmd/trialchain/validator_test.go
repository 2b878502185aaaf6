package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/genesis"
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
