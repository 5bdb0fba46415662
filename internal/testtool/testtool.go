// Package testtool is the one place wsgw's tests ask for a program they need
// besides Go (node, python3, chromium, npm packages). Outside CI a missing tool skips
// the test with a line that names it and says how to install it; in CI (CI=true,
// or WSGW_REQUIRE_TOOLS / WSGW_REQUIRE_NODE set, as .ci/run does) it fails the
// test, so that no test is skipped unseen there.
package testtool

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Required reports whether missing tools fail tests instead of skipping them.
func Required() bool {
	if v := os.Getenv("CI"); v == "true" || v == "1" {
		return true
	}
	return os.Getenv("WSGW_REQUIRE_TOOLS") != "" || os.Getenv("WSGW_REQUIRE_NODE") != ""
}

// install says how to get each tool the tests use.
var install = map[string]string{
	"node":        "install Node.js 20 (apt-get install nodejs npm, or nodejs.org)",
	"npm":         "install Node.js 20 with npm (apt-get install nodejs npm)",
	"python3":     "install Python 3 (apt-get install python3)",
	"go":          "put the Go toolchain on PATH",
	"git":         "install git (apt-get install git)",
	"bash":        "install bash",
	"nats-server": "install the NATS server (apt-get install nats-server)",
	"chromium":    "install Debian's Chromium (apt-get install chromium)",
}

// Missing skips tb (or, when Required, fails it) because what is missing;
// how says what to do about it.
func Missing(tb testing.TB, what, how string) {
	tb.Helper()
	msg := fmt.Sprintf("needs %s, which is missing: %s", what, how)
	if Required() {
		tb.Fatalf("%s (CI requires every tool the tests use)", msg)
	}
	tb.Skip(msg)
}

// Need returns the path of the program name on PATH, or skips (fails in CI)
// the test with a line naming it.
func Need(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		how := install[name]
		if how == "" {
			how = "install it and put it on PATH"
		}
		Missing(tb, name, how)
	}
	return p
}

// NeedNodeModules returns node's path once dir (a folder with a
// package.json) has the npm packages pkgs installed, or skips (fails in CI)
// with the npm command that installs them.
func NeedNodeModules(tb testing.TB, dir string, pkgs ...string) string {
	tb.Helper()
	node := Need(tb, "node")
	var missing []string
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(p), "package.json")); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		Missing(tb, "the npm packages "+strings.Join(missing, ", ")+" in "+dir, "run: (cd "+dir+" && npm ci)")
	}
	return node
}
