package contracts_test

import (
	"encoding/json"
	"testing"

	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/trials/model"
)

// TestTrialFormRecords: trial-protocol keeps each visit's form as a
// record by position when it can (form/), and as an object when a string
// of the form would need escaping (visitform/); a submission is checked
// against the same definition either way, with the same entry.
func TestTrialFormRecords(t *testing.T) {
	for _, c := range []struct {
		name    string
		label   string
		wantKey string
	}{
		{"plain", "Systolic blood pressure", "form/"},
		{"escaped", `Pression "systolique" <sitting> é`, "visitform/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, false)
			ch := newLocalChain(t, e)
			r := setupTrialWith(t, ch, func(p *model.Protocol) {
				for i := range p.Forms {
					for j := range p.Forms[i].Fields {
						if p.Forms[i].Fields[j].ID == "SYSBP" {
							p.Forms[i].Fields[j].Label = c.label
						}
					}
				}
			})
			prefix := state.StoragePrefix(r.tp)
			has := func(k string) bool {
				_, ok, err := ch.State().Get(append(append([]byte(nil), prefix...), k...))
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			k := r.trial + "/day1/vitals"
			for _, kind := range []string{"form/", "visitform/"} {
				if got := has(kind + k); got != (kind == c.wantKey) {
					t.Errorf("%s%s stored: %v", kind, k, got)
				}
			}
			raw, ok, err := ch.State().Get(r.entryKey)
			if err != nil || !ok {
				t.Fatalf("entry: %v", err)
			}
			var got model.Entry
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]model.FieldValue{"SYSBP": {Value: "180", Unit: "mm[Hg]"}, "DIABP": {Value: "95", Unit: "mm[Hg]"}, "HR": {Value: "80", Unit: "/min"}}
			if len(got.Public) != len(want) || got.Public["SYSBP"] != want["SYSBP"] || got.Public["HR"] != want["HR"] || got.Form != "vitals" {
				t.Errorf("entry %+v", got)
			}
		})
	}
}
