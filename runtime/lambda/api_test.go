package lambda

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// apiProcess is a process without a program: the test plays the runtime.
func apiProcess(t *testing.T) (*process, string) {
	t.Helper()
	p := &process{
		fn:         &compile.Function{LogicalID: "Fn"},
		log:        slog.New(slog.DiscardHandler),
		out:        &lineWriter{emit: func(string) {}},
		next:       make(chan *invocation),
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		done:       make(chan struct{}),
		spawned:    time.Now(),
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL + "/2018-06-01/runtime"
}

func newInvocation(payload string) *invocation {
	return &invocation{
		id: newRequestID(), traceID: newTraceID(), arn: "arn:aws:lambda:us-east-1:123456789012:function:f",
		payload: []byte(payload), timeout: 2 * time.Second, result: make(chan outcome, 1),
	}
}

type apiReply struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url, body string, header map[string]string) apiReply {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return apiReply{res.StatusCode, res.Header, string(b)}
}

// next polls /next in the background and hands inv over, as Invoke does.
func next(t *testing.T, p *process, base string, inv *invocation) apiReply {
	t.Helper()
	got := make(chan apiReply, 1)
	go func() { got <- call(t, "GET", base+"/invocation/next", "", nil) }()
	select {
	case p.next <- inv:
	case <-time.After(5 * time.Second):
		t.Fatal("/next was not polled")
	}
	return <-got
}

func result(t *testing.T, inv *invocation) outcome {
	t.Helper()
	select {
	case o := <-inv.result:
		return o
	case <-time.After(5 * time.Second):
		t.Fatal("no result")
		return outcome{}
	}
}

