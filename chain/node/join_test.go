package node

import (
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/keys"
)

// TestNewJoiningHome: the home of a validator joining later starts as the
// validator-add change names it, and what cannot join is refused.
func TestNewJoiningHome(t *testing.T) {
	dir := t.TempDir()
	tn, err := NewTestnet(dir, TestnetOptions{Validators: 1, BasePort: 0})
	if err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(dir, "genesis.json")
	tn.Genesis.Params.ValidatorGroup = strings.Repeat("ab", 32)
	open := filepath.Join(dir, "open.json")
	if err := tn.Genesis.Save(open); err != nil {
		t.Fatal(err)
	}
	ok := JoinOptions{Home: filepath.Join(dir, "h5"), Genesis: open, ID: 5, Name: "hospital-c", Addr: "10.0.0.5:7000", API: "10.0.0.5:7001", Listen: "0.0.0.0:7000"}
	j, err := NewJoiningHome(ok)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(j.Home)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.Load(cfg.Path(cfg.Key))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ID != 5 || cfg.Listen != "0.0.0.0:7000" || cfg.API != ok.API || !ed25519.PublicKey(j.Change.Validator.Key).Equal(k.Public()) ||
		j.Change.Validator.Addr != ok.Addr || j.Change.Validator.Name != "hospital-c" {
		t.Fatalf("config %+v, change %+v", cfg, j.Change)
	}
	tests := []struct {
		name string
		edit func(o *JoinOptions)
		want string
	}{
		{"a genesis whose set cannot change", func(o *JoinOptions) { o.Genesis = fixed }, "names no validator_group"},
		{"a genesis validator's id", func(o *JoinOptions) { o.ID = 1 }, "is a genesis validator"},
		{"no id", func(o *JoinOptions) { o.ID = 0 }, "id > 0"},
		{"no address", func(o *JoinOptions) { o.Addr = "" }, "address its peers dial"},
		{"a home holding a node", func(o *JoinOptions) { o.Home = j.Home }, "already holds a node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			o.Home = filepath.Join(t.TempDir(), "h")
			tt.edit(&o)
			if _, err := NewJoiningHome(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
