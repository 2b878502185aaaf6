package contract_test

import (
	"errors"

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
