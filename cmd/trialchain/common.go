package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// clientConfig finds the client configuration (node.ClientConfigFile):
// --client-config, else $TRIALCHAIN_CLIENT_CONFIG, else the client.toml
// beside the keyring (--keyring or $TRIALCHAIN_KEYRING: DIR/../client.toml,
// where testnet writes it), else ./client.toml (run in a testnet's
// directory). It returns nil when there is none.
func clientConfig(cmd *cobra.Command) (*node.ClientConfig, error) {
	path, _ := cmd.Flags().GetString("client-config")
	if path == "" {
		path = os.Getenv("TRIALCHAIN_CLIENT_CONFIG")
	}
	if path == "" {
		dir, _ := cmd.Flags().GetString("keyring")
		if dir == "" {
			dir = os.Getenv("TRIALCHAIN_KEYRING")
		}
		if dir == "" {
			// Last: a client.toml in the working directory (a testnet's
			// directory), so commands run there need no flags.
			if _, err := os.Stat(node.ClientConfigFile); err != nil {
				return nil, nil
			}
			return node.LoadClientConfig(node.ClientConfigFile)
		}
		path = filepath.Join(filepath.Dir(filepath.Clean(dir)), node.ClientConfigFile)
		if _, err := os.Stat(path); err != nil {
			return nil, nil
		}
	}
	return node.LoadClientConfig(path)
}

// nodeURL resolves the node to talk to: --node, else --home's API address,
// else $TRIALCHAIN_NODE, else the client configuration's first node. A
// URL without a scheme is https (the node's TLS listener, its key pinned
// from the genesis); h3:// reaches the same node over HTTP/3.
func nodeURL(cmd *cobra.Command) (string, error) {
	u, _ := cmd.Flags().GetString("node")
	home, _ := cmd.Flags().GetString("home")
	switch {
	case u != "":
	case home != "":
		addr, err := node.APIAddr(home)
		if err != nil {
			return "", fmt.Errorf("--home %s: %w", home, err)
		}
		u = "https://" + addr
	case os.Getenv("TRIALCHAIN_NODE") != "":
		u = os.Getenv("TRIALCHAIN_NODE")
	default:
		cc, err := clientConfig(cmd)
		if err != nil {
			return "", err
		}
		if cc == nil || len(cc.Nodes) == 0 {
			return "", fmt.Errorf("no node given: pass --node URL (e.g. http://127.0.0.1:26601) or --home DIR of a node")
		}
		u = cc.Nodes[0]
	}
	if !strings.Contains(u, "://") {
		u = "https://" + u
	}
	return u, nil
}

// clientFor returns an API client for the node the flags name. With a
// genesis (genesisPath) the client pins the node's key from it: over
// https and h3 a node presenting another key is refused, and signed
// requests are bound to that node. https or h3 without a genesis is
// refused: there would be nothing to check the node's key against.
func clientFor(cmd *cobra.Command) (*client.Client, error) {
	u, err := nodeURL(cmd)
	if err != nil {
		return nil, err
	}
	gp, err := genesisPath(cmd)
	if err != nil {
		return nil, err
	}
	if gp == "" {
		if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, client.SchemeH3+"://") {
			return nil, fmt.Errorf("%s: a TLS connection pins the node's key from the genesis: pass --genesis FILE (or $TRIALCHAIN_GENESIS, --home, a client.toml)", u)
		}
		return client.New(u), nil
	}
	g, err := genesis.Load(gp)
	if err != nil {
		return nil, err
	}
	return client.ForGenesis(g, u)
}

// chainID is the chain the genesis names: transactions and signed
// requests are built for it, never for whatever chain a node claims.
func chainID(cmd *cobra.Command) (string, error) {
	g, _, err := genesisFor(cmd)
	if err != nil {
		return "", fmt.Errorf("which chain? %w", err)
	}
	return g.ChainID, nil
}

// keyring returns the keyring the flags name (--keyring, $TRIALCHAIN_KEYRING).
func keyring(cmd *cobra.Command) (keys.Ring, error) {
	dir, _ := cmd.Flags().GetString("keyring")
	if dir == "" {
		dir = os.Getenv("TRIALCHAIN_KEYRING")
	}
	if dir == "" {
		if cc, err := clientConfig(cmd); err != nil {
			return keys.Ring{}, err
		} else if cc != nil {
			dir = cc.Keyring
		}
	}
	if dir == "" {
		return keys.Ring{}, fmt.Errorf("no keyring given: pass --keyring DIR (a testnet's is NET/keys)")
	}
	r := keys.Ring{Dir: dir}
	if pf, _ := cmd.Flags().GetString("passphrase-file"); pf != "" {
		r.Passphrase = keys.PassphraseFile(pf)
	}
	return r, nil
}

