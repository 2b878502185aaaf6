package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

func newTrialQueryCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "query",
		Short: "Discrepancy queries: the sponsor raises one on an entry, the site answers or corrects, the sponsor closes it",
		Long: `Queries are the discrepancy workflow on chain. The sponsor (a monitor or
data manager) raises a query on an entry, optionally naming a field; the
entry's site answers it (trial query answer) or corrects the entry citing
it (trial correct --query Q); the sponsor closes it with a reason. Queries
not closed block the database lock unless the lock gives an override
reason (trial lock --override). Every step is signed and kept.`,
		Example: `  trialchain trial query raise --trial NCT05503693 --entry crf-000000001 --field SYSBP --text "130 in the source document?" --from sponsor
  trialchain trial query answer --trial NCT05503693 --query q-000000001 --text "Confirmed: 128 in the source" --from site
  trialchain trial query close --trial NCT05503693 --query q-000000001 --reason "answer accepted" --from sponsor
  trialchain trial query list --trial NCT05503693`,
	}
	c.AddCommand(newQueryRaiseCmd(), newQueryAnswerCmd(), newQueryCloseCmd(), newQueryListCmd())
	return c
}

func newQueryRaiseCmd() *cobra.Command {
	var entry, field, text string
	c := &cobra.Command{
		Use:     "raise (TRIAL | --trial ID) --entry ENTRY [--field FIELD] --text TEXT --from NAME",
		Short:   "Raise a query on an entry (sponsor)",
		Example: `  trialchain trial query raise --trial NCT05503693 --entry crf-000000001 --field SYSBP --text "130 in the source document?" --from sponsor --keyring devnet/keys --home devnet/node0`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			if entry == "" {
				return requireFlag("entry", "crf-000000001 (an entry id: trialchain trial show --list entries)")
			}
			if strings.TrimSpace(text) == "" {
				return requireFlag("text", `"SYSBP 130 in the source document?"`)
			}
			return signAndSend(cmd, func(sig model.Signature) (trials.Call, error) {
				return trials.QueryRaiseCall(trial, entry, field, text, sig)
			})
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&entry, "entry", "", "the entry queried")
	c.Flags().StringVar(&field, "field", "", "the field queried (optional)")
	c.Flags().StringVar(&text, "text", "", "the question")
	addSignFlags(c, "query")
	return c
}

// queryStepCmd is answer and close: a query id and a text.
func queryStepCmd(use, short, example, textFlag, textHelp, meaning string, build func(trial, query, text string, sig model.Signature) (trials.Call, error)) *cobra.Command {
	var query, text string
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			if query == "" {
				return requireFlag("query", "q-000000001 (a query id: trialchain trial query list)")
			}
			if strings.TrimSpace(text) == "" {
				return requireFlag(textFlag, `"…"`)
			}
			return signAndSend(cmd, func(sig model.Signature) (trials.Call, error) {
				return build(trial, query, text, sig)
			})
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&query, "query", "", "the query id")
	c.Flags().StringVar(&text, textFlag, "", textHelp)
	addSignFlags(c, meaning)
	return c
}

func newQueryAnswerCmd() *cobra.Command {
	return queryStepCmd("answer (TRIAL | --trial ID) --query Q --text TEXT --from NAME", "Answer a query on your site's entry (site; to change the data, use trial correct --query)",
		`  trialchain trial query answer --trial NCT05503693 --query q-000000001 --text "Confirmed: 128 in the source" --from site --keyring devnet/keys --home devnet/node1`,
		"text", "the answer", "query answer", trials.QueryAnswerCall)
}

func newQueryCloseCmd() *cobra.Command {
	return queryStepCmd("close (TRIAL | --trial ID) --query Q --reason TEXT --from NAME", "Close a query, saying why (sponsor)",
		`  trialchain trial query close --trial NCT05503693 --query q-000000001 --reason "answer accepted" --from sponsor --keyring devnet/keys --home devnet/node0`,
		"reason", "why the query is closed", "query close", trials.QueryCloseCall)
}

func newQueryListCmd() *cobra.Command {
	var open bool
	c := &cobra.Command{
		Use:     "list (TRIAL | --trial ID) [--open]",
		Short:   "List a trial's queries and where each stands",
		Example: `  trialchain trial query list --trial NCT05503693 --open --home devnet/node2`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			b, err := queryCall(cmd, cl, trials.ListCall(trial, "queries"))
			if err != nil {
				return err
			}
			var l model.List[model.Query]
			if err := json.Unmarshal(b, &l); err != nil {
				return fmt.Errorf("queries of %s: %w", trial, err)
			}
			if open {
				kept := l.Items[:0]
				for _, q := range l.Items {
					if q.Status != model.QueryClosed {
						kept = append(kept, q)
					}
				}
				l.Items = kept
			}
			return emit(cmd, l, func(w io.Writer) {
				if len(l.Items) == 0 {
					fmt.Fprintf(w, "No queries in %s.\n", trial)
				}
				for _, q := range l.Items {
					fmt.Fprintln(w, trials.FormatQuery(&q))
				}
				if !l.Complete {
					fmt.Fprintln(w, "… (more; the list was cut at the result size limit)")
				}
			})
		},
	}
	addTrialFlag(c)
	c.Flags().BoolVar(&open, "open", false, "only queries not closed")
	return c
}

// lockChecklist is what trial lock shows before it signs.
func lockChecklist(v *model.TrialView, override string) *model.LockChecklist {
	return &model.LockChecklist{Entries: v.Entries, Corrections: v.Corrections, Subjects: v.Subjects, QueriesRaised: v.Queries,
		OpenQueries: v.OpenQueries, SeriousAEs: v.SeriousAEs, LateSeriousAEs: v.LateAEs, Override: override}
}

func newTrialLockCmd() *cobra.Command {
	var override string
	c := &cobra.Command{
		Use:   "lock (TRIAL | --trial ID) [--override REASON] --from NAME",
		Short: "Lock the trial's database after a checklist: no more site data; results may then be submitted",
		Long: `Lock the trial's database. Before it signs, lock shows the checklist the
lock is decided on: entries and corrections, queries not closed, serious
adverse events (and those reported late) to reconcile. Queries not closed
block the lock; --override REASON locks anyway and keeps the reason in
the lock's checklist on chain.`,
		Example: `  trialchain trial lock NCT05503693 --from sponsor --printed-name "Dr. Ada Sponsor" --keyring devnet/keys --home devnet/node0
  trialchain trial lock --trial NCT05503693 --override "site closed; queries unanswerable" --from sponsor`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trial, err := trialArg(cmd, args)
			if err != nil {
				return err
			}
			cl, s, sig, err := clientAndSender(cmd)
			if err != nil {
				return err
			}
			v, err := fetchTrial(cmd, cl, trial)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), trials.FormatChecklist(lockChecklist(v, override)))
			if v.OpenQueries > 0 && override == "" {
				return &exitError{code: 1, msg: fmt.Sprintf("Not sent: %d queries of %s are not closed: close them (trialchain trial query list --open --trial %s), or lock with --override REASON", v.OpenQueries, trial, trial)}
			}
			r, err := sendCall(cmd, cl, s, trials.LockOverrideCall(trial, override, sig))
			if err != nil {
				return err
			}
			return emitResults(cmd, r)
		},
	}
	addTrialFlag(c)
	c.Flags().StringVar(&override, "override", "", "lock although queries are open, for this reason (kept on chain)")
	addSignFlags(c, "database lock")
	return c
}
