package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/sdk/progress"
)

// reporter is the progress reporter of a command: on stderr, on when
// stderr is a terminal or --progress is given. Progress never goes to
// stdout, which scripts parse.
func reporter(cmd *cobra.Command) *progress.Reporter {
	forced, _ := cmd.Flags().GetBool("progress")
	w := cmd.ErrOrStderr()
	return progress.New(w, progress.Enabled(w, forced)).Eager(forced)
}

// nodeHeight is an Every status: the node's height, or nothing if it
// does not answer.
func nodeHeight(c *client.Client) func(ctx context.Context) string {
	return func(ctx context.Context) string {
		st, err := c.Status(ctx)
		if err != nil {
			return ""
		}
		return fmt.Sprintf("height %d", st.Height)
	}
}

// submitWithProgress is c.Submit that, while it waits for the receipt,
// says every few seconds how long it has waited and the node's height.
func submitWithProgress(cmd *cobra.Command, c *client.Client, tx *block.Tx, wait bool) (*view.Submitted, error) {
	if wait {
		h := tx.Hash()
		stop := reporter(cmd).Every(cmd.Context(), fmt.Sprintf("waiting for commit of %s tx %s", tx.Kind, h.String()[:12]), nodeHeight(c))
		defer stop()
	}
	res, err := c.Submit(cmd.Context(), tx, wait)
	return res, expiredExit(err)
}

// expiredExit turns an error matching client.ErrExpired (the transaction
// was not committed by its valid-until time and never will be) into exit
// status 1 with a message that starts "expired: "; other errors pass.
func expiredExit(err error) error {
	if err == nil || !errors.Is(err, client.ErrExpired) {
		return err
	}
	var ae *client.APIError
	msg := err.Error()
	if errors.As(err, &ae) {
		msg = ae.Msg
	}
	msg = strings.TrimPrefix(msg, client.ErrExpired.Error()+": ")
	return &exitError{code: 1, msg: "expired: " + msg + "\n(sign and submit it again to retry)"}
}

// exportProgress is bundle.Options.Progress on r, one counter per
// stage; finish ends the last one.
func exportProgress(r *progress.Reporter) (fn func(stage string, done, total uint64), finish func()) {
	if !r.On() {
		return nil, func() {}
	}
	units := map[string]string{"scan": "blocks", "proofs": "records"}
	var cur *progress.Counter
	var curStage string
	fn = func(stage string, done, total uint64) {
		if stage != curStage {
			cur.Done()
			unit := units[stage]
			if unit == "" {
				unit = "items"
			}
			cur, curStage = r.Count("export: "+stage, unit), stage
		}
		cur.Set(done, max(total, done))
	}
	return fn, func() { cur.Done() }
}

// verifyProgress is bundle.VerifyProgress's callback on r: "verify:
// 60,000/100,000 records" per stage.
func verifyProgress(r *progress.Reporter) func(stage string, done, total uint64) {
	if !r.On() {
		return nil
	}
	counters := map[string]*progress.Counter{}
	return func(stage string, done, total uint64) {
		c, ok := counters[stage]
		if !ok {
			c = r.Count("verify: "+stage, "records")
			counters[stage] = c
		}
		c.Set(done, total)
		if done == total {
			c.Done()
		}
	}
}
