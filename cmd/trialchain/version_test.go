package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	old := buildCommit
	buildCommit = "0123abcd"
	t.Cleanup(func() { buildCommit = old })
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		root := newRoot()
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		got := out.String()
		if !strings.HasPrefix(got, "trialchain ") || !strings.Contains(got, "commit 0123abcd") || strings.Count(got, "\n") != 1 {
			t.Errorf("%v printed %q, want one line with the module version and commit", args, got)
		}
	}
}
