package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/cmd/trialchain/explorer"
)

func init() { register(newExplorerCmd) }

func newExplorerCmd() *cobra.Command {
	var listen string
	c := &cobra.Command{
		Use:   "explorer",
		Short: "Serve a web explorer of a node's blocks and transactions, and an auditor's page that verifies bundles in the browser",
		Long: `Serve, on --listen, pages showing the node's recent blocks and each block's
transactions and receipts (the node's word), and /audit, where an auditor
drops the genesis file and a bundle (trialchain export) and the browser
verifies it with TrialChain's own verifier compiled to WebAssembly, trusting
no server.

  trialchain explorer --listen 127.0.0.1:8088 --keyring net/keys`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("explorer: %w", err)
			}
			srv := &http.Server{Handler: explorer.Handler(cl, explorer.Options{}), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.ErrOrStderr(), "explorer on http://%s (auditor's page /audit)\n", ln.Addr())
			go func() {
				<-cmd.Context().Done()
				_ = srv.Close()
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("explorer: %w", err)
			}
			return nil
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:8088", "address to serve the explorer on")
	return c
}
