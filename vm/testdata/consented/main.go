// Command consented is a test contract whose "amend" method needs a
// multi-party consent: a combined threshold signature of the contract's
// board (a consent group registered on chain) over the amendment. The chain
// binds the consent to this contract and method (see chain/contracts), and
// refuses a consent used before.
package main

import (
	"encoding/hex"
	"errors"

	"github.com/trialchain/trialchain/sdk/contract"
)

var (
	board      = contract.NewValue[string]("board") // consent group id, hex
	amendments = contract.NewValue[int64]("amendments")
	lastDoc    = contract.NewValue[string]("last") // sha256 of the last amendment, hex
)

type boardArgs struct {
	Group string `json:"group"`
}

// setBoard names the consent group once; only a sponsor or admin may.
//
//go:wasmexport setBoard
func setBoard() {
	contract.Handle(func(a boardArgs) (any, error) {
		contract.RequireRole("sponsor", "admin")
		if _, ok := board.Get(); ok {
			return nil, errors.New("board already set")
		}
		if len(a.Group) != 64 {
			return nil, errors.New("group: want the 64-hex consent group id")
		}
		board.Set(a.Group)
		contract.EmitJSON("board", a)
		return a.Group, nil
	})
}

type amendArgs struct {
	Doc     []byte `json:"doc"`
	Consent []byte `json:"consent"`
}

// amend records an amendment if the board consented to exactly this
// document for this contract's "amend".
//
//go:wasmexport amend
func amend() {
	contract.Handle(func(a amendArgs) (any, error) {
		g, ok := board.Get()
		if !ok {
			return nil, errors.New("no board set")
		}
		if !contract.VerifyConsent(g, "approve amendment", a.Doc, a.Consent) {
			return nil, errors.New("consent refused")
		}
		n, _ := amendments.Get()
		n++
		amendments.Set(n)
		h := contract.SHA256(a.Doc)
		lastDoc.Set(hex.EncodeToString(h[:]))
		contract.EmitJSON("amended", map[string]any{"n": n, "doc": hex.EncodeToString(h[:])})
		return n, nil
	})
}

type twiceArgs struct {
	Doc      []byte   `json:"doc"`
	Consents [][]byte `json:"consents"` // the same consent attached several times counts once
	Need     int      `json:"need"`
	Govern   string   `json:"govern,omitempty"` // after the consents: hand upgrades to this group
}

// quorum counts the valid consents of the board over doc among those
// attached and requires need of them; then it may hand the contract's
// upgrades to another group.
//
//go:wasmexport quorum
func quorum() {
	contract.Handle(func(a twiceArgs) (any, error) {
		g, ok := board.Get()
		if !ok {
			return nil, errors.New("no board set")
		}
		n := 0
		for _, c := range a.Consents {
			if contract.VerifyConsent(g, "approve amendment", a.Doc, c) {
				n++
			}
		}
		if n < a.Need {
			return nil, errors.New("not enough consents")
		}
		if a.Govern != "" {
			contract.Govern(a.Govern)
		}
		return n, nil
	})
}

// status returns the board, the number of amendments and the last one.
//
//go:wasmexport status
func status() {
	g, _ := board.Get()
	n, _ := amendments.Get()
	d, _ := lastDoc.Get()
	contract.ReturnJSON(map[string]any{"board": g, "amendments": n, "last": d})
}

func main() {}
