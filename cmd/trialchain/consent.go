package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newConsentCmd) }

const dealerWarning = `Note: CIRCL's threshold RSA needs a trusted dealer. This process generated
the group key, dealt the shares and wiped the key from memory, but while it
existed it could sign alone: run the ceremony on a machine all parties trust.
The scheme is not robust: one bad share makes a combination fail. We
mitigate: every share is also signed with its party's member key, and
'consent combine' tries subsets to find and name a bad share.`

func newConsentCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "consent",
		Short: "Multi-party consent: t-of-n threshold signatures of a consent group",
		Long: `A consent group (e.g. sponsor, ethics committee, principal investigator,
data-safety board) agrees to one exact action when T of its N parties sign.
The chain records one RSA-PSS signature, verifiable with crypto/rsa, plus
who signed and what each signature meant.

  trialchain consent group new --name board --threshold 3 --party sponsor=sponsor --party ... --keyring devnet/keys --out board
  trialchain consent group register board/group.json --from sponsor --keyring devnet/keys --home devnet/node0 --wait
  trialchain consent action --contract ADDR --method amend --message-file amendment.json --out action.json
  trialchain consent sign --group board/group.json --share board/share-01-sponsor.bin --keyring devnet/keys --as sponsor \
      --action action.json --meaning "approve amendment" --home devnet/node0 > sponsor.sig
  trialchain consent combine --group board/group.json sponsor.sig committee.sig site.sig > consent.sig
  trialchain consent verify --group board/group.json --action action.json consent.sig --home devnet/node0`,
	}
	g := &cobra.Command{Use: "group", Short: "Create, register and show consent groups"}
	g.AddCommand(newConsentGroupNewCmd(), newConsentGroupRegisterCmd())
	c.AddCommand(g, newConsentActionCmd(), newConsentSignCmd(), newConsentCombineCmd(), newConsentVerifyCmd())
	return c
}

// memberKey resolves a party's member key: 64 hex characters, or the name
// of a key in the keyring.
func memberKey(cmd *cobra.Command, s string) (ed25519.PublicKey, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	r, err := keyring(cmd)
	if err != nil {
		return nil, fmt.Errorf("member key %q is not 64 hex characters, and %w", s, err)
	}
	k, err := r.Get(s)
	if err != nil {
		return nil, fmt.Errorf("member key %q: not 64 hex characters nor a key in %s: %w", s, r.Dir, err)
	}
	return k.Public(), nil
}

