package lambda

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/wsgw/wsgw/compile"
)

// kind is a family of Lambda runtimes that start the same way.
type kind int

const (
	kindUnsupported kind = iota
	kindProvided         // provided, provided.al2, provided.al2023: CodeDir/bootstrap
	kindGo               // go1.x: the executable named by Handler
	kindNode             // nodejsN.x: wsgw's Node.js runtime loop
	kindPython           // python3.N: wsgw's Python runtime loop
)

var (
	nodeRuntime   = regexp.MustCompile(`^nodejs(\d+)\.x$`)
	pythonRuntime = regexp.MustCompile(`^python3\.\d+$`)
)

func kindOf(runtime string) kind {
	switch {
	case runtime == "provided" || strings.HasPrefix(runtime, "provided."):
		return kindProvided
	case runtime == "go1.x":
		return kindGo
	case nodeRuntime.MatchString(runtime):
		return kindNode
	case pythonRuntime.MatchString(runtime):
		return kindPython
	}
	return kindUnsupported
}

// CanRun says whether fn can run locally, and if not why (a lowercase phrase
// such as "no code on disk" or "runtime java21 is not supported"). It looks at
// the disk and PATH as they are now: a bootstrap built later makes a later
// call succeed.
func CanRun(fn *compile.Function) (bool, string) {
	if fn == nil {
		return false, "no function"
	}
	if fn.CodeDir == "" {
		if fn.Runtime == "" {
			return false, "no code on disk (container image functions are not supported)"
		}
		return false, "no code on disk"
	}
	if st, err := os.Stat(fn.CodeDir); err != nil || !st.IsDir() {
		return false, fmt.Sprintf("code directory %s does not exist", fn.CodeDir)
	}
	if fn.Runtime == "" {
		return false, "no Runtime"
	}
	if kindOf(fn.Runtime) == kindUnsupported {
		return false, fmt.Sprintf("runtime %s is not supported", fn.Runtime)
	}
	_, _, err := command(fn, "")
	if err != nil {
		return false, err.Error()
	}
	return true, ""
}

// command returns the program and arguments that start fn; loopDir holds the
// embedded runtime loops (unused by CanRun, which passes "").
func command(fn *compile.Function, loopDir string) (string, []string, error) {
	switch kindOf(fn.Runtime) {
	case kindProvided:
		exe := filepath.Join(fn.CodeDir, "bootstrap")
		return exe, nil, checkExecutable(exe, "no bootstrap executable in "+fn.CodeDir)
	case kindGo:
		if fn.Handler == "" {
			return "", nil, fmt.Errorf("no Handler (go1.x runs the executable it names)")
		}
		exe := filepath.Join(fn.CodeDir, filepath.FromSlash(fn.Handler))
		return exe, nil, checkExecutable(exe, fmt.Sprintf("no executable %s in %s (go1.x runs the Handler)", fn.Handler, fn.CodeDir))
	case kindNode:
		if fn.Handler == "" {
			return "", nil, fmt.Errorf("no Handler")
		}
		node, err := exec.LookPath("node")
		if err != nil {
			return "", nil, fmt.Errorf("node is not on PATH (runtime %s)", fn.Runtime)
		}
		return node, []string{filepath.Join(loopDir, nodeLoopFile)}, nil
	case kindPython:
		if fn.Handler == "" {
			return "", nil, fmt.Errorf("no Handler")
		}
		// python3, whatever its minor version: a python3.12 on PATH may be a
		// version manager's shim that refuses to run.
		py, err := exec.LookPath("python3")
		if err != nil {
			return "", nil, fmt.Errorf("python3 is not on PATH (runtime %s)", fn.Runtime)
		}
		return py, []string{"-u", filepath.Join(loopDir, pythonLoopFile)}, nil
	}
	return "", nil, fmt.Errorf("runtime %s is not supported", fn.Runtime)
}

func checkExecutable(path, missing string) error {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return fmt.Errorf("%s", missing)
	}
	if !isExecutable(st) {
		return fmt.Errorf("%s is not executable", path)
	}
	return nil
}

