package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/sdk/client"
)

// TestExpiredExit: a wait that ends in client.ErrExpired (the node's 410
// or 400 answer, or the client's own conclusion) is exit status 1 with a
// message starting "expired: "; other errors pass unchanged.
func TestExpiredExit(t *testing.T) {
	other := errors.New("client: cannot reach node")
	for _, c := range []struct {
		name string
		err  error
		want string // message prefix; "" = unchanged
	}{
		{"node answers 410", &client.APIError{Status: 410, Code: "expired", Msg: "transaction ab expired: not committed by its valid-until time"},
			"expired: transaction ab expired: not committed"},
		{"refused at admission", fmt.Errorf("anchor transaction refused: %w", &client.APIError{Status: 400, Code: "expired", Msg: "state: transaction expired: it is valid until"}),
			"expired: state: transaction expired: it is valid until"},
		{"the client's conclusion", fmt.Errorf("%w: transaction ab was not committed by its valid-until time", client.ErrExpired),
			"expired: transaction ab was not committed"},
		{"another error", other, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := expiredExit(c.err)
			var ee *exitError
			switch {
			case c.want == "" && got != c.err:
				t.Fatalf("got %v, want the error unchanged", got)
			case c.want != "" && (!errors.As(got, &ee) || ee.code == 0 || !strings.HasPrefix(ee.msg, c.want)):
				t.Fatalf("got %#v, want exit status ≠ 0 and a message starting %q", got, c.want)
			}
		})
	}
	if expiredExit(nil) != nil {
		t.Fatal("nil error turned into one")
	}
}
