package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/doctor"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/store"
)

func init() { register(newDoctorCmd) }

func newDoctorCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check a stopped node's stored chain against what the validators certified (exit 1 on damage)",
		Long: `Re-check the store of the node whose home is --home, offline (stop the node
first: the store is locked while it runs). Every stored block must carry a
certificate of a quorum of the validator set in force at its height (the
genesis set, then as validator transactions changed it), link to its
parent and hold the transactions its header commits to; every receipt must be the
record committed for it in the record log; the record log's root must be
the one the last certified header names; every stored state value
(anchors, members, contract state) must be the one the state tree under
the head's state root holds, and together make that root. Problems are
listed with their block height and the command exits 1.

  trialchain doctor --home net/node0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString("home")
			if home == "" {
				return errors.New("--home DIR is required: the node's home directory")
			}
			cfg, err := node.LoadConfig(home)
			if err != nil {
				return err
			}
			g, err := genesis.Load(cfg.Path(cfg.Genesis))
			if err != nil {
				return err
			}
			s, err := store.Open(filepath.Join(cfg.Path(cfg.DataDir), "db"))
			if err != nil {
				return fmt.Errorf("%w (is the node still running? stop it first)", err)
			}
			defer s.Close()
			rep := doctor.Check(g, s)
			if err := emit(cmd, rep, func(w io.Writer) {
				fmt.Fprintf(w, "checked %d blocks, %d receipts and %d state values up to height %d\n", rep.Blocks, rep.Receipts, rep.States, rep.Head)
				for _, p := range rep.Problems {
					fmt.Fprintf(w, "DAMAGED %s\n", p)
				}
				if rep.OK() {
					fmt.Fprintln(w, "OK: the store matches the certified chain")
				}
			}); err != nil {
				return err
			}
			if !rep.OK() {
				return &exitError{code: 1, msg: fmt.Sprintf("the store of %s is damaged: %d problems", home, len(rep.Problems))}
			}
			return nil
		},
	}
	return c
}
