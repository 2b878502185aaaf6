package main

// Helpers shared by the trial, genome and surgery command groups: finding
// the three domain contracts, the Part 11 signature flags, sending a
// trials.Call as a transaction or a query, printing results in plain words
// (or JSON), and the two-step consent flow (write the action file, then
// send with the combined consent).

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

// defaultTrialGas is the gas limit of a domain call: well above what the
// largest call (a protocol registration) uses, below the chain's cap.
const defaultTrialGas = 500_000_000

// contractEnv names the environment variable that pins each contract's address.
var contractEnv = map[string]string{
	trials.TrialProtocol:   "TRIALCHAIN_TRIAL_PROTOCOL",
	trials.GenomeAccess:    "TRIALCHAIN_GENOME_ACCESS",
	trials.SurgicalRecords: "TRIALCHAIN_SURGICAL_RECORDS",
}

// domainGroup makes the parent command of a group (trial, genome,
// surgery) with the flags every verb shares: --contract.
func domainGroup(use, short, long, contract string) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Long: long}
	c.PersistentFlags().String("contract", "", fmt.Sprintf("address of the %s contract (default: $%s, else the contract an admin pinned as %s in the chain's contract registry; never a deploy label)",
		contract, contractEnv[contract], contract))
	return c
}

// resolveContract finds the address of the named contract: --contract,
// else its environment variable, else the chain's contract registry (the
// contract an admin pinned under name). It never looks at deploy labels:
// a label can be copied by a look-alike, deployed first or beside the
// real one. An unpinned name is refused with what to do.
func resolveContract(cmd *cobra.Command, cl *client.Client, name string) (block.Hash, error) {
	s, _ := cmd.Flags().GetString("contract")
	what := "--contract"
	if s == "" {
		s, what = os.Getenv(contractEnv[name]), "$"+contractEnv[name]
	}
	if s != "" {
		h, err := block.ParseHash(s)
		if err != nil {
			return h, fmt.Errorf("%s %q: want the contract's 64-hex address (trialchain contract deploy prints it)", what, s)
		}
		return h, nil
	}
	addr, err := cl.ResolvePin(cmd.Context(), name)
	if errors.Is(err, client.ErrNotPinned) {
		return block.Hash{}, notPinned(name)
	}
	if err != nil {
		return block.Hash{}, fmt.Errorf("finding the %s contract in the contract registry: %w", name, err)
	}
	return addr, nil
}

// addSignFlags adds the flags of a verb that signs a transaction: the
// member key, the Part 11 signature (printed name and meaning), waiting
// and gas.
func addSignFlags(c *cobra.Command, meaning string) {
	c.Flags().String("from", "", "member key in --keyring that signs (its role and organisation are checked by the contract)")
	c.Flags().String("printed-name", "", "your printed name, stored with the entry (21 CFR 11.50; default: your member name on chain)")
	c.Flags().String("meaning", meaning, `what your signature means, e.g. "author", "review", "approval"`)
	c.Flags().Bool("wait", true, "wait for the block and print the outcome (--wait=false: only submit)")
	c.Flags().Uint64("gas", defaultTrialGas, "gas limit")
	_ = c.MarkFlagRequired("from")
}

// callSender is who signs a domain transaction.
type callSender struct {
	key    ed25519.PrivateKey
	member *view.Member // nil if the node does not know the key
}

// loadSender loads --from and looks up its member record.
func loadSender(cmd *cobra.Command, cl *client.Client) (*callSender, error) {
	from, _ := cmd.Flags().GetString("from")
	key, err := signer(cmd, from)
	if err != nil {
		return nil, err
	}
	m, err := lookupMember(cmd, cl, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("key %q (%x) is not a member of this chain: an admin must register it first", from, key.Public())
	}
	if m.Revoked {
		return nil, fmt.Errorf("key %q: its membership (%s of %s) is revoked", from, m.Role, m.Org)
	}
	return &callSender{key: key, member: m}, nil
}

