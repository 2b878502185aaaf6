package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
)

// JoinOptions describe a validator that joins a running chain later (a
// hospital joining the consortium): its home is written before the
// validator organisations add it.
type JoinOptions struct {
	Home    string // the node's home directory (created; must hold no node yet)
	Genesis string // the chain's genesis file, copied into the home
	ID      uint64 // the id its validator-add transaction gives it (unused in the chain's sets)
	Name    string // its name, e.g. the organisation (default node<ID>)
	Addr    string // the QUIC address its peers dial (the add transaction's addr)
	API     string // its client API address (the add transaction's api; "" for none)
	// Listen, if set, is the address the node binds for its mesh (e.g.
	// 0.0.0.0:7000 in a container whose peers dial Addr); default Addr.
	Listen string
}

// Joining is a written home of a joining validator: the Change the
// validator organisations approve to add it.
type Joining struct {
	Home   string
	Change genesis.Change
}

// NewJoiningHome writes the home of a validator that joins later: a new
// node key (node.key, 0600), the genesis and a config.toml naming its id
// and addresses. It refuses a genesis that names no validator_group (its
// set cannot change), an id already a genesis validator, and a home that
// already holds a node. The node starts (`trialchain start --home`) once
// the add transaction is committed: it catches up from the genesis,
// checking each certificate against the set in force at its height, and
// takes part from the block where the set including it is in force.
func NewJoiningHome(o JoinOptions) (*Joining, error) {
	g, err := genesis.Load(o.Genesis)
	if err != nil {
		return nil, err
	}
	switch {
	case g.Params.ValidatorGroup == "":
		return nil, fmt.Errorf("node: the genesis of chain %s names no validator_group: its validator set cannot change", g.ChainID)
	case o.ID == 0:
		return nil, errors.New("node: a joining validator needs an id > 0")
	case o.Addr == "":
		return nil, errors.New("node: a joining validator needs the address its peers dial")
	}
	if _, ok := g.Validator(o.ID); ok {
		return nil, fmt.Errorf("node: id %d is a genesis validator of chain %s; choose an unused id", o.ID, g.ChainID)
	}
	if _, err := os.Stat(filepath.Join(o.Home, ConfigFile)); err == nil {
		return nil, fmt.Errorf("node: %s already holds a node (%s exists)", o.Home, ConfigFile)
	}
	if o.Name == "" {
		o.Name = fmt.Sprintf("node%d", o.ID)
	}
	k, err := keys.Generate(o.Name)
	if err != nil {
		return nil, err
	}
	ch := genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: o.ID, Name: o.Name,
		Key: genesis.Key(k.Public()), Addr: o.Addr, API: o.API}}
	if _, err := genesis.DecodeChange(ch.Encode()); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Home, 0o700); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if err := k.Save(filepath.Join(o.Home, "node.key")); err != nil {
		return nil, err
	}
	if err := g.Save(filepath.Join(o.Home, "genesis.json")); err != nil {
		return nil, err
	}
	listen := o.Listen
	if listen == "" {
		listen = o.Addr
	}
	cfg := &Config{ID: o.ID, Genesis: "genesis.json", Key: "node.key", DataDir: "data", LogLevel: "info", Listen: listen, API: o.API}
	if err := cfg.Save(o.Home); err != nil {
		return nil, err
	}
	return &Joining{Home: o.Home, Change: ch}, nil
}