func TestRuntimeAPINext(t *testing.T) {
	p, base := apiProcess(t)
	inv := newInvocation(`{"hello":"world"}`)
	rep := next(t, p, base, inv)
	if rep.status != 200 || rep.body != `{"hello":"world"}` {
		t.Fatalf("GET /next = %d %q", rep.status, rep.body)
	}
	if got := rep.header.Get("Lambda-Runtime-Aws-Request-Id"); got != inv.id {
		t.Errorf("Lambda-Runtime-Aws-Request-Id = %q, want %q", got, inv.id)
	}
	if got := rep.header.Get("Lambda-Runtime-Invoked-Function-Arn"); got != inv.arn {
		t.Errorf("Lambda-Runtime-Invoked-Function-Arn = %q", got)
	}
	if got := rep.header.Get("Lambda-Runtime-Trace-Id"); !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`).MatchString(got) {
		t.Errorf("Lambda-Runtime-Trace-Id = %q", got)
	}
	ms, err := strconv.ParseInt(rep.header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if left := time.Until(time.UnixMilli(ms)); err != nil || left <= 0 || left > inv.timeout {
		t.Errorf("Lambda-Runtime-Deadline-Ms = %q: %s left, want a little under the %s timeout", rep.header.Get("Lambda-Runtime-Deadline-Ms"), left, inv.timeout)
	}
	if !p.isReady() || p.coldStart <= 0 {
		t.Errorf("the first /next did not mark the process ready")
	}
}

func TestRuntimeAPIResults(t *testing.T) {
	cases := []struct {
		name     string
		path     string // after /invocation/{id}
		body     string
		header   map[string]string
		status   int
		payload  string // expected response payload
		errType  string // expected FunctionError type
		errMsg   string
		protocol bool // expected ErrProtocol
	}{
		{name: "response", path: "/response", body: `{"statusCode":200}`, status: 202, payload: `{"statusCode":200}`},
		{name: "empty response", path: "/response", status: 202, payload: ``},
		{name: "error document", path: "/error", status: 202,
			body:    `{"errorMessage":"boom","errorType":"Error","trace":["Error: boom","    at handler (/var/task/index.js:1:1)"]}`,
			header:  map[string]string{"Lambda-Runtime-Function-Error-Type": "Unhandled"},
			errType: "Error", errMsg: "boom"},
		{name: "error type header only", path: "/error", status: 202,
			header:  map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.ExitError"},
			errType: "Runtime.ExitError"},
		{name: "error without anything", path: "/error", status: 202, body: "it broke", errType: "Unhandled", errMsg: "it broke"},
		{name: "too large", path: "/response", body: strings.Repeat("x", maxPayload+1), status: 413,
			errType: "Function.ResponseSizeTooLarge", errMsg: "exceeded maximum allowed payload size"},
		{name: "unknown verb", path: "/done", status: 404, protocol: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, base := apiProcess(t)
			inv := newInvocation(`{}`)
			next(t, p, base, inv)
			rep := call(t, "POST", base+"/invocation/"+inv.id+c.path, c.body, c.header)
			if rep.status != c.status {
				t.Errorf("status %d %s, want %d", rep.status, rep.body, c.status)
			}
			if c.status == 202 && rep.body != `{"status":"OK"}` {
				t.Errorf("body %q", rep.body)
			}
			o := result(t, inv)
			switch {
			case c.protocol:
				if !errors.Is(o.err, ErrProtocol) {
					t.Errorf("error %v, want ErrProtocol", o.err)
				}
			case c.errType != "":
				fe := functionError(t, o.err)
				if fe.Type != c.errType || !strings.Contains(fe.Message, c.errMsg) {
					t.Errorf("error %q / %q, want %q / %q", fe.Type, fe.Message, c.errType, c.errMsg)
				}
			default:
				if o.err != nil || string(o.payload) != c.payload {
					t.Errorf("outcome %q, %v; want %q", o.payload, o.err, c.payload)
				}
			}
		})
	}
}

func TestRuntimeAPIMisuse(t *testing.T) {
	t.Run("unknown request id, nothing in flight", func(t *testing.T) {
		p, base := apiProcess(t)
		rep := call(t, "POST", base+"/invocation/nope/response", `{}`, nil)
		if rep.status != 400 || !strings.Contains(rep.body, `"errorType":"InvalidRequestID"`) {
			t.Errorf("answer %d %s, want 400 InvalidRequestID", rep.status, rep.body)
		}
		if p.killed.Load() {
			t.Errorf("killed with no invocation in flight")
		}
	})
	t.Run("wrong request id", func(t *testing.T) {
		p, base := apiProcess(t)
		inv := newInvocation(`{}`)
		next(t, p, base, inv)
		rep := call(t, "POST", base+"/invocation/nope/response", `{}`, nil)
		if rep.status != 400 {
			t.Errorf("status %d, want 400", rep.status)
		}
		if o := result(t, inv); !errors.Is(o.err, ErrProtocol) || !strings.Contains(o.err.Error(), "the invocation in flight is "+inv.id) {
			t.Errorf("error %v, want ErrProtocol naming %s", o.err, inv.id)
		}
	})
	t.Run("next before answering", func(t *testing.T) {
		p, base := apiProcess(t)
		inv := newInvocation(`{}`)
		next(t, p, base, inv)
		rep := call(t, "GET", base+"/invocation/next", "", nil)
		if rep.status != 400 || !strings.Contains(rep.body, "InvalidStateTransition") {
			t.Errorf("answer %d %s, want 400 InvalidStateTransition", rep.status, rep.body)
		}
		if o := result(t, inv); !errors.Is(o.err, ErrProtocol) {
			t.Errorf("error %v, want ErrProtocol", o.err)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		_, base := apiProcess(t)
		rep := call(t, "GET", base+"/../extension/register", "", nil)
		if rep.status != 404 {
			t.Errorf("status %d, want 404", rep.status)
		}
	})
}

func TestRuntimeAPIInitError(t *testing.T) {
	p, base := apiProcess(t)
	rep := call(t, "POST", base+"/init/error", `{"errorMessage":"Unable to import module 'app'","errorType":"Runtime.ImportModuleError","stackTrace":[]}`,
		map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
	if rep.status != 202 {
		t.Fatalf("status %d", rep.status)
	}
	select {
	case <-p.initFailed:
	default:
		t.Fatal("init failure not recorded")
	}
	if p.initErr.Type != "Runtime.ImportModuleError" || p.initErr.Message != "Unable to import module 'app'" {
		t.Errorf("init error %+v", p.initErr)
	}
}

func TestParseFunctionError(t *testing.T) {
	cases := []struct {
		name, body, header string
		want               FunctionError
	}{
		{"node", `{"errorType":"TypeError","errorMessage":"x is not a function","trace":["TypeError: x is not a function","    at a (/t/i.js:1:2)"]}`, "",
			FunctionError{Type: "TypeError", Message: "x is not a function", Trace: []string{"TypeError: x is not a function", "    at a (/t/i.js:1:2)"}}},
		{"python", `{"errorMessage":"bad","errorType":"ValueError","requestId":"r","stackTrace":["  File \"/t/app.py\", line 2, in handler\n"]}`, "",
			FunctionError{Type: "ValueError", Message: "bad", Trace: []string{"  File \"/t/app.py\", line 2, in handler\n"}}},
		{"go", `{"errorMessage":"boom","errorType":"string","stackTrace":[{"path":"main.go","line":12,"label":"handle"}]}`, "Runtime.Panic",
			FunctionError{Type: "string", Message: "boom", Trace: []string{"main.go:12 handle"}}},
		{"header only", ``, "Runtime.ExitError", FunctionError{Type: "Runtime.ExitError"}},
		{"not json", `oops`, "", FunctionError{Type: "Unhandled", Message: "oops"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parseFunctionError([]byte(c.body), c.header)
			if got.Type != c.want.Type || got.Message != c.want.Message || strings.Join(got.Trace, "|") != strings.Join(c.want.Trace, "|") {
				t.Errorf("got %+v\nwant %+v", *got, c.want)
			}
			if !strings.HasPrefix(string(got.Payload), "{") {
				t.Errorf("payload %q is not an error document", got.Payload)
			}
		})
	}
}

func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{emit: func(s string) { lines = append(lines, s) }}
	w.Write([]byte("one\r\ntw"))
	w.Write([]byte("o\n\nthree"))
	w.Write([]byte(strings.Repeat("x", maxLine+10)))
	w.Write([]byte("\nfour"))
	w.flush()
	want := []string{"one", "two", "", "three" + strings.Repeat("x", maxLine-5), "four"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		for i, l := range lines {
			if len(l) > 40 {
				lines[i] = fmt.Sprintf("%s…(%d bytes)", l[:20], len(l))
			}
		}
		t.Errorf("lines %q, want one two (empty) three+%d x four", lines, maxLine-5)
	}
	if tail := w.lastLines(); len(tail) != len(want) || tail[len(tail)-1] != "four" {
		t.Errorf("tail %q", tail)
	}
}

// SPEC: code changes are noticed by watching the code directory
// (inotify on Linux; elsewhere, or out of watches, by a walk), dependencies
// and caches but for packages added or removed are not.
func TestCodeWatch(t *testing.T) {
	watchers := map[string]func(dir string) (codeWatch, error){
		// A stopped clock: a walk never looks slow, so each generation walks
		// (on a busy machine a slow walk would be reused for 50 times its cost).
		"walk": func(dir string) (codeWatch, error) {
			stopped := time.Unix(0, 0)
			return &walkWatch{dir: dir, now: func() time.Time { return stopped }}, nil
		},
		"inotify": func(dir string) (codeWatch, error) {
			w, err := newInotifyWatch(dir)
			if err != nil {
				return nil, err
			}
			return w, nil
		},
	}
	for name, newWatch := range watchers {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{
				"app.js":                          "1",
				"node_modules/dep/index.js":       "1",
				"__pycache__/app.cpython-311.pyc": "1",
				".git/index":                      "1",
			})
			w, err := newWatch(dir)
			if errors.Is(err, errors.ErrUnsupported) {
				t.Skip("no inotify on this system")
			}
			if err != nil {
				t.Fatal(err)
			}
			defer w.close()
			base := w.generation()
			if w.generation() != base {
				t.Fatal("generation is not stable")
			}
			cases := []struct {
				name    string
				change  func()
				changes bool
			}{
				{"inside node_modules", func() { writeFiles(t, dir, map[string]string{"node_modules/dep/index.js": "22"}) }, false},
				{"inside __pycache__", func() { writeFiles(t, dir, map[string]string{"__pycache__/app.cpython-311.pyc": "22"}) }, false},
				{"inside .git", func() { writeFiles(t, dir, map[string]string{".git/index": "22"}) }, false},
				{"a source file", func() { writeFiles(t, dir, map[string]string{"app.js": "22"}) }, true},
				{"a new file in a new directory", func() { writeFiles(t, dir, map[string]string{"lib/util.js": "1"}) }, true},
				{"a file in that directory", func() { writeFiles(t, dir, map[string]string{"lib/util.js": "22"}) }, true},
				{"a package added to node_modules", func() { os.Mkdir(filepath.Join(dir, "node_modules", "newdep"), 0o755) }, true},
				{"the same size, a new time", func() {
					later := time.Now().Add(time.Hour)
					os.Chtimes(filepath.Join(dir, "app.js"), later, later)
				}, true},
				{"saved by rename", func() {
					writeFiles(t, dir, map[string]string{".app.js.swp": "333"})
					os.Rename(filepath.Join(dir, ".app.js.swp"), filepath.Join(dir, "app.js"))
				}, true},
				{"nothing", func() {}, false},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					before := w.generation()
					c.change()
					if changed := w.generation() != before; changed != c.changes {
						t.Errorf("generation changed = %v, want %v", changed, c.changes)
					}
				})
			}
		})
	}
}

// Request IDs have the form of Lambda's (UUID version 4) and trace IDs
// X-Ray's, and neither repeats.
func TestInvocationIDs(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	trace := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)
	seen := map[string]bool{}
	for range 1000 {
		id, tr := newRequestID(), newTraceID()
		if !uuid.MatchString(id) || !trace.MatchString(tr) || seen[id] || seen[tr] {
			t.Fatalf("request id %q, trace %q (seen before: %v %v)", id, tr, seen[id], seen[tr])
		}
		seen[id], seen[tr] = true, true
	}
}