// signature is the Part 11 signature of the verb's flags.
func signature(cmd *cobra.Command, s *callSender) (model.Signature, error) {
	name, _ := cmd.Flags().GetString("printed-name")
	meaning, _ := cmd.Flags().GetString("meaning")
	if name == "" && s.member != nil {
		name = s.member.Name
	}
	sig := model.Signature{PrintedName: name, Meaning: meaning}
	if err := sig.Validate(); err != nil {
		return sig, fmt.Errorf("%v: pass --printed-name \"Dr. Jane Doe\" and --meaning author", err)
	}
	return sig, nil
}

// lookupMember reads GET /v1/members/{key}; nil if the key is unknown.
// (sdk/client has no Member method yet.)
func lookupMember(cmd *cobra.Command, cl *client.Client, key ed25519.PublicKey) (*view.Member, error) {
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, cl.Base+"/v1/members/"+hex.EncodeToString(key), nil)
	if err != nil {
		return nil, err
	}
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach node at %s: %w", cl.Base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		var e view.Error
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("member lookup: %s", e.Error)
		}
		return nil, fmt.Errorf("member lookup: node answered %s", resp.Status)
	}
	var m view.Member
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("member lookup: %w", err)
	}
	return &m, nil
}

// callResult is the --output json form of a domain transaction.
type callResult struct {
	Contract string          `json:"contract"` // contract name
	Address  block.Hash      `json:"address"`
	Method   string          `json:"method"`
	Tx       block.Hash      `json:"tx"`
	Status   string          `json:"status"` // ok | refused | failed | submitted
	Height   uint64          `json:"height,omitempty"`
	GasUsed  uint64          `json:"gas_used,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`   // the receipt's error
	Refusal  string          `json:"refusal,omitempty"` // the contract's refusal in plain words, with what to do
	Summary  string          `json:"summary,omitempty"` // the outcome in plain words
	Extra    map[string]any  `json:"extra,omitempty"`   // what the verb adds (subject id, saved record...)
}

// sendCall signs call with s's key and submits it to the contract it names.
func sendCall(cmd *cobra.Command, cl *client.Client, s *callSender, call trials.Call) (*callResult, error) {
	addr, err := resolveContract(cmd, cl, call.Contract)
	if err != nil {
		return nil, err
	}
	id, err := chainID(cmd)
	if err != nil {
		return nil, err
	}
	gas, _ := cmd.Flags().GetUint64("gas")
	wait, _ := cmd.Flags().GetBool("wait")
	tx := client.CallTx(s.key, id, addr, call.Method, call.Args, gas)
	res, err := submitWithProgress(cmd, cl, tx, wait)
	if err != nil {
		return nil, fmt.Errorf("%s.%s transaction refused by the node: %w", call.Contract, call.Method, err)
	}
	return callResultOf(call, addr, res.Hash, res.Receipt, wait)
}

