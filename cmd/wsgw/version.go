package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// newVersionCmd is `wsgw version` (SPEC ).
func newVersionCmd(ios *iostreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of wsgw",
		Long: `Print the version of wsgw, the commit and date it was built from, and the Go
version and platform it was built with.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(ios.Out, versionString())
			return err
		},
	}
}

// versionString renders `wsgw VERSION (COMMIT, DATE, GOVERSION OS/ARCH)`.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	v, c, d := buildVersion(bi, ok)
	if c == "none" && d == "unknown" {
		// Neither -ldflags nor the Go toolchain recorded a commit: say why
		// rather than print placeholders.
		return fmt.Sprintf("wsgw %s (no commit recorded: built outside a git checkout, with go run, or with -buildvcs=false; %s %s/%s)",
			v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	return fmt.Sprintf("wsgw %s (%s, %s, %s %s/%s)", v, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildVersion returns the version, commit and date stamped with -ldflags.
// When a value was not stamped it falls back to what the Go toolchain recorded
// in the binary: the module version for `go install ...@vX.Y.Z`, and the VCS
// revision and time for a build inside a checkout.
func buildVersion(bi *debug.BuildInfo, ok bool) (v, c, d string) {
	v, c, d = version, commit, date
	if !ok || bi == nil {
		return v, c, d
	}
	if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, tm string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			tm = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if c == "none" && rev != "" {
		c = rev
		if modified {
			c += "-dirty"
		}
	}
	if d == "unknown" && tm != "" {
		d = tm
	}
	return v, c, d
}

// shortVersion is the version alone, as tools that embed it (SARIF) want it.
func shortVersion() string {
	bi, ok := debug.ReadBuildInfo()
	v, _, _ := buildVersion(bi, ok)
	return v
}