func newConsentGroupNewCmd() *cobra.Command {
	var name, out, dealerKey string
	var threshold, bits int
	var parties, roles []string
	c := &cobra.Command{
		Use:   "new --name G --threshold T --party NAME=MEMBERKEY ... --out DIR",
		Short: "Key ceremony: generate a group key, deal one encrypted share per party, write DIR/group.json",
		Long: `Generate the group's RSA key (safe primes: tens of seconds to minutes),
deal one key share per party and encrypt each to that party's member key
(HPKE), write DIR/group.json (public), DIR/group.bin (what goes on chain)
and DIR/share-NN-NAME.bin (only that party can open it). The private key
lives only in memory and is wiped when done.

MEMBERKEY is a member's ed25519 public key (64 hex) or the name of a key in
--keyring. --role NAME=ROLE describes a party's role (default: its name).

` + dealerWarning,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec := consent.GroupSpec{Name: name, Threshold: threshold, Bits: bits}
			roleOf := map[string]string{}
			for _, r := range roles {
				n, v, ok := strings.Cut(r, "=")
				if !ok {
					return fmt.Errorf("--role %q: want NAME=ROLE", r)
				}
				roleOf[n] = v
			}
			for _, p := range parties {
				n, k, ok := strings.Cut(p, "=")
				if !ok || n == "" || k == "" {
					return fmt.Errorf("--party %q: want NAME=MEMBERKEY (hex public key or keyring name)", p)
				}
				pub, err := memberKey(cmd, k)
				if err != nil {
					return err
				}
				role := roleOf[n]
				if role == "" {
					role = n
				}
				spec.Parties = append(spec.Parties, consent.PartySpec{Name: n, Role: role, MemberKey: pub})
			}
			if out == "" {
				return errors.New("--out DIR is required")
			}
			if _, err := os.Stat(filepath.Join(out, consent.GroupFile)); err == nil {
				return fmt.Errorf("%s already holds a consent group; choose another --out", out)
			}
			fmt.Fprintln(cmd.ErrOrStderr(), dealerWarning)
			start := time.Now()
			var g *consent.Group
			var shares []*consent.SealedShare
			var err error
			if dealerKey != "" {
				key, kerr := loadDealerKey(dealerKey)
				if kerr != nil {
					return kerr
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: dealing from the existing key %s: whoever holds that file can sign for the group alone. Use only for demonstrations and tests.\n", dealerKey)
				g, shares, err = consent.DealWithKey(rand.Reader, spec, key)
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "generating a %d-bit safe-prime RSA key (this takes a while)…\n", max(bits, consent.MinKeyBits))
				stop := reporter(cmd).Every(cmd.Context(), "generating safe primes", nil)
				g, shares, err = consent.NewGroup(rand.Reader, spec)
				stop()
			}
			if err != nil {
				return err
			}
			if err := consent.WriteCeremony(out, g, shares); err != nil {
				return err
			}
			id := g.ID()
			type partyOut struct{ Name, Role, MemberKey, ShareFile string }
			var ps []partyOut
			for _, p := range g.Parties {
				ps = append(ps, partyOut{p.Name, p.Role, hex.EncodeToString(p.MemberKey), filepath.Join(out, consent.ShareFileName(p))})
			}
			v := map[string]any{"group_id": hex.EncodeToString(id[:]), "name": g.Name, "threshold": g.Threshold, "parties": ps,
				"group_file": filepath.Join(out, consent.GroupFile), "seconds": time.Since(start).Seconds()}
			return emit(cmd, v, func(w io.Writer) {
				fmt.Fprintf(w, "consent group %q: %d of %d, id %x (%.1fs)\n", g.Name, g.Threshold, len(g.Parties), id, time.Since(start).Seconds())
				fmt.Fprintf(w, "  %s  (public; register it with 'trialchain consent group register')\n", filepath.Join(out, consent.GroupFile))
				for _, p := range ps {
					fmt.Fprintf(w, "  %-24s share for %s (%s), encrypted to its member key\n", p.ShareFile, p.Name, p.Role)
				}
			})
		},
	}
	c.Flags().StringVar(&name, "name", "", "group name")
	c.Flags().IntVar(&threshold, "threshold", 0, "signatures needed (T of N)")
	c.Flags().StringArrayVar(&parties, "party", nil, "NAME=MEMBERKEY, once per party")
	c.Flags().StringArrayVar(&roles, "role", nil, "NAME=ROLE, the role of a party (optional)")
	c.Flags().StringVar(&out, "out", "", "directory to write the group and the shares to")
	c.Flags().IntVar(&bits, "bits", 2048, "RSA modulus size (2048..4096)")
	c.Flags().StringVar(&dealerKey, "dealer-key", "", "deal from this safe-prime RSA key (PEM) instead of generating one: demos and tests only")
	return c
}

func loadDealerKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseDealerKey(b, path)
}

func parseDealerKey(b []byte, what string) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", what)
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return k, nil
}

