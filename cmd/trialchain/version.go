package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

// buildCommit is the commit the Makefile stamps with -ldflags
// "-X main.buildCommit=..." for builds without Go's VCS stamping (GOFLAGS
// -buildvcs=false, a git worktree); vcs.revision wins when present.
var buildCommit string

// versionString is the module version and the commit the binary was built
// from (Go's build information: vcs.revision, vcs.time, vcs.modified).
func versionString() string {
	version, commit, when, dirty := "(devel)", "unknown", "", false
	if buildCommit != "" {
		commit = buildCommit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	out := fmt.Sprintf("trialchain %s commit %s", version, commit)
	if dirty {
		out += " (modified)"
	}
	if when != "" {
		out += " " + when
	}
	return out + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the module version and the commit this binary was built from",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), versionString())
		},
	}
}
