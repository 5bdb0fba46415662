package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wsgw/wsgw/internal/testtool"
)

var update = flag.Bool("update", false, "rewrite golden files, testscript files and the README rule table")

// Stamps the tests see, as -ldflags would set them in a release build.
const (
	testVersion = "v1.2.3-test"
	testCommit  = "0123abc"
	testDate    = "2025-01-02T03:04:05Z"
)

func TestMain(m *testing.M) {
	version, commit, date = testVersion, testCommit, testDate
	// serve keeps its local CA here, not in the user's cache directory.
	os.Setenv("WSGW_CA_DIR", filepath.Join(os.TempDir(), "wsgw-test-ca"))
	// Inside testscript scripts, `wsgw` runs this package's run function in a
	// copy of the test binary.
	testscript.Main(m, map[string]func(){
		"wsgw": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
	})
}

// runWSGW drives the command line with buffers.
func runWSGW(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// SPEC
func TestVersion(t *testing.T) {
	out, errs, code := runWSGW("version")
	want := "wsgw " + testVersion + " (" + testCommit + ", " + testDate + ", " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if code != 0 || out != want || errs != "" {
		t.Fatalf("wsgw version = %q, %q, %d; want %q", out, errs, code, want)
	}
	out, _, code = runWSGW("--version")
	if code != 0 || out != want {
		t.Fatalf("wsgw --version = %q, %d; want %q", out, code, want)
	}
}

func TestBuildVersion(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name    string
		stamped [3]string
		bi      *debug.BuildInfo
		v, c, d string
	}{
		{"stamped wins", [3]string{"v1.0.0", "abc", "2025-01-01"},
			&debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}, Settings: vcs("vcs.revision", "fff", "vcs.time", "2024")},
			"v1.0.0", "abc", "2025-01-01"},
		{"go install module version", [3]string{"dev", "none", "unknown"},
			&debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}},
			"v0.4.0", "none", "unknown"},
		{"checkout build", [3]string{"dev", "none", "unknown"},
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "deadbeef", "vcs.time", "2025-03-04T05:06:07Z", "vcs.modified", "true")},
			"dev", "deadbeef-dirty", "2025-03-04T05:06:07Z"},
		{"no build info", [3]string{"dev", "none", "unknown"}, nil, "dev", "none", "unknown"},
	}
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version, commit, date = tt.stamped[0], tt.stamped[1], tt.stamped[2]
			v, c, d := buildVersion(tt.bi, tt.bi != nil)
			if v != tt.v || c != tt.c || d != tt.d {
				t.Errorf("buildVersion = %q, %q, %q; want %q, %q, %q", v, c, d, tt.v, tt.c, tt.d)
			}
		})
	}
}

// TestLdflagsStamp builds wsgw the way .goreleaser.yaml does and checks that
// the -X flags reach `wsgw version`.
func TestLdflagsStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "wsgw")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ldflags := "-s -w -X main.version=9.8.7 -X main.commit=c0ffee -X main.date=2030-01-01T00:00:00Z"
	build := exec.Command("go", "build", "-o", bin, "-ldflags", ldflags, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^wsgw 9\.8\.7 \(c0ffee, 2030-01-01T00:00:00Z, go\S+ \w+/\w+\)\n$`)
	if !want.Match(out) {
		t.Fatalf("wsgw version = %q, want match of %s", out, want)
	}
}

// TestVersionFromBuildInfo builds wsgw from this checkout as a user would
// (`go build`, no -ldflags) and checks that `wsgw version` names the commit
// and its time from the build information Go records. -buildvcs=true is
// explicit because some machines set GOFLAGS=-buildvcs=false.
func TestVersionFromBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	git := testtool.Need(t, "git")
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "wsgw")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if info, err := exec.Command("go", "version", "-m", bin).Output(); err != nil || !strings.Contains(string(info), "vcs.revision=") {
		t.Skipf("go recorded no VCS information in the binary (in a git worktree it cannot): %v", err)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := strings.TrimSpace(string(head))
	want := regexp.MustCompile(`^wsgw \S+ \(` + rev + `(-dirty)?, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, go\S+ \w+/\w+\)\n$`)
	if !want.Match(out) {
		t.Fatalf("wsgw version = %q, want match of %s", out, want)
	}
}

// TestVersionWithoutCommit: a build that recorded no commit (go test and go
// run record none) says so instead of printing placeholders.
func TestVersionWithoutCommit(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "dev", "none", "unknown"
	got := versionString()
	if !strings.HasPrefix(got, "wsgw dev (no commit recorded: ") || strings.Contains(got, "none") {
		t.Errorf("versionString() = %q", got)
	}
}
