package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() { register(newKeysCmd) }

type keyView struct {
	Name   string `json:"name"`
	Public string `json:"public_key"`
}

func newKeysCmd() *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Create and list member keys in a keyring (--keyring DIR)"}
	newCmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Create an ed25519 member key NAME in the keyring",
		Long: `Create an ed25519 member key NAME in the keyring (a directory of NAME.key
files, written 0600 in a 0700 directory). The key signs transactions once an
admin registers its public key with a role.

With --encrypt the private key is stored encrypted under a passphrase
(scrypt, XChaCha20-Poly1305). Every command that signs with it then needs the
passphrase: from --passphrase-file FILE, $TRIALCHAIN_PASSPHRASE_FILE or
$TRIALCHAIN_PASSPHRASE (scripts), else asked on the terminal. Plain keys need
none.

  trialchain keys new site-a --encrypt --keyring keys
  trialchain keys new site-b --encrypt --passphrase-file /run/secrets/pw --keyring keys`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := keyring(cmd)
			if err != nil {
				return err
			}
			newKey := r.New
			if enc, _ := cmd.Flags().GetBool("encrypt"); enc {
				newKey = r.NewEncrypted
			}
			k, err := newKey(args[0])
			if err != nil {
				return err
			}
			return emit(cmd, keyView{k.Name, k.PublicHex()}, func(w io.Writer) {
				fmt.Fprintf(w, "created key %s in %s\npublic key: %s\n", k.Name, r.Dir, k.PublicHex())
			})
		},
	}
	newCmd.Flags().Bool("encrypt", false, "encrypt the private key under a passphrase (see --passphrase-file)")
	c.AddCommand(newCmd)
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the keys in the keyring",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := keyring(cmd)
			if err != nil {
				return err
			}
			ks, err := r.List()
			if err != nil {
				return err
			}
			out := make([]keyView, 0, len(ks))
			for _, k := range ks {
				out = append(out, keyView{k.Name, k.PublicHex()})
			}
			return emit(cmd, out, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tPUBLIC KEY")
				for _, k := range out {
					fmt.Fprintf(tw, "%s\t%s\n", k.Name, k.Public)
				}
				tw.Flush()
			})
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Show the public key of NAME",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := keyring(cmd)
			if err != nil {
				return err
			}
			k, err := r.Get(args[0])
			if err != nil {
				return fmt.Errorf("key %q in %s: %w", args[0], r.Dir, err)
			}
			return emit(cmd, keyView{k.Name, k.PublicHex()}, func(w io.Writer) {
				fmt.Fprintf(w, "name:       %s\npublic key: %s\n", k.Name, k.PublicHex())
			})
		},
	})
	return c
}