// sendCalls signs every call with s's key and submits them together
// (client.SubmitAll: as few requests as their count and size allow), each
// with its own result in order. One the node refuses is a "failed" result
// saying why; the others are sent all the same. An error means the node
// could not be reached, and the calls after the failed request were not
// sent.
func sendCalls(cmd *cobra.Command, cl *client.Client, s *callSender, calls []trials.Call) ([]*callResult, error) {
	if len(calls) == 1 {
		r, err := sendCall(cmd, cl, s, calls[0])
		if err != nil {
			return nil, err
		}
		return []*callResult{r}, nil
	}
	id, err := chainID(cmd)
	if err != nil {
		return nil, err
	}
	gas, _ := cmd.Flags().GetUint64("gas")
	wait, _ := cmd.Flags().GetBool("wait")
	addrs := make([]block.Hash, len(calls))
	txs := make([]*block.Tx, len(calls))
	resolved := map[string]block.Hash{} // one registry lookup per contract
	for i, call := range calls {
		addr, ok := resolved[call.Contract]
		if !ok {
			if addr, err = resolveContract(cmd, cl, call.Contract); err != nil {
				return nil, err
			}
			resolved[call.Contract] = addr
		}
		addrs[i] = addr
		txs[i] = client.CallTx(s.key, id, addr, call.Method, call.Args, gas)
	}
	what := fmt.Sprintf("sending %d transactions", len(txs))
	if wait {
		what += " and waiting for their commits"
	}
	stop := reporter(cmd).Every(cmd.Context(), what, nodeHeight(cl))
	res, err := cl.SubmitAll(cmd.Context(), txs, wait)
	stop()
	out := make([]*callResult, 0, len(calls))
	for i, r := range res {
		if r.Status == 0 {
			break // not sent (err)
		}
		call := calls[i]
		if aerr := client.BatchErr(r); aerr != nil {
			out = append(out, &callResult{Contract: call.Contract, Address: addrs[i], Method: call.Method, Tx: r.Hash, Status: "failed",
				Error: fmt.Sprintf("%s.%s transaction refused by the node: %v", call.Contract, call.Method, aerr)})
			continue
		}
		cr, cerr := callResultOf(call, addrs[i], r.Hash, r.Receipt, wait)
		if cerr != nil {
			return out, cerr
		}
		out = append(out, cr)
	}
	if err != nil {
		return out, fmt.Errorf("%d of %d transactions sent: %w", len(out), len(calls), err)
	}
	return out, nil
}

// callResultOf is call's result from its transaction's receipt (nil: not
// committed yet).
func callResultOf(call trials.Call, addr, hash block.Hash, r *view.Receipt, wait bool) (*callResult, error) {
	out := &callResult{Contract: call.Contract, Address: addr, Method: call.Method, Tx: hash, Status: "submitted"}
	if r == nil {
		if wait {
			out.Summary = fmt.Sprintf("submitted as %s but not yet in a block; check later with: trialchain tx get %s", hash, hash)
		} else {
			out.Summary = fmt.Sprintf("submitted as %s; check it with: trialchain tx get %s", hash, hash)
		}
		return out, nil
	}
	out.Height, out.GasUsed = r.Height, r.GasUsed
	if r.Status != "ok" {
		out.Status, out.Error = "failed", r.Error
		if msg, ok := abortMessage(r.Error); ok {
			out.Status, out.Refusal = "refused", trials.ExplainRefusal(msg)
		} else {
			out.Refusal = "Failed: " + r.Error
		}
		return out, nil
	}
	out.Status = "ok"
	b, err := hex.DecodeString(r.Result)
	if err != nil {
		return nil, fmt.Errorf("receipt result: %w", err)
	}
	if json.Valid(b) {
		out.Result = b
	}
	if d, err := trials.Describe(call, b); err == nil {
		out.Summary = d
	} else {
		out.Summary = string(b)
	}
	return out, nil
}

// abortMessage extracts a contract's refusal ("code: message") from a
// receipt error such as "vm: abort: out-of-range: SYSBP ...".
func abortMessage(e string) (string, bool) {
	const mark = "abort: "
	i := strings.Index(e, mark)
	if i < 0 {
		return "", false
	}
	return e[i+len(mark):], true
}

// emitResults prints one or more call results; the first result not ok
// makes the exit status 1 (after everything is printed).
func emitResults(cmd *cobra.Command, rs ...*callResult) error {
	var v any = rs
	if len(rs) == 1 {
		v = rs[0]
	}
	if err := emit(cmd, v, func(w io.Writer) {
		for i, r := range rs {
			if i > 0 {
				fmt.Fprintln(w)
			}
			printResult(w, r)
		}
	}); err != nil {
		return err
	}
	var refused []*callResult
	for _, r := range rs {
		if r.Status == "refused" || r.Status == "failed" {
			refused = append(refused, r)
		}
	}
	switch len(refused) {
	case 0:
		return nil
	case 1:
		return &exitError{code: 1, msg: reasonOf(refused[0])}
	}
	// Several calls (e.g. trial submit --odm): every refusal, not the last.
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d transactions refused:", len(refused), len(rs))
	for _, r := range refused {
		fmt.Fprintf(&b, "\n  - tx %s: %s", shortID(r.Tx.String()), strings.ReplaceAll(reasonOf(r), "\n", "\n    "))
	}
	return &exitError{code: 1, msg: b.String()}
}

