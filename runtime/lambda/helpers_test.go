package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/internal/testtool"
)

// testDir holds the Go handlers built once per test run, and the runtime loops.
var testDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsgw-lambda-test-")
	if err != nil {
		panic(err)
	}
	testDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var goBuilds struct {
	sync.Mutex
	bins map[string]string
}

// goHandlerBinary builds testdata/gohandler (aws-lambda-go) with main.version
// set to version, once per test run, and returns the executable's path.
func goHandlerBinary(t testing.TB, version string) string {
	t.Helper()
	goBuilds.Lock()
	defer goBuilds.Unlock()
	if bin, ok := goBuilds.bins[version]; ok {
		return bin
	}
	gobin := testtool.Need(t, "go")
	out := filepath.Join(testDir, "go-"+version, "bootstrap")
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", out, ".")
	cmd.Dir = filepath.Join("testdata", "gohandler")
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the Go test handler: %v\n%s", err, b)
	}
	if goBuilds.bins == nil {
		goBuilds.bins = map[string]string{}
	}
	goBuilds.bins[version] = out
	return out
}

// installGoHandler copies the handler built as version to dir/name.
func installGoHandler(t testing.TB, dir, name, version string) {
	t.Helper()
	b, err := os.ReadFile(goHandlerBinary(t, version))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// goFunction returns a provided.al2023 function running the Go test handler.
func goFunction(t testing.TB) *compile.Function {
	t.Helper()
	dir := t.TempDir()
	installGoHandler(t, dir, "bootstrap", "v1")
	return &compile.Function{
		LogicalID:     "GoFunction",
		Name:          "go-fn",
		Arn:           "arn:aws:lambda:eu-west-1:123456789012:function:go-fn",
		Runtime:       "provided.al2023",
		Handler:       "bootstrap",
		CodeDir:       dir,
		TimeoutMillis: 5000,
		MemoryMB:      256,
	}
}

// scriptFunction returns a function of the given runtime whose CodeDir holds files.
func scriptFunction(t testing.TB, runtime, handler string, files map[string]string) *compile.Function {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	name := strings.ReplaceAll(strings.ReplaceAll(runtime, ".", ""), "x", "") + "-fn"
	return &compile.Function{
		LogicalID:     "ScriptFunction",
		Name:          name,
		Arn:           "arn:aws:lambda:us-west-2:123456789012:function:" + name,
		Runtime:       runtime,
		Handler:       handler,
		CodeDir:       dir,
		TimeoutMillis: 5000,
		MemoryMB:      128,
	}
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// syncBuffer is an io.Writer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newRunner returns a Runner closed at the end of the test, and the buffer
// its functions' output goes to.
func newRunner(t testing.TB, opts Options) (*Runner, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	if opts.Output == nil {
		opts.Output = out
	}
	if opts.LoopDir == "" {
		opts.LoopDir = testDir
	}
	r := NewRunner(opts)
	t.Cleanup(func() { r.Close() })
	return r, out
}

// invoke calls fn with a bounded context.
func invoke(t testing.TB, r *Runner, fn *compile.Function, event string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.Invoke(ctx, fn, []byte(event))
}

// goReply is what the Go test handler answers.
type goReply struct {
	Version    string            `json:"version"`
	Pid        int               `json:"pid"`
	Event      json.RawMessage   `json:"event"`
	RequestID  string            `json:"requestId"`
	Arn        string            `json:"arn"`
	DeadlineMs int64             `json:"deadlineMs"`
	Env        map[string]string `json:"env"`
	Cwd        string            `json:"cwd"`
	Start      int64             `json:"start"`
	End        int64             `json:"end"`
}

// invokeGo calls the Go test handler and decodes its reply; it fails the test
// on any error.
func invokeGo(t testing.TB, r *Runner, fn *compile.Function, event string) goReply {
	t.Helper()
	out, err := invoke(t, r, fn, event)
	if err != nil {
		t.Fatalf("invoke %s: %v", event, err)
	}
	var rep goReply
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("invoke %s: reply %q: %v", event, out, err)
	}
	return rep
}

// functionError returns err as a *FunctionError, failing the test otherwise.
func functionError(t testing.TB, err error) *FunctionError {
	t.Helper()
	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want a *FunctionError", err, err)
	}
	return fe
}

// jsonEqual compares two JSON documents.
func jsonEqual(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("reply %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("reply = %s\nwant    %s", gb, wb)
	}
}

func needPython(t testing.TB) {
	t.Helper()
	testtool.Need(t, "python3")
}

func needNode(t testing.TB) {
	t.Helper()
	testtool.Need(t, "node")
}

var _ io.Writer = (*syncBuffer)(nil)