// reserved are the variables the runtime sets, which neither Options.Env nor
// the function's Environment can change (Lambda refuses them as reserved keys).
var reserved = map[string]bool{
	"_HANDLER":                        true,
	"AWS_REGION":                      true,
	"AWS_DEFAULT_REGION":              true,
	"AWS_EXECUTION_ENV":               true,
	"AWS_LAMBDA_FUNCTION_NAME":        true,
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION":     true,
	"AWS_LAMBDA_INITIALIZATION_TYPE":  true,
	"AWS_LAMBDA_LOG_GROUP_NAME":       true,
	"AWS_LAMBDA_LOG_STREAM_NAME":      true,
	"AWS_LAMBDA_RUNTIME_API":          true,
	"LAMBDA_TASK_ROOT":                true,
	"LAMBDA_RUNTIME_DIR":              true,
	"_WSGW_RUNTIME_FD":                true,
}

// hostVars are taken from wsgw's own environment; nothing else is, so that the
// developer's credentials and settings do not leak into functions.
var hostVars = []string{"PATH", "HOME", "TMPDIR", "TEMP", "TMP", "LANG", "LC_ALL",
	"SYSTEMROOT", "SystemRoot", "WINDIR", "COMSPEC", "PATHEXT"}

// Placeholder credentials: SDKs find credentials and sign requests, which the
// local gateway accepts without checking (SPEC ).
const (
	placeholderKeyID  = "ASIAWSGWLOCALEXAMPLE"
	placeholderSecret = "wsgw-local-secret-access-key"
	placeholderToken  = "wsgw-local-session-token"
)

// environ builds the process environment of fn: host basics, Lambda defaults,
// Options.Env, the function's Environment, then the reserved variables.
// apiAddr is the Runtime API's address, or "" for a loop on the frame
// channel.
func environ(fn *compile.Function, extra map[string]string, apiAddr, loopDir, logStream string) []string {
	env := map[string]string{}
	for _, k := range hostVars {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	if env["LANG"] == "" {
		env["LANG"] = "en_US.UTF-8"
	}
	env["TZ"] = ":UTC"
	env["AWS_ACCESS_KEY_ID"] = placeholderKeyID
	env["AWS_SECRET_ACCESS_KEY"] = placeholderSecret
	env["AWS_SESSION_TOKEN"] = placeholderToken
	k := kindOf(fn.Runtime)
	if k == kindPython {
		env["PYTHONUNBUFFERED"] = "1"
		env["PYTHONDONTWRITEBYTECODE"] = "1" // /var/task is read-only on Lambda
	}
	for k, v := range extra {
		if !reserved[k] {
			env[k] = v
		}
	}
	for k, v := range fn.Environment {
		if !reserved[k] {
			env[k] = v
		}
	}

	region := extra["AWS_REGION"]
	if region == "" {
		region = regionOf(fn.Arn)
	}
	env["AWS_REGION"] = region
	env["AWS_DEFAULT_REGION"] = region
	name := functionName(fn)
	env["AWS_LAMBDA_FUNCTION_NAME"] = name
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = fmt.Sprint(memoryMB(fn))
	env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + name
	env["AWS_LAMBDA_LOG_STREAM_NAME"] = logStream
	if apiAddr != "" {
		env["AWS_LAMBDA_RUNTIME_API"] = apiAddr
	} else {
		env["_WSGW_RUNTIME_FD"] = channelFD // the frame channel (channel.go)
	}
	env["LAMBDA_TASK_ROOT"] = fn.CodeDir
	env["_HANDLER"] = fn.Handler
	if k == kindNode || k == kindPython {
		env["LAMBDA_RUNTIME_DIR"] = loopDir
	}
	if k != kindProvided {
		// Lambda does not set it for OS-only runtimes.
		env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.Runtime
	}

	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// regionOf returns the region of arn:aws:lambda:REGION:..., else us-east-1.
func regionOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) > 3 && parts[3] != "" {
		return parts[3]
	}
	return "us-east-1"
}

func functionName(fn *compile.Function) string {
	if fn.Name != "" {
		return fn.Name
	}
	return fn.LogicalID
}

func memoryMB(fn *compile.Function) int {
	if fn.MemoryMB > 0 {
		return fn.MemoryMB
	}
	return 128
}