func reasonOf(r *callResult) string {
	if r.Refusal != "" {
		return r.Refusal
	}
	return r.Error
}

func printResult(w io.Writer, r *callResult) {
	switch r.Status {
	case "ok":
		fmt.Fprintln(w, r.Summary)
		fmt.Fprintf(w, "(tx %s, block %d)\n", r.Tx, r.Height)
	case "submitted":
		fmt.Fprintln(w, r.Summary)
	default:
		fmt.Fprintf(w, "%s.%s was not applied: nothing was written (tx %s, block %d).\n", r.Contract, r.Method, r.Tx, r.Height)
	}
}

// queryCall runs call read-only against the latest state and returns its JSON
// result; a refusal becomes an exit status 1 with the reason in words.
func queryCall(cmd *cobra.Command, cl *client.Client, call trials.Call) (json.RawMessage, error) {
	addr, err := resolveContract(cmd, cl, call.Contract)
	if err != nil {
		return nil, err
	}
	q, err := cl.Query(cmd.Context(), addr, call.Method, call.Args, 0)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(cmd.ErrOrStderr(), unverifiedQuery)
	if q.Status != "ok" {
		msg := q.Error
		if m, ok := abortMessage(q.Error); ok {
			msg = m
		}
		return nil, &exitError{code: 1, msg: trials.ExplainRefusal(msg)}
	}
	b, err := hex.DecodeString(q.Result)
	if err != nil {
		return nil, fmt.Errorf("query result: %w", err)
	}
	return b, nil
}

// unverifiedQuery is what a read through a contract query says: the node
// computes the answer from its own state, and no proof comes with it.
const unverifiedQuery = "UNVERIFIED: a contract query is the node's answer, computed from its state without a proof; " +
	"for evidence checked against the validators' signatures use 'trialchain export --trial ID' and 'trialchain verify' or 'trialchain audit'"

// queryNote is the help text's word on it.
const queryNote = `

Unverified: the answer is a contract query that the node computes from its
own state; no proof comes with it, and the command says so on stderr. For
evidence checked against the validators' signatures, export the trial
('trialchain export --trial ID') and verify or audit the bundle.`

// emitQuery prints a query's result: the JSON itself with --output json,
// else trials.Describe's words.
func emitQuery(cmd *cobra.Command, call trials.Call, b json.RawMessage) error {
	return emit(cmd, b, func(w io.Writer) {
		d, err := trials.Describe(call, b)
		if err != nil {
			d = string(b)
		}
		fmt.Fprintln(w, d)
	})
}

// notSent turns an error of the local checks (what the contract would
// refuse) into words that say what to fix; other errors pass unchanged.
func notSent(err error) error {
	var me *model.Error
	if errors.As(err, &me) {
		s := trials.ExplainRefusal(me.Error())
		return &exitError{code: 1, msg: "Not sent: " + strings.TrimPrefix(s, "Refused: ")}
	}
	return err
}

// groupID resolves a consent group given as a 64-hex id or a group.json
// (or group.bin) file.
func groupID(flag, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%s is required: a consent group id (64 hex) or its group.json (see trialchain consent group new)", flag)
	}
	if model.IsHash(strings.ToLower(s)) {
		return strings.ToLower(s), nil
	}
	if _, err := os.Stat(s); err != nil {
		return "", fmt.Errorf("%s %q: neither a consent group id (64 hex) nor a readable group.json: %w", flag, s, err)
	}
	g, err := readGroup(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	id := g.ID()
	return hex.EncodeToString(id[:]), nil
}