// readGroup reads group.json (or group.bin).
func readGroup(path string) (*consent.Group, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var g *consent.Group
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		g, err = consent.ParseGroupJSON(b)
	} else {
		g, err = consent.ParseGroup(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

func newConsentGroupRegisterCmd() *cobra.Command {
	var from string
	var wait bool
	c := &cobra.Command{
		Use:   "register DIR/group.json --from NAME [--wait]",
		Short: "Put a consent group on chain (its id is the SHA-256 of its canonical encoding)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := readGroup(args[0])
			if err != nil {
				return err
			}
			bin, err := g.MarshalBinary()
			if err != nil {
				return err
			}
			res, err := submitTx(cmd, from, wait, func(k ed25519.PrivateKey, chainID string) *block.Tx {
				return client.ConsentGroupTx(k, chainID, bin)
			})
			if err != nil {
				return err
			}
			id := g.ID()
			return emitReceipt(cmd, res, fmt.Sprintf("consent group %q (%d of %d) id %x", g.Name, g.Threshold, len(g.Parties), id))
		},
	}
	c.Flags().StringVar(&from, "from", "", "member key that signs (admin, sponsor, site or committee)")
	c.Flags().BoolVar(&wait, "wait", true, "wait for the receipt (--wait=false: only submit)")
	_ = c.MarkFlagRequired("from")
	return c
}

// actionFile is the JSON form of a consent action, written by 'consent
// action' (or by the trial commands). Any other file stands for the
// action "this file's SHA-256".
type actionFile struct {
	Action   string `json:"trialchain_action"` // contract-call | record-sha256 | contract-upgrade | validator-change
	Contract string `json:"contract,omitempty"`
	Method   string `json:"method,omitempty"`
	Message  string `json:"message_hex,omitempty"` // the bytes the contract passes to consent_verify
	Record   string `json:"record_sha256,omitempty"`
	CodeHash string `json:"code_sha256,omitempty"`
	Change   string `json:"validator_change_sha256,omitempty"`
	Note     string `json:"note,omitempty"`
}

func readAction(path string) (consent.Action, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return consent.Action{}, err
	}
	var af actionFile
	if json.Unmarshal(b, &af) != nil || af.Action == "" {
		return consent.FileAction(bytes.NewReader(b))
	}
	hash := func(s, what string) (block.Hash, error) {
		h, err := block.ParseHash(s)
		if err != nil {
			return h, fmt.Errorf("%s: %s: %w", path, what, err)
		}
		return h, nil
	}
	switch af.Action {
	case consent.KindContractCall:
		addr, err := hash(af.Contract, "contract")
		if err != nil {
			return consent.Action{}, err
		}
		msg, err := hex.DecodeString(af.Message)
		if err != nil {
			return consent.Action{}, fmt.Errorf("%s: message_hex: %w", path, err)
		}
		return contracts.CallAction(addr, af.Method, msg), nil
	case consent.KindRecord:
		h, err := hash(af.Record, "record_sha256")
		if err != nil {
			return consent.Action{}, err
		}
		return consent.RecordAction(h), nil
	case contracts.ActionUpgrade:
		addr, err := hash(af.Contract, "contract")
		if err != nil {
			return consent.Action{}, err
		}
		ch, err := hash(af.CodeHash, "code_sha256")
		if err != nil {
			return consent.Action{}, err
		}
		return contracts.UpgradeAction(addr, ch), nil
	case consent.KindValidatorChange:
		h, err := hash(af.Change, "validator_change_sha256")
		if err != nil {
			return consent.Action{}, err
		}
		return consent.Action{Kind: consent.KindValidatorChange, Data: h[:]}, nil
	}
	return consent.Action{}, fmt.Errorf("%s: unknown trialchain_action %q (want %s, %s, %s or %s)", path, af.Action, consent.KindContractCall, consent.KindRecord, contracts.ActionUpgrade, consent.KindValidatorChange)
}

