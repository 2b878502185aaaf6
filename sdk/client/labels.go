package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/trialchain/trialchain/chain/view"
)

// ContractsByLabel returns the contracts deployed with label (see
// `trialchain contract deploy --label`), newest first; none is an empty
// list, not an error. The trial CLI uses it to find "trial-protocol",
// "genome-access" and "surgical-records" by name.
func (c *Client) ContractsByLabel(ctx context.Context, label string) ([]view.Contract, error) {
	var out []view.Contract
	if err := c.do(ctx, http.MethodGet, "/v1/contracts?label="+url.QueryEscape(label), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}
