package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// SPEC: a provided.al2023 bootstrap built with aws-lambda-go.
func TestGoHandler(t *testing.T) {
	fn := goFunction(t)
	r, _ := newRunner(t, Options{})

	t.Run("echo", func(t *testing.T) {
		rep := invokeGo(t, r, fn, `{"op":"echo","n":1}`)
		jsonEqual(t, rep.Event, `{"op":"echo","n":1}`)
		if !uuidRe.MatchString(rep.RequestID) {
			t.Errorf("request id %q is not a UUID", rep.RequestID)
		}
		if rep.Arn != fn.Arn {
			t.Errorf("invoked function arn = %q, want %q", rep.Arn, fn.Arn)
		}
		if rep.Cwd != fn.CodeDir {
			t.Errorf("working directory = %q, want %q", rep.Cwd, fn.CodeDir)
		}
		// Lambda-Runtime-Deadline-Ms reflects Timeout (5 s).
		if rep.DeadlineMs <= 3000 || rep.DeadlineMs > 5000 {
			t.Errorf("time left at the start = %d ms, want a little under 5000", rep.DeadlineMs)
		}
	})

	t.Run("warm", func(t *testing.T) {
		a := invokeGo(t, r, fn, `{}`)
		b := invokeGo(t, r, fn, `{}`)
		if a.Pid != b.Pid {
			t.Errorf("pids %d then %d: the process was not kept warm", a.Pid, b.Pid)
		}
		if a.RequestID == b.RequestID {
			t.Errorf("two invocations with request id %s", a.RequestID)
		}
	})

	t.Run("function error", func(t *testing.T) {
		before := invokeGo(t, r, fn, `{}`)
		_, err := invoke(t, r, fn, `{"op":"fail"}`)
		fe := functionError(t, err)
		if fe.Type != "badThing" || fe.Message != "bad thing: told to fail" {
			t.Errorf("error = %q / %q, want badThing / bad thing: told to fail", fe.Type, fe.Message)
		}
		after := invokeGo(t, r, fn, `{}`)
		if before.Pid != after.Pid {
			t.Errorf("a function error restarted the process (pid %d then %d)", before.Pid, after.Pid)
		}
	})

	t.Run("panic", func(t *testing.T) {
		before := invokeGo(t, r, fn, `{}`)
		_, err := invoke(t, r, fn, `{"op":"panic"}`)
		fe := functionError(t, err)
		if fe.Type != "string" || fe.Message != "told to panic" || len(fe.Trace) == 0 {
			t.Errorf("error = %q / %q / %d frames, want string / told to panic / a stack", fe.Type, fe.Message, len(fe.Trace))
		}
		// aws-lambda-go exits after reporting a panic: the next call gets a
		// new process without an error.
		after := invokeGo(t, r, fn, `{}`)
		if before.Pid == after.Pid {
			t.Errorf("same pid %d after a panic", after.Pid)
		}
	})
}

// go1.x runs the executable named by Handler.
func TestGo1x(t *testing.T) {
	dir := t.TempDir()
	installGoHandler(t, dir, "hello", "v1")
	fn := &compile.Function{LogicalID: "Hello", Name: "hello", Runtime: "go1.x", Handler: "hello", CodeDir: dir, TimeoutMillis: 3000}
	r, _ := newRunner(t, Options{})
	rep := invokeGo(t, r, fn, `{"env":["AWS_EXECUTION_ENV"]}`)
	if rep.Env["AWS_EXECUTION_ENV"] != "AWS_Lambda_go1.x" {
		t.Errorf("AWS_EXECUTION_ENV = %q", rep.Env["AWS_EXECUTION_ENV"])
	}
}