func newConsentActionCmd() *cobra.Command {
	var af actionFile
	var message, messageFile, out string
	c := &cobra.Command{
		Use:   "action --contract ADDR --method M (--message TEXT | --message-file F) --out FILE",
		Short: "Write an action file: the exact contract call a consent will authorise",
		Long: `Write the action file that 'consent sign' and 'consent verify' take: a call of
METHOD on contract ADDR that passes MESSAGE to consent_verify (what the
contract's method documents, e.g. the amendment's canonical JSON). A consent
for it is valid for that contract, method and message only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := block.ParseHash(af.Contract); err != nil {
				return fmt.Errorf("--contract: %w", err)
			}
			if af.Method == "" || out == "" {
				return errors.New("--method and --out are required")
			}
			msg := []byte(message)
			if messageFile != "" {
				var err error
				if msg, err = os.ReadFile(messageFile); err != nil {
					return err
				}
			}
			af.Action, af.Message = consent.KindContractCall, hex.EncodeToString(msg)
			b, _ := json.MarshalIndent(af, "", "  ")
			if err := genesis.WriteFileAtomic(out, append(b, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "action written to %s: %s of %s\n", out, af.Method, af.Contract)
			return nil
		},
	}
	c.Flags().StringVar(&af.Contract, "contract", "", "contract address (64 hex)")
	c.Flags().StringVar(&af.Method, "method", "", "method that checks the consent")
	c.Flags().StringVar(&message, "message", "", "the message the method passes to consent_verify")
	c.Flags().StringVar(&messageFile, "message-file", "", "read the message from a file")
	c.Flags().StringVar(&af.Note, "note", "", "a note for the signers (not signed)")
	c.Flags().StringVar(&out, "out", "", "action file to write")
	return c
}

// chainIDFor returns --chain-id, or the chain id of the genesis
// (genesisPath: --genesis, $TRIALCHAIN_GENESIS, --home, client.toml);
// never a node's word.
func chainIDFor(cmd *cobra.Command) (string, error) {
	if id, _ := cmd.Flags().GetString("chain-id"); id != "" {
		return id, nil
	}
	if gp, _ := genesisPath(cmd); gp != "" {
		g, err := genesis.Load(gp)
		if err != nil {
			return "", err
		}
		return g.ChainID, nil
	}
	return "", errors.New("which chain? pass --chain-id or the genesis (--genesis FILE, $TRIALCHAIN_GENESIS, --home, or a client.toml beside the keyring)")
}

func addChainFlags(c *cobra.Command) {
	c.Flags().String("chain-id", "", "chain id (default: from the genesis)")
	c.Flags().String("genesis", "", "genesis file to take the chain id from")
}

func newConsentSignCmd() *cobra.Command {
	var groupPath, sharePath, as, actionPath, meaning, printed, out string
	c := &cobra.Command{
		Use:   "sign --group DIR/group.json --share FILE --as NAME --action FILE --meaning TEXT > share.sig",
		Short: "Sign a consent share: open your share with your member key and sign the action",
		Long: `Open your encrypted key share with your member key (--as NAME in --keyring),
sign the consent message — group id, chain id, the exact action, the meaning —
and attest it, with your printed name and the UTC time (21 CFR 11.50), with
your ed25519 member key. The signed share goes to stdout (or --out); hand it
to whoever combines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := readGroup(groupPath)
			if err != nil {
				return err
			}
			key, err := signer(cmd, as)
			if err != nil {
				return err
			}
			raw, err := os.ReadFile(sharePath)
			if err != nil {
				return err
			}
			sealed, err := consent.ParseSealedShare(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", sharePath, err)
			}
			ks, err := consent.OpenShare(g, sealed, key)
			if err != nil {
				return fmt.Errorf("%s with key %q: %w", sharePath, as, err)
			}
			defer ks.Wipe()
			action, err := readAction(actionPath)
			if err != nil {
				return err
			}
			chainID, err := chainIDFor(cmd)
			if err != nil {
				return err
			}
			if printed == "" {
				printed = g.Parties[ks.Party()-1].Name
			}
			m := consent.Manifestation{PrintedName: printed, Time: time.Now().UTC(), Meaning: meaning}
			ss, err := consent.SignShare(rand.Reader, g, ks, key, chainID, action, m)
			if err != nil {
				return err
			}
			b, err := ss.MarshalBinary()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s (party %d of %q) signed %q for %s on %s at %s\n", printed, ks.Party(), g.Name, meaning, action, chainID, m.Time.Format(time.RFC3339))
			return writeOut(cmd, out, b)
		},
	}
	c.Flags().StringVar(&groupPath, "group", "", "the group's group.json")
	c.Flags().StringVar(&sharePath, "share", "", "your sealed share file (share-NN-NAME.bin)")
	c.Flags().StringVar(&as, "as", "", "your member key's name in --keyring")
	c.Flags().StringVar(&actionPath, "action", "", "action file (see 'consent action'), or any file whose SHA-256 is the action")
	c.Flags().StringVar(&meaning, "meaning", "", `what your signature means; the contract requires an exact meaning: "approve amendment" (trial amend), "release genome data" / "refuse genome data" (genome decide), "attest surgical record" (surgery cosign), "approve upgrade" (contract upgrade of a governed contract)`)
	c.Flags().StringVar(&printed, "printed-name", "", "your printed name (default: your party name)")
	c.Flags().StringVar(&out, "out", "", "write the signed share here instead of stdout")
	addChainFlags(c)
	for _, f := range []string{"group", "share", "as", "action", "meaning"} {
		_ = c.MarkFlagRequired(f)
	}
	return c
}

func writeOut(cmd *cobra.Command, path string, b []byte) error {
	if path != "" {
		return genesis.WriteFileAtomic(path, b, 0o644)
	}
	_, err := cmd.OutOrStdout().Write(b)
	return err
}