// signer loads the member key NAME from the keyring.
func signer(cmd *cobra.Command, name string) (ed25519.PrivateKey, error) {
	if name == "" {
		return nil, fmt.Errorf("no signer given: pass --from NAME (a key in the keyring)")
	}
	r, err := keyring(cmd)
	if err != nil {
		return nil, err
	}
	k, err := r.Get(name)
	if err != nil {
		return nil, err
	}
	return k.Private, nil
}

// jsonOutput reports whether --output json was asked for.
func jsonOutput(cmd *cobra.Command) (bool, error) {
	o, _ := cmd.Flags().GetString("output")
	switch o {
	case "", "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fmt.Errorf("--output %q: use text or json", o)
}

// emit prints v as indented JSON with --output json, else calls text.
func emit(cmd *cobra.Command, v any, text func(w io.Writer)) error {
	j, err := jsonOutput(cmd)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if j {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(w)
	return nil
}

// submitTx builds a transaction with the --from key and the node's chain
// id, and submits it (waiting for the receipt with wait).
func submitTx(cmd *cobra.Command, from string, wait bool, build func(k ed25519.PrivateKey, chainID string) *block.Tx) (*view.Submitted, error) {
	key, err := signer(cmd, from)
	if err != nil {
		return nil, err
	}
	c, err := clientFor(cmd)
	if err != nil {
		return nil, err
	}
	id, err := chainID(cmd)
	if err != nil {
		return nil, err
	}
	tx := build(key, id)
	res, err := submitWithProgress(cmd, c, tx, wait)
	if err != nil {
		return nil, fmt.Errorf("%s transaction refused: %w", tx.Kind, err)
	}
	return res, nil
}

// emitReceipt prints a submitted transaction (and its receipt) and turns a
// failed receipt into exit status 1.
func emitReceipt(cmd *cobra.Command, res *view.Submitted, what string) error {
	if err := emit(cmd, res, func(w io.Writer) {
		fmt.Fprintf(w, "%s\ntx %s\n", what, res.Hash)
		if res.Receipt != nil {
			printReceipt(w, res.Receipt)
		} else {
			fmt.Fprintln(w, "submitted (--wait=false); trialchain tx get TXHASH shows its receipt")
		}
	}); err != nil {
		return err
	}
	if res.Receipt != nil && res.Receipt.Status != "ok" {
		return &exitError{code: 1, msg: "transaction failed: " + res.Receipt.Error}
	}
	return nil
}

// genesisPath finds the genesis file that makes a client verify what
// nodes serve: --genesis, else $TRIALCHAIN_GENESIS, else --home's
// genesis.json, else the client configuration's. It returns "" when none
// is given.
func genesisPath(cmd *cobra.Command) (string, error) {
	if p, _ := cmd.Flags().GetString("genesis"); p != "" {
		return p, nil
	}
	if p := os.Getenv("TRIALCHAIN_GENESIS"); p != "" {
		return p, nil
	}
	if home, _ := cmd.Flags().GetString("home"); home != "" {
		return filepath.Join(home, "genesis.json"), nil
	}
	cc, err := clientConfig(cmd)
	if err != nil || cc == nil {
		return "", err
	}
	return cc.Genesis, nil
}

// genesisFor loads the genesis genesisPath finds; none is an error.
func genesisFor(cmd *cobra.Command) (*genesis.Genesis, string, error) {
	path, err := genesisPath(cmd)
	if err != nil {
		return nil, "", err
	}
	if path == "" {
		return nil, "", errors.New("no genesis file given: pass --genesis FILE (the network's genesis.json, e.g. NET/genesis.json), set $TRIALCHAIN_GENESIS, or use --home or a client.toml beside the keyring")
	}
	g, err := genesis.Load(path)
	return g, path, err
}

// optionalGenesis loads the genesis genesisPath finds, or returns nil when
// none is given: the caller then says that what it prints is unverified.
func optionalGenesis(cmd *cobra.Command) (*genesis.Genesis, error) {
	path, err := genesisPath(cmd)
	if err != nil || path == "" {
		return nil, err
	}
	return genesis.Load(path)
}

// warnUnverified says on stderr, plainly, that what follows is the node's
// word: nothing was checked against the validators' signatures.
func warnUnverified(cmd *cobra.Command, what string) {
	fmt.Fprintf(cmd.ErrOrStderr(), "UNVERIFIED: %s is printed as the node sent it, unchecked: give the genesis file "+
		"(--genesis FILE, $TRIALCHAIN_GENESIS, --home, or a client.toml beside the keyring) to verify it against the validators' signatures\n", what)
}

// checkSameChain refuses a node of another chain than the genesis's.
func checkSameChain(c *client.Client, st *view.Status, g *genesis.Genesis) error {
	if st.ChainID != g.ChainID || st.GenesisHash != g.Hash() {
		return &exitError{code: 1, msg: fmt.Sprintf("node %s serves chain %s (genesis %s), but the genesis file is of chain %s (genesis %s): nothing to verify against",
			c.Label(), st.ChainID, st.GenesisHash, g.ChainID, g.Hash())}
	}
	return nil
}