// A process that exits during an invocation gives ErrExited with its status
// and last output; the next call starts a new process.
func TestCrashRestarts(t *testing.T) {
	fn := goFunction(t)
	r, _ := newRunner(t, Options{})
	before := invokeGo(t, r, fn, `{}`)
	_, err := invoke(t, r, fn, `{"op":"exit"}`)
	if !errors.Is(err, ErrExited) {
		t.Fatalf("error = %v, want ErrExited", err)
	}
	for _, want := range []string{"during the invocation", "exit status 3", "exiting with status 3 as told"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	after := invokeGo(t, r, fn, `{}`)
	if after.Pid == before.Pid {
		t.Errorf("same pid %d after a crash", after.Pid)
	}
}

// SPEC R-7.5 (the function's own Timeout): past it the process group is
// killed. The handler would sleep for ten minutes, far past invoke's own
// 30 s context: ErrTimeout (not the caller's deadline) says the 300 ms
// Timeout ended the call, without timing it.
func TestTimeout(t *testing.T) {
	fn := goFunction(t)
	fn.TimeoutMillis = 300
	r, _ := newRunner(t, Options{})
	before := invokeGo(t, r, fn, `{}`)
	start := time.Now()
	_, err := invoke(t, r, fn, `{"op":"sleep","ms":600000}`)
	elapsed := time.Since(start)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "task timed out after 0.30 seconds") {
		t.Errorf("error %q does not give the timeout", err)
	}
	// A lower bound only, which no slow machine can break.
	if elapsed < 300*time.Millisecond {
		t.Errorf("timed out after %s, before the 300 ms Timeout", elapsed)
	}
	waitGone(t, before.Pid)
	after := invokeGo(t, r, fn, `{}`)
	if after.Pid == before.Pid {
		t.Errorf("same pid %d after a timeout", after.Pid)
	}
}

// eventually waits up to 5 s for cond.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
}

// waitGone fails the test when pid is still alive after a few seconds.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !processAlive(pid) {
			return
		}
	}
	t.Errorf("process %d is still alive", pid)
}

// A request the Runtime API does not allow fails the invocation at once.
func TestProtocolViolation(t *testing.T) {
	fn := goFunction(t)
	r, _ := newRunner(t, Options{})
	before := invokeGo(t, r, fn, `{}`)
	_, err := invoke(t, r, fn, `{"op":"protocol"}`)
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("error = %v, want ErrProtocol", err)
	}
	if !strings.Contains(err.Error(), `unknown request id "not-a-request-id"`) {
		t.Errorf("error %q does not name the bad request id", err)
	}
	after := invokeGo(t, r, fn, `{}`)
	if after.Pid == before.Pid {
		t.Errorf("same pid %d after a protocol violation", after.Pid)
	}
}