// hashArg returns the SHA-256 of a file, or s itself if it is already a
// 64-hex SHA-256.
func hashArg(flag, s string) (string, error) {
	if model.IsHash(strings.ToLower(s)) {
		return strings.ToLower(s), nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return "", fmt.Errorf("%s %q: neither a SHA-256 (64 hex) nor a readable file: %w", flag, s, err)
	}
	return trials.HashBytes(b), nil
}

// addConsentFlags adds the two-step consent flags of a verb whose contract
// method checks a consent group's consent.
func addConsentFlags(c *cobra.Command) {
	c.Flags().String("action-out", "", "step 1: write the action file the consent group signs, print the next steps, send nothing")
	c.Flags().String("consent", "", "step 2: the combined consent file (trialchain consent combine … > consent.sig)")
}

// consentStep handles the two-step consent flow. With --action-out it
// writes the action file for contract method's consent over digest and
// prints what each party of who (the consent group, in words) and the
// sender do next (done = true: the verb
// stops there). With --consent it returns the consent's bytes.
func consentStep(cmd *cobra.Command, cl *client.Client, contract, method string, digest [32]byte, meaning, who, rerun string) (consentB []byte, done bool, err error) {
	out, _ := cmd.Flags().GetString("action-out")
	in, _ := cmd.Flags().GetString("consent")
	if out != "" && in != "" {
		return nil, false, errors.New("give --action-out (prepare) or --consent (send), not both")
	}
	if in != "" {
		b, err := os.ReadFile(in)
		if err != nil {
			return nil, false, fmt.Errorf("--consent: %w", err)
		}
		if _, err := consent.ParseConsent(b); err != nil {
			return nil, false, fmt.Errorf("--consent %s is not a combined consent (%v): make it with trialchain consent combine", in, err)
		}
		return b, false, nil
	}
	if out == "" {
		return nil, false, nil
	}
	addr, err := resolveContract(cmd, cl, contract)
	if err != nil {
		return nil, false, err
	}
	af := actionFile{Action: consent.KindContractCall, Contract: addr.String(), Method: method, Message: hex.EncodeToString(digest[:]),
		Note: fmt.Sprintf("%s.%s: %s", contract, method, meaning)}
	b, _ := json.MarshalIndent(af, "", "  ")
	if err := genesis.WriteFileAtomic(out, append(b, '\n'), 0o644); err != nil {
		return nil, false, err
	}
	v := map[string]any{"action_file": out, "contract": addr, "method": method, "digest": hex.EncodeToString(digest[:]), "signers": who}
	return nil, true, emit(cmd, v, func(w io.Writer) {
		fmt.Fprintf(w, "Wrote %s: the action %s must approve (%s.%s, digest %x).\n", out, who, contract, method, digest)
		fmt.Fprintf(w, "Next:\n  1. each of the threshold of parties signs:\n       trialchain consent sign --group GROUP/group.json --share GROUP/share-NN-NAME.bin --as NAME --action %s --meaning %q --out NAME.sig\n", out, meaning)
		fmt.Fprintf(w, "  2. combine the shares:\n       trialchain consent combine --group GROUP/group.json NAME1.sig NAME2.sig … --out consent.sig\n")
		fmt.Fprintf(w, "  3. send it:\n       %s --consent consent.sig\n", rerun)
	})
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// requireFlag says which flag is missing and gives an example value.
func requireFlag(name, example string) error {
	return fmt.Errorf("--%s is required, e.g. --%s %s", name, name, example)
}

// signAndSend is a one-call verb's whole send: the node and the signer of
// the command's flags, the call build makes for that signer (refused
// before anything is sent if it cannot be built), sent and reported.
func signAndSend(cmd *cobra.Command, build func(sig model.Signature) (trials.Call, error)) error {
	cl, s, sig, err := clientAndSender(cmd)
	if err != nil {
		return err
	}
	call, err := build(sig)
	if err != nil {
		return notSent(err)
	}
	r, err := sendCall(cmd, cl, s, call)
	if err != nil {
		return err
	}
	return emitResults(cmd, r)
}
