// Command trialchain is the TrialChain node and client: it runs validators
// (start, testnet, devnet), manages member keys (keys), and talks to a
// node's client API (status, block, tx, anchor, contract, consent, trial,
// genome, surgery, ...).
//
// Command groups live one per file and add themselves with register.
// Client commands share the persistent flags --node, --home, --keyring and
// --output; see clientFor, signer and emit.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// builders are the top-level command constructors, added by each file's init.
var builders []func() *cobra.Command

// register adds a top-level command (call it from an init function).
func register(b func() *cobra.Command) { builders = append(builders, b) }

// exitError carries a process exit code without a message printed twice.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "trialchain",
		Short: "TrialChain: a permissioned blockchain for clinical-trial data",
		Long: `TrialChain runs validator nodes that agree (SmartBFT over mutually
authenticated QUIC) on signed transactions, keeps every block in Pebble, and
runs trial protocols as sandboxed WebAssembly contracts.

Start a local 4-validator network in one command:

  trialchain devnet --validators 4

then, in another shell, use the keyring and node it prints:

  trialchain status --home devnet/node0
  trialchain anchor README.md --label readme --from sponsor --keyring devnet/keys --home devnet/node0 --wait`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	pf := root.PersistentFlags()
	pf.String("node", "", "client API URL of a node: https://HOST:PORT (TLS), h3://HOST:PORT (HTTP/3), both with the node's key pinned from the genesis, or http://127.0.0.1:PORT (plain, this machine only) (env TRIALCHAIN_NODE)")
	pf.String("home", "", "home directory of a node, to find its client API (alternative to --node)")
	pf.String("keyring", "", "directory of member keys (env TRIALCHAIN_KEYRING)")
	pf.String("passphrase-file", "", "file whose first line is the passphrase of encrypted keys, for scripts (env TRIALCHAIN_PASSPHRASE_FILE or TRIALCHAIN_PASSPHRASE; default: asked on the terminal)")
	pf.String("genesis", "", "the network's genesis file: with it, what nodes serve is verified against the validators' signatures (env TRIALCHAIN_GENESIS; default: --home's, or the client config's)")
	pf.String("client-config", "", "client configuration naming genesis, nodes and keyring (env TRIALCHAIN_CLIENT_CONFIG; default: client.toml beside the keyring, which testnet writes, else ./client.toml)")
	pf.StringP("output", "o", "text", "output format: text or json")
	pf.Bool("progress", false, "print progress of long work (prime generation, commits, export, verify) to stderr every few seconds even when stderr is not a terminal (on a terminal it is always shown; stdout never carries it)")
	for _, b := range builders {
		root.AddCommand(b())
	}
	return root
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