// Output lines, garbage included, go to Options.Output with the function's
// name; they do not disturb the invocation (on Lambda they go to CloudWatch).
func TestOutput(t *testing.T) {
	fn := goFunction(t)
	r, out := newRunner(t, Options{})
	invokeGo(t, r, fn, `{"op":"stdout"}`)
	// Output is copied from the process's pipe while the reply travels on
	// the Runtime API: give it a moment.
	eventually(t, func() bool { return strings.Contains(out.String(), "hello from stderr") })
	for _, want := range []string{"[go-fn] hello from stdout\n", "[go-fn] hello from stderr\n", "[go-fn] \uFFFD\x00x\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Processes started from older code are replaced before the next invocation.
func TestCodeChange(t *testing.T) {
	t.Run("go", func(t *testing.T) {
		fn := goFunction(t)
		r, _ := newRunner(t, Options{})
		v1 := invokeGo(t, r, fn, `{}`)
		if v1.Version != "v1" {
			t.Fatalf("version %q, want v1", v1.Version)
		}
		installGoHandler(t, fn.CodeDir, "bootstrap", "v2")
		v2 := invokeGo(t, r, fn, `{}`)
		if v2.Version != "v2" || v2.Pid == v1.Pid {
			t.Errorf("after the rebuild: version %s pid %d (was pid %d), want v2 in a new process", v2.Version, v2.Pid, v1.Pid)
		}
		waitGone(t, v1.Pid)
	})
	t.Run("node", func(t *testing.T) {
		needNode(t)
		fn := scriptFunction(t, "nodejs20.x", "app.handler", map[string]string{
			"app.js": `exports.handler = async () => "one";`,
		})
		r, _ := newRunner(t, Options{})
		out, err := invoke(t, r, fn, `{}`)
		if err != nil || string(out) != `"one"` {
			t.Fatalf("first reply %s, %v", out, err)
		}
		writeFiles(t, fn.CodeDir, map[string]string{"app.js": `exports.handler = async () => "two";`})
		out, err = invoke(t, r, fn, `{}`)
		if err != nil || string(out) != `"two"` {
			t.Errorf("after the edit: %s, %v; want \"two\"", out, err)
		}
	})
	t.Run("configuration", func(t *testing.T) {
		fn := goFunction(t)
		r, _ := newRunner(t, Options{})
		fn.Environment = map[string]string{"COLOUR": "red"}
		a := invokeGo(t, r, fn, `{"env":["COLOUR"]}`)
		changed := *fn
		changed.Environment = map[string]string{"COLOUR": "blue"}
		b := invokeGo(t, r, &changed, `{"env":["COLOUR"]}`)
		if a.Env["COLOUR"] != "red" || b.Env["COLOUR"] != "blue" || a.Pid == b.Pid {
			t.Errorf("COLOUR %q (pid %d) then %q (pid %d), want red then blue in a new process", a.Env["COLOUR"], a.Pid, b.Env["COLOUR"], b.Pid)
		}
	})
}

// The function sees Lambda's variables, Options.Env and its Environment, in
// that order of precedence, and Lambda's reserved variables win over both.
func TestEnvironment(t *testing.T) {
	t.Setenv("WSGW_TEST_HOST_ONLY", "leaked")
	t.Setenv("AWS_PROFILE", "developer")
	fn := goFunction(t)
	fn.Environment = map[string]string{
		"FROM_FUNCTION":    "function",
		"SHARED":           "function wins",
		"_HANDLER":         "not allowed",
		"LAMBDA_TASK_ROOT": "/not/allowed",
	}
	r, _ := newRunner(t, Options{Env: map[string]string{
		"FROM_OPTIONS":             "options",
		"SHARED":                   "options",
		"AWS_REGION":               "ap-south-1",
		"AWS_LAMBDA_FUNCTION_NAME": "not allowed",
		"AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": "http://127.0.0.1:9999",
	}})
	want := map[string]string{
		"FROM_FUNCTION": "function",
		"FROM_OPTIONS":  "options",
		"SHARED":        "function wins",
		"AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": "http://127.0.0.1:9999",
		"AWS_REGION":                      "ap-south-1",
		"AWS_DEFAULT_REGION":              "ap-south-1",
		"AWS_LAMBDA_FUNCTION_NAME":        "go-fn",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/go-fn",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                fn.CodeDir,
		"AWS_ACCESS_KEY_ID":               placeholderKeyID,
		"AWS_SECRET_ACCESS_KEY":           placeholderSecret,
		"AWS_SESSION_TOKEN":               placeholderToken,
		"TZ":                              ":UTC",
		"PATH":                            os.Getenv("PATH"),
	}
	absent := []string{"WSGW_TEST_HOST_ONLY", "AWS_PROFILE", "AWS_EXECUTION_ENV"} // none for provided.*
	var names []string
	for k := range want {
		names = append(names, k)
	}
	names = append(names, absent...)
	names = append(names, "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API")
	ev, _ := json.Marshal(map[string]any{"env": names})
	rep := invokeGo(t, r, fn, string(ev))
	for _, k := range names {
		if k == "AWS_LAMBDA_LOG_STREAM_NAME" || k == "AWS_LAMBDA_RUNTIME_API" {
			continue
		}
		got, ok := rep.Env[k]
		if w, expected := want[k]; expected && got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		} else if !expected && ok {
			t.Errorf("%s = %q, want it unset", k, got)
		}
	}
	if !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(rep.Env["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME = %q", rep.Env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(rep.Env["AWS_LAMBDA_RUNTIME_API"]) {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q", rep.Env["AWS_LAMBDA_RUNTIME_API"])
	}

	t.Run("region from the arn", func(t *testing.T) {
		r, _ := newRunner(t, Options{})
		rep := invokeGo(t, r, fn, `{"env":["AWS_REGION","AWS_DEFAULT_REGION"]}`)
		if rep.Env["AWS_REGION"] != "eu-west-1" || rep.Env["AWS_DEFAULT_REGION"] != "eu-west-1" {
			t.Errorf("region %v, want eu-west-1 from %s", rep.Env, fn.Arn)
		}
	})
}

// Concurrent invocations of one function run in parallel processes up to
// MaxProcesses, then queue.
func TestConcurrentInvocations(t *testing.T) {
	t.Run("parallel up to MaxProcesses", func(t *testing.T) {
		const n = 3
		// The barrier answers once n requests are waiting: the invocations
		// can only all succeed if they run at the same time.
		var mu sync.Mutex
		arrived := 0
		all := make(chan struct{})
		barrier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			if arrived++; arrived == n {
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
			case <-time.After(10 * time.Second):
				w.WriteHeader(http.StatusGatewayTimeout)
			}
		}))
		defer barrier.Close()
		fn := goFunction(t)
		fn.TimeoutMillis = 15000
		r, _ := newRunner(t, Options{MaxProcesses: n})
		reps := invokeConcurrently(t, r, fn, n, fmt.Sprintf(`{"op":"barrier","url":%q}`, barrier.URL))
		if pids := distinctPids(reps); pids != n {
			t.Errorf("%d processes served %d concurrent invocations, want %d", pids, n, n)
		}
	})
	t.Run("queued past MaxProcesses", func(t *testing.T) {
		fn := goFunction(t)
		r, _ := newRunner(t, Options{MaxProcesses: 1})
		reps := invokeConcurrently(t, r, fn, 4, `{"op":"sleep","ms":50}`)
		if pids := distinctPids(reps); pids != 1 {
			t.Errorf("%d processes with MaxProcesses 1", pids)
		}
		sort.Slice(reps, func(i, j int) bool { return reps[i].Start < reps[j].Start })
		for i := 1; i < len(reps); i++ {
			if reps[i].Start < reps[i-1].End {
				t.Errorf("invocations %d and %d overlapped in one process", i-1, i)
			}
		}
		if s := r.Stats(); len(s) != 1 || s[0].Starts != 1 || s[0].Invocations != 4 {
			t.Errorf("stats %+v, want 1 start and 4 invocations", s)
		}
	})
}