func newConsentCombineCmd() *cobra.Command {
	var groupPath, out string
	c := &cobra.Command{
		Use:   "combine --group DIR/group.json SHARE.sig... > consent.sig",
		Short: "Check each share's attestation and combine T of them into one consent signature",
		Long: `Check each signed share (its party, its ed25519 attestation, that all are for
the same chain, action and meaning), combine T valid shares into one RSA-PSS
signature and verify it. A bad share is named; with more shares than T,
subsets are tried to find it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := readGroup(groupPath)
			if err != nil {
				return err
			}
			shares := make([]*consent.SignedShare, 0, len(args))
			fileOf := map[int]string{}
			for _, p := range args {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				s, err := consent.ParseSignedShare(b)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				shares = append(shares, s)
				fileOf[s.Party] = p
			}
			c, err := consent.Combine(g, shares[0].Request(), shares...)
			if err != nil {
				var be *consent.BadSharesError
				var se *consent.ShareError
				switch {
				case errors.As(err, &be):
					var files []string
					for _, p := range be.Parties {
						files = append(files, fileOf[p])
					}
					return fmt.Errorf("%w (files: %s)", err, strings.Join(files, ", "))
				case errors.As(err, &se):
					return fmt.Errorf("%w (file: %s)", err, fileOf[se.Party])
				}
				return err
			}
			b, err := c.MarshalBinary()
			if err != nil {
				return err
			}
			id := c.ID()
			fmt.Fprintf(cmd.ErrOrStderr(), "combined %d shares of %q into consent %x for %q\n", len(c.Signers), g.Name, id, c.Request.Meaning)
			return writeOut(cmd, out, b)
		},
	}
	c.Flags().StringVar(&groupPath, "group", "", "the group's group.json")
	c.Flags().StringVar(&out, "out", "", "write the consent here instead of stdout")
	_ = c.MarkFlagRequired("group")
	return c
}

func newConsentVerifyCmd() *cobra.Command {
	var groupPath, actionPath string
	c := &cobra.Command{
		Use:   "verify --group DIR/group.json --action FILE consent.sig",
		Short: "Verify a consent offline: exit 0 printing signers and meanings, or exit 1 saying why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := readGroup(groupPath)
			if err != nil {
				return err
			}
			action, err := readAction(actionPath)
			if err != nil {
				return err
			}
			chainID, err := chainIDFor(cmd)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			c, err := consent.ParseConsent(b)
			if err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("%s: not valid: %v", args[0], err)}
			}
			signers, err := consent.Verify(g, chainID, action, c)
			if err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("%s: not valid: %v", args[0], err)}
			}
			type signerOut struct {
				Party       int    `json:"party"`
				Name        string `json:"name"`
				Role        string `json:"role"`
				PrintedName string `json:"printed_name"`
				Time        string `json:"time"`
				Meaning     string `json:"meaning"`
			}
			var so []signerOut
			for _, s := range signers {
				so = append(so, signerOut{s.Party, s.Name, s.Role, s.Manifestation.PrintedName, s.Manifestation.Time.UTC().Format(time.RFC3339), s.Manifestation.Meaning})
			}
			id := c.ID()
			v := map[string]any{"valid": true, "consent_id": hex.EncodeToString(id[:]), "group": g.Name, "chain_id": chainID, "meaning": c.Request.Meaning, "signers": so}
			return emit(cmd, v, func(w io.Writer) {
				fmt.Fprintf(w, "valid consent %x of group %q (%d of %d) on chain %s\n  action:  %s\n  meaning: %s\n  signers:\n", id, g.Name, g.Threshold, len(g.Parties), chainID, action, c.Request.Meaning)
				for _, s := range so {
					fmt.Fprintf(w, "    %d %-20s %-28s %s  %q\n", s.Party, s.Name, s.PrintedName, s.Time, s.Meaning)
				}
			})
		},
	}
	c.Flags().StringVar(&groupPath, "group", "", "the group's group.json")
	c.Flags().StringVar(&actionPath, "action", "", "the action file the consent must be for")
	addChainFlags(c)
	_ = c.MarkFlagRequired("group")
	_ = c.MarkFlagRequired("action")
	return c
}
