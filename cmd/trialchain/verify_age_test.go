package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/proof/bundle"
)

func TestCheckMaxAge(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cp := &bundle.CheckpointInfo{Height: 40, TimeUnixMilli: now.Add(-2 * time.Hour).UnixMilli()}
	for _, tc := range []struct {
		maxAge time.Duration
		want   string // "" = passes
	}{
		{3 * time.Hour, ""},
		{2 * time.Hour, ""},
		{time.Hour, "block 40 at 2026-03-01 10:00:00 (UTC), 2h0m0s ago, more than --max-age 1h0m0s"},
		{time.Minute, "too old"},
	} {
		err := checkMaxAge(cp, now, tc.maxAge)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("max age %s: got %v, want %q", tc.maxAge, err, tc.want)
		}
	}
}