// SPEC: ReservedConcurrentExecutions bounds a function's instances
// in place of MaxProcesses; 0 throttles every invocation, as on Lambda.
func TestReservedConcurrency(t *testing.T) {
	t.Run("one instance", func(t *testing.T) {
		fn := goFunction(t)
		one := 1
		fn.ReservedConcurrency = &one
		r, _ := newRunner(t, Options{MaxProcesses: 4})
		if got := r.Instances(fn); got != 1 {
			t.Errorf("Instances = %d, want 1", got)
		}
		reps := invokeConcurrently(t, r, fn, 3, `{"op":"sleep","ms":50}`)
		if pids := distinctPids(reps); pids != 1 {
			t.Errorf("%d processes with ReservedConcurrentExecutions 1", pids)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		fn := goFunction(t)
		zero := 0
		fn.ReservedConcurrency = &zero
		r, _ := newRunner(t, Options{})
		if _, err := invoke(t, r, fn, `{}`); !errors.Is(err, ErrThrottled) {
			t.Errorf("error = %v, want ErrThrottled", err)
		}
		if s := r.Stats(); len(s) != 1 || s[0].Starts != 0 {
			t.Errorf("stats %+v, want no process started", s)
		}
	})
}

// A warm process idle for IdleTimeout is stopped; the next invocation is a
// cold start.
func TestIdleTimeout(t *testing.T) {
	fn := goFunction(t)
	r, _ := newRunner(t, Options{IdleTimeout: 200 * time.Millisecond})
	first := invokeGo(t, r, fn, `{}`)
	waitGone(t, first.Pid)
	second := invokeGo(t, r, fn, `{}`)
	if second.Pid == first.Pid {
		t.Fatalf("the same process %d after its idle timeout", first.Pid)
	}
	if s := r.Stats(); len(s) != 1 || s[0].Starts != 2 {
		t.Errorf("stats %+v, want 2 starts", s)
	}
	// Busy processes are not stopped: invocations closer together than the
	// timeout keep one process.
	r2, _ := newRunner(t, Options{IdleTimeout: time.Minute})
	a := invokeGo(t, r2, fn, `{}`)
	b := invokeGo(t, r2, fn, `{}`)
	if a.Pid != b.Pid {
		t.Errorf("pid %d then %d within the idle timeout", a.Pid, b.Pid)
	}
}

func invokeConcurrently(t *testing.T, r *Runner, fn *compile.Function, n int, event string) []goReply {
	t.Helper()
	reps := make([]goReply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := invoke(t, r, fn, event)
			if err == nil {
				err = json.Unmarshal(out, &reps[i])
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
	}
	return reps
}

func distinctPids(reps []goReply) int {
	pids := map[int]bool{}
	for _, r := range reps {
		pids[r.Pid] = true
	}
	return len(pids)
}

// A caller that gives up gets its context's error at once; the invocation
// runs to its end and the process stays warm.
func TestCallerGivesUp(t *testing.T) {
	fn := goFunction(t)
	r, _ := newRunner(t, Options{MaxProcesses: 1})
	before := invokeGo(t, r, fn, `{}`)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := r.Invoke(ctx, fn, []byte(`{"op":"sleep","ms":400}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the context's deadline", err)
	}
	after := invokeGo(t, r, fn, `{}`) // waits for the sleeping process
	if after.Pid != before.Pid {
		t.Errorf("pid %d then %d: the abandoned invocation cost the warm process", before.Pid, after.Pid)
	}
}

// Processes that cannot start give errors that say why.
func TestStartFailures(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string
		is      error
		message string
	}{
		{
			name:    "exits at once",
			files:   map[string]string{"bootstrap": "#!/bin/sh\necho 'missing DATABASE_URL' >&2\nexit 2\n"},
			is:      ErrExited,
			message: `exited before polling the runtime API (exit status 2); last output: "missing DATABASE_URL"`,
		},
		{
			name:    "never polls",
			files:   map[string]string{"bootstrap": "#!/bin/sh\necho warming up\nexec sleep 30\n"},
			is:      ErrStart,
			message: `did not poll the runtime API within 300ms; last output: "warming up"`,
		},
		{
			name:    "not a program",
			files:   map[string]string{"bootstrap": "#!/no/such/interpreter\n"},
			is:      ErrStart,
			message: "no such file or directory",
		},
		{
			name:    "not executable",
			files:   map[string]string{"bootstrap": "echo hi\n"},
			is:      ErrNotRunnable,
			message: "bootstrap is not executable",
		},
		{
			name:    "no bootstrap",
			files:   map[string]string{"main.go": "package main\n"},
			is:      ErrNotRunnable,
			message: "no bootstrap executable in",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fn := scriptFunction(t, "provided.al2", "bootstrap", c.files)
			r, _ := newRunner(t, Options{InitTimeout: 300 * time.Millisecond})
			_, err := invoke(t, r, fn, `{}`)
			if !errors.Is(err, c.is) {
				t.Fatalf("error = %v, want %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q does not say %q", err, c.message)
			}
		})
	}
}

func TestCanRun(t *testing.T) {
	withBootstrap := t.TempDir()
	writeFiles(t, withBootstrap, map[string]string{"bootstrap": "#!/bin/sh\n"})
	empty := t.TempDir()
	cases := []struct {
		name string
		fn   compile.Function
		why  string // "" when it can run
	}{
		{"provided", compile.Function{Runtime: "provided.al2023", CodeDir: withBootstrap}, ""},
		{"node", compile.Function{Runtime: "nodejs22.x", Handler: "index.handler", CodeDir: empty}, ""},
		{"python", compile.Function{Runtime: "python3.12", Handler: "app.handler", CodeDir: empty}, ""},
		{"s3 code", compile.Function{Runtime: "nodejs20.x", Handler: "index.handler"}, "no code on disk"},
		{"image", compile.Function{}, "no code on disk (container image functions are not supported)"},
		{"missing dir", compile.Function{Runtime: "nodejs20.x", Handler: "i.h", CodeDir: filepath.Join(empty, "gone")}, "code directory " + filepath.Join(empty, "gone") + " does not exist"},
		{"java", compile.Function{Runtime: "java21", Handler: "a.B::h", CodeDir: empty}, "runtime java21 is not supported"},
		{"no bootstrap", compile.Function{Runtime: "provided.al2", CodeDir: empty}, "no bootstrap executable in " + empty},
		{"go1.x without handler", compile.Function{Runtime: "go1.x", CodeDir: empty}, "no Handler (go1.x runs the executable it names)"},
		{"go1.x missing executable", compile.Function{Runtime: "go1.x", Handler: "main", CodeDir: empty}, "no executable main in " + empty + " (go1.x runs the Handler)"},
		{"node without handler", compile.Function{Runtime: "nodejs18.x", CodeDir: empty}, "no Handler"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if strings.HasPrefix(c.fn.Runtime, "node") {
				needNode(t)
			}
			if strings.HasPrefix(c.fn.Runtime, "python") {
				needPython(t)
			}
			ok, why := CanRun(&c.fn)
			if ok != (c.why == "") || why != c.why {
				t.Errorf("CanRun = %v, %q; want %q", ok, why, c.why)
			}
		})
	}
}

// Close stops every process; Invoke then fails.
func TestClose(t *testing.T) {
	fn := goFunction(t)
	r, _ := newRunner(t, Options{})
	rep := invokeGo(t, r, fn, `{}`)
	if s := r.Stats(); len(s) != 1 || s[0].Processes != 1 || len(s[0].ColdStarts) != 1 || s[0].ColdStarts[0] <= 0 {
		t.Errorf("stats %+v, want one live process with its cold start", s)
	}
	r.Close()
	if processAlive(rep.Pid) {
		t.Errorf("process %d alive after Close", rep.Pid)
	}
	if _, err := invoke(t, r, fn, `{}`); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
}

// SPEC: after a reload, Retain stops the processes of the
// functions the new plan no longer has (idle ones at once, a busy one once
// it answered) and keeps the others warm; a late invocation of a dropped
// function (a message the old plan still handles) is answered by a process
// that stops right after; Close stops such a process while it is busy.
func TestRetain(t *testing.T) {
	kept := goFunction(t)
	dropped := *kept
	dropped.LogicalID = "Dropped"
	r, _ := newRunner(t, Options{})

	keptPid := invokeGo(t, r, kept, `{}`).Pid
	// One process of the dropped function busy across the Retain, another idle.
	type result struct {
		rep goReply
		err error
	}
	busy := make(chan result, 1)
	go func() {
		var res result
		out, err := invoke(t, r, &dropped, `{"op":"sleep","ms":1000}`)
		if res.err = err; err == nil {
			res.err = json.Unmarshal(out, &res.rep)
		}
		busy <- res
	}()
	for deadline := time.Now().Add(10 * time.Second); busyPid(t, r, "Dropped") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the busy invocation's process never started")
		}
	}
	idlePid := invokeGo(t, r, &dropped, `{}`).Pid

	r.Retain([]string{kept.LogicalID})
	waitGone(t, idlePid)
	res := <-busy
	if res.err != nil {
		t.Fatalf("the invocation busy across Retain: %v", res.err)
	}
	rep := res.rep
	if rep.Pid == idlePid {
		t.Fatalf("the busy invocation ran in the idle process %d", idlePid)
	}
	waitGone(t, rep.Pid)
	if got := invokeGo(t, r, kept, `{}`).Pid; got != keptPid {
		t.Errorf("kept function: process %d, then %d after Retain; want it warm", keptPid, got)
	}

	late := invokeGo(t, r, &dropped, `{}`)
	if late.Pid == idlePid || late.Pid == rep.Pid {
		t.Errorf("late invocation ran in an old process %d", late.Pid)
	}
	waitGone(t, late.Pid)

	// Named again: warm again.
	r.Retain([]string{kept.LogicalID, dropped.LogicalID})
	again := invokeGo(t, r, &dropped, `{}`).Pid
	if got := invokeGo(t, r, &dropped, `{}`).Pid; got != again || !processAlive(again) {
		t.Errorf("function named again: processes %d then %d, want one warm process", again, got)
	}

	// Close reaches a dropped function's busy process.
	r.Retain(nil)
	started := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		close(started)
		_, err := invoke(t, r, &dropped, `{"op":"sleep","ms":20000}`)
		ended <- err
	}()
	<-started
	var sleeper int
	for deadline := time.Now().Add(10 * time.Second); sleeper == 0; time.Sleep(10 * time.Millisecond) {
		sleeper = busyPidRetired(t, r)
		if time.Now().After(deadline) {
			t.Fatal("the sleeping invocation's process never started")
		}
	}
	r.Close()
	waitGone(t, sleeper)
	select {
	case err := <-ended:
		if err == nil {
			t.Error("the invocation Close interrupted succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Error("the invocation Close interrupted did not end")
	}
}

// busyPid returns the pid of a process of the function's pool that is not
// idle, or 0.
func busyPid(t *testing.T, r *Runner, logicalID string) int {
	t.Helper()
	r.mu.Lock()
	pl := r.pools[logicalID]
	r.mu.Unlock()
	if pl == nil {
		return 0
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for p := range pl.all {
		if !slices.Contains(pl.idle, p) && p.cmd != nil && p.cmd.Process != nil {
			return p.cmd.Process.Pid
		}
	}
	return 0
}

// busyPidRetired returns the pid of a process of a retired pool, or 0.
func busyPidRetired(t *testing.T, r *Runner) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for pl := range r.retired {
		pl.mu.Lock()
		for p := range pl.all {
			if p.cmd != nil && p.cmd.Process != nil {
				pl.mu.Unlock()
				return p.cmd.Process.Pid
			}
		}
		pl.mu.Unlock()
	}
	return 0
}
