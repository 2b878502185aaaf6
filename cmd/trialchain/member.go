package main

import (
	"crypto/ed25519"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newMemberCmd) }

func newMemberCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "member",
		Short: "Register, revoke and look up member keys (an admin's job)",
		Long: `Members are ed25519 keys with an organisation and a role (admin, sponsor,
site, regulator, committee, operator, researcher, subject). Only an admin
registers or revokes them; the role decides which transactions a key may send.

  trialchain keys new alice --keyring devnet/keys
  trialchain member add alice --org site-melbourne --role site --from admin --keyring devnet/keys --home devnet/node0
  trialchain member show alice --keyring devnet/keys --home devnet/node1
  trialchain member revoke alice --from admin --keyring devnet/keys --home devnet/node0`,
	}
	var org, role, from string
	add := &cobra.Command{
		Use:   "add KEY --org ORG --role ROLE --from ADMIN",
		Short: "Register a member key (64 hex, or a key name in the keyring) with an organisation and role",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return memberTx(cmd, args[0], org, role, from, false)
		},
	}
	add.Flags().StringVar(&org, "org", "", "organisation, e.g. site-melbourne")
	add.Flags().StringVar(&role, "role", "", "admin, sponsor, site, regulator, committee, operator, researcher or subject")
	add.Flags().StringVar(&from, "from", "", "admin key that signs")
	for _, f := range []string{"org", "role", "from"} {
		_ = add.MarkFlagRequired(f)
	}
	var rfrom string
	revoke := &cobra.Command{
		Use:   "revoke KEY --from ADMIN",
		Short: "Revoke a member key: it can send nothing more",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return memberTx(cmd, args[0], "", "", rfrom, true)
		},
	}
	revoke.Flags().StringVar(&rfrom, "from", "", "admin key that signs")
	_ = revoke.MarkFlagRequired("from")
	show := &cobra.Command{
		Use:   "show KEY",
		Short: "Show a member's organisation, role and status",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := memberKey(cmd, args[0])
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			m, err := lookupMember(cmd, cl, pub)
			if err != nil {
				return err
			}
			if m == nil {
				return &exitError{code: 1, msg: fmt.Sprintf("%s is not a registered member", args[0])}
			}
			return emit(cmd, m, func(w io.Writer) {
				st := "active"
				if m.Revoked {
					st = "REVOKED"
				}
				fmt.Fprintf(w, "%s (%s, %s) %s since height %d\nkey %s\n", m.Name, m.Org, m.Role, st, m.Since, m.Key)
			})
		},
	}
	var rotFrom string
	rotate := &cobra.Command{
		Use:   "rotate OLD NEW [--from OLD|ADMIN]",
		Short: "Replace a member's key: NEW takes OLD's organisation and role, OLD is revoked in the same transaction",
		Long: `rotate links an organisation's new key to its old one on chain. Records
signed with OLD before the rotation still verify (a bundle carries the key's
membership history and a verifier checks each signer held its role at the
record's block); from the rotation on, OLD can send nothing.

The member rotates its own key (--from OLD, the default) or an admin does
(--from ADMIN). OLD and NEW are 64-hex keys or names in the keyring.`,
		Example: `  trialchain keys new site-2027 --keyring net/keys
  trialchain member rotate site site-2027 --keyring net/keys --home net/node0`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := memberKey(cmd, args[0])
			if err != nil {
				return err
			}
			nk, err := memberKey(cmd, args[1])
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			m, err := lookupMember(cmd, cl, old)
			if err != nil {
				return err
			}
			if m == nil || m.Revoked {
				return &exitError{code: 1, msg: fmt.Sprintf("%s is not an active member: there is nothing to rotate", args[0])}
			}
			role, err := block.ParseRole(m.Role)
			if err != nil {
				return err
			}
			p := &block.RegisterPayload{Key: nk, Org: m.Org, Name: m.Name, Role: role, Replaces: old}
			signer := rotFrom
			if signer == "" {
				signer = args[0]
			}
			res, err := submitTx(cmd, signer, true, func(k ed25519.PrivateKey, chainID string) *block.Tx {
				return client.Sign(k, chainID, block.KindRegister, p.Encode(), 100_000)
			})
			if err != nil {
				return err
			}
			return emitReceipt(cmd, res, fmt.Sprintf("member %s (%s, %s) rotated to key %s; the old key is revoked", m.Name, m.Org, m.Role, args[1]))
		},
	}
	rotate.Flags().StringVar(&rotFrom, "from", "", "key that signs: OLD itself (default) or an admin")
	c.AddCommand(add, revoke, show, rotate)
	return c
}

func memberTx(cmd *cobra.Command, who, org, role, from string, revoke bool) error {
	pub, err := memberKey(cmd, who)
	if err != nil {
		return err
	}
	p := &block.RegisterPayload{Key: pub, Org: org, Name: who, Role: block.RoleAdmin, Revoke: revoke}
	if !revoke {
		r, err := block.ParseRole(role)
		if err != nil {
			return fmt.Errorf("--role: %w", err)
		}
		p.Role = r
	} else {
		cl, err := clientFor(cmd)
		if err != nil {
			return err
		}
		m, err := lookupMember(cmd, cl, pub)
		if err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("%s is not a registered member", who)
		}
		p.Org, p.Name = m.Org, m.Name
		if p.Role, err = block.ParseRole(m.Role); err != nil {
			return err
		}
	}
	if len(who) == 64 && !revoke {
		p.Name = who[:8]
	}
	res, err := submitTx(cmd, from, true, func(k ed25519.PrivateKey, chainID string) *block.Tx {
		return client.Sign(k, chainID, block.KindRegister, p.Encode(), 100_000)
	})
	if err != nil {
		return err
	}
	verb := "registered"
	if revoke {
		verb = "revoked"
	}
	return emitReceipt(cmd, res, fmt.Sprintf("member %s %s (%s, %s)", who, verb, p.Org, p.Role))
}
