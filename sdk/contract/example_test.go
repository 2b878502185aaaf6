package contract_test

import (
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/sdk/contract"
)

type enrolArgs struct {
	Subject string `json:"subject"`
	Arm     string `json:"arm"`
}

var subjects = contract.NewMap[enrolArgs]("subject")

// enrol would be exported with //go:wasmexport enrol in a contract's main
// package; it runs only inside the VM.
func enrol() {
	contract.Handle(func(a enrolArgs) (any, error) {
		if err := contract.CheckRole("site"); err != nil {
			return nil, err
		}
		if _, dup := subjects.Get(a.Subject); dup {
			return nil, errors.New("subject already enrolled")
		}
		subjects.Set(a.Subject, a)
		contract.EmitJSON("enrolled", a)
		return map[string]any{"subject": a.Subject, "height": contract.BlockHeight()}, nil
	})
}

// A method of a contract: decode JSON arguments, check the caller's role,
// read and write typed state, emit an event and return a JSON result.
func Example() {
	_ = enrol // exported with //go:wasmexport in a real contract
}

// A refusal carries a code ahead of its message, so the failed receipt
// ("not-holder: ...") tells an auditor which rule refused the call.
func ExampleRefuse() {
	err := contract.Refuse("not-holder", "%s does not hold pack %s", "wholesale-1", "09506000134352/S1")
	fmt.Println(err)
	fmt.Println(errors.Is(err, &contract.Refusal{Code: "not-holder"}))
	// Output:
	// not-holder: wholesale-1 does not hold pack 09506000134352/S1
	// true
}

type entry struct{ Kind, Ref string }

var accessLog = contract.NewJournal[entry]("log")

// A sealed, append-only log per subject: each entry is written once and
// sealed, so no later transaction or code version can change it.
func ExampleJournal() {
	_ = func() { // runs only inside the VM
		n := accessLog.Append("patient-1", entry{Kind: "read", Ref: "acc-000000001"})
		accessLog.Each("patient-1", func(seq int64, e entry) bool { return seq < n })
	}
}
