package node

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/trialchain/trialchain/chain/genesis"
)

// ClientConfigFile is the client configuration testnet writes at the top
// of a network directory, beside the keyring: what a client needs to talk
// to the network and to check what it is told.
const ClientConfigFile = "client.toml"

// ClientConfig names a network for clients. Relative paths are relative to
// the file's directory; LoadClientConfig resolves them.
type ClientConfig struct {
	// Genesis is the network's genesis file: with it, clients verify what
	// nodes serve against the validators' signatures.
	Genesis string `toml:"genesis"`
	// Nodes are client API URLs, the first the default node.
	Nodes []string `toml:"nodes"`
	// Keyring is the directory of member keys.
	Keyring string `toml:"keyring"`
}

// LoadClientConfig reads a client configuration strictly (unknown keys are
// refused) and resolves its relative paths.
func LoadClientConfig(path string) (*ClientConfig, error) {
	c := &ClientConfig{}
	md, err := toml.DecodeFile(path, c)
	if err != nil {
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		keys := make([]string, len(u))
		for i, k := range u {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("client config %s: unknown keys %s", path, strings.Join(keys, ", "))
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&c.Genesis, &c.Keyring} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return c, nil
}

// Save writes the configuration to path atomically.
func (c *ClientConfig) Save(path string) error {
	var b bytes.Buffer
	b.WriteString("# TrialChain client configuration (trialchain testnet wrote it).\n# Paths are relative to this file. With the genesis, clients verify what nodes serve.\n")
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	return genesis.WriteFileAtomic(path, b.Bytes(), 0o644)
}
