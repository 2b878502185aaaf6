package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/trials"
)

// TestEmitResultsListsEveryRefusal: several forms sent with --no-check
// (trial submit --odm) and refused by the contract are each listed, with
// their transaction and reason, not only the last one.
func TestEmitResultsListsEveryRefusal(t *testing.T) {
	refused := func(n byte, msg string) *callResult {
		return &callResult{Contract: "trial-protocol", Method: "submit", Tx: block.Sum([]byte{n}), Status: "refused", Refusal: trials.ExplainRefusal(msg)}
	}
	ok := &callResult{Contract: "trial-protocol", Method: "submit", Tx: block.Sum([]byte{9}), Status: "ok", Summary: "Entry crf-000000002"}
	for _, tc := range []struct {
		name string
		rs   []*callResult
		want []string // each in the error, in this order
	}{
		{"none refused", []*callResult{ok}, nil},
		{"one refused", []*callResult{refused(1, "out-of-range: SYSBP 300 is above the maximum 250")}, []string{"SYSBP 300 is above the maximum 250"}},
		{"three of four refused", []*callResult{
			refused(1, "out-of-range: SYSBP 300 is above the maximum 250"),
			ok,
			refused(2, "missing-field: HR is required"),
			refused(3, "out-of-range: DIABP 10 is below the minimum 30"),
		}, []string{"3 of 4 transactions refused", shortID(block.Sum([]byte{1}).String()), "SYSBP 300", shortID(block.Sum([]byte{2}).String()), "HR is required", shortID(block.Sum([]byte{3}).String()), "DIABP 10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &cobra.Command{}
			cmd.Flags().String("output", "text", "")
			var out bytes.Buffer
			cmd.SetOut(&out)
			err := emitResults(cmd, tc.rs...)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("emitResults: %v", err)
				}
				return
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 1 {
				t.Fatalf("emitResults: %v, want exit 1", err)
			}
			rest := ee.msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error does not say %q (in order):\n%s", w, ee.msg)
				}
				rest = rest[i+len(w):]
			}
			for _, r := range tc.rs {
				if r.Status == "refused" && !strings.Contains(out.String(), r.Tx.String()[:8]) {
					t.Errorf("output does not show refused tx %s:\n%s", r.Tx, out.String())
				}
			}
		})
	}
}

// TestTrialNamedBothWays: every trial verb takes the trial as its first
// argument or as --trial; two different trials are refused, none says how
// to name one.
func TestTrialNamedBothWays(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flag    string // --trial value, "" = not given
		args    []string
		trial   string
		fields  []string
		errSays string
	}{
		{"argument", "", []string{"NCT1", "SYSBP=1"}, "NCT1", []string{"SYSBP=1"}, ""},
		{"flag", "NCT2", []string{"SYSBP=1", "HR=2"}, "NCT2", []string{"SYSBP=1", "HR=2"}, ""},
		{"both, same", "NCT1", []string{"NCT1", "HR=2"}, "NCT1", []string{"HR=2"}, ""},
		{"both, different", "NCT2", []string{"NCT1"}, "", nil, "two trials named"},
		{"neither", "", []string{"SYSBP=1"}, "", nil, "name the trial: as the first argument (trial submit NCT05503693"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &cobra.Command{Use: "submit"}
			addTrialFlag(cmd)
			if tc.flag != "" {
				if err := cmd.Flags().Set("trial", tc.flag); err != nil {
					t.Fatal(err)
				}
			} else if err := cmd.Flags().Set("trial", ""); err != nil { // not $TRIALCHAIN_TRIAL
				t.Fatal(err)
			}
			trial, fields, err := trialAndFields(cmd, tc.args)
			if tc.errSays != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSays) {
					t.Fatalf("err %v, want one saying %q", err, tc.errSays)
				}
				return
			}
			if err != nil || trial != tc.trial || strings.Join(fields, " ") != strings.Join(tc.fields, " ") {
				t.Fatalf("trialAndFields = %q %q %v, want %q %q", trial, fields, err, tc.trial, tc.fields)
			}
		})
	}
}
