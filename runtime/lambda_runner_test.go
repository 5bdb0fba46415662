package runtime

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/internal/testtool"
	"github.com/wsgw/wsgw/runtime/lambda"
)

// requireNode returns node's path, or skips the test naming it (fails it in
// CI: internal/testtool).
func requireNode(t *testing.T) string {
	t.Helper()
	return testtool.Need(t, "node")
}

var goWS struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// TestMain removes what the tests built outside their own temporary
// directories (goWSFunction's build, shared by every test of the run).
func TestMain(m *testing.M) {
	code := m.Run()
	if goWS.dir != "" {
		os.RemoveAll(goWS.dir)
	}
	os.Exit(code)
}

// goWSFunction builds testdata/lambda/gows (aws-lambda-go) once per test run
// as a provided.al2023 bootstrap and returns a function running it.
func goWSFunction(t *testing.T) *compile.Function {
	t.Helper()
	gobin := testtool.Need(t, "go")
	goWS.once.Do(func() {
		goWS.dir, goWS.err = os.MkdirTemp("", "wsgw-gows-")
		if goWS.err != nil {
			return
		}
		cmd := exec.Command(gobin, "build", "-trimpath", "-o", filepath.Join(goWS.dir, "bootstrap"), ".")
		cmd.Dir = filepath.Join("testdata", "lambda", "gows")
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0")
		goWS.out, goWS.err = cmd.CombinedOutput()
	})
	if goWS.err != nil {
		t.Fatalf("building the Go test function: %v\n%s", goWS.err, goWS.out)
	}
	return &compile.Function{LogicalID: "Fn", Name: "Fn", Runtime: "provided.al2023", Handler: "bootstrap", CodeDir: goWS.dir,
		Arn: "arn:aws:lambda:us-east-1:123456789012:function:Fn", MemoryMB: 128}
}

// nodeWSFunction runs testdata/lambda/node under nodejs20.x.
func nodeWSFunction(t *testing.T) *compile.Function {
	t.Helper()
	requireNode(t)
	dir, err := filepath.Abs(filepath.Join("testdata", "lambda", "node"))
	if err != nil {
		t.Fatal(err)
	}
	return &compile.Function{LogicalID: "Fn", Name: "Fn", Runtime: "nodejs20.x", Handler: "index.handler", CodeDir: dir,
		Arn: "arn:aws:lambda:us-east-1:123456789012:function:Fn", MemoryMB: 128}
}

// readEvents reads the events a test function recorded, waiting until there
// are at least n.
func readEvents(t *testing.T, file string, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out [][]byte
		if f, err := os.Open(file); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				out = append(out, append([]byte(nil), sc.Bytes()...))
			}
			f.Close()
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events recorded, want %d", len(out), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echoReply is what the test functions answer to {"action":"echo"}.
type echoReply struct {
	Event json.RawMessage `json:"event"`
	Pid   int             `json:"pid"`
}

func readEcho(t *testing.T, ws *websocket.Conn) echoReply {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var r echoReply
	if err := json.Unmarshal(data, &r); err != nil || r.Pid == 0 {
		t.Fatalf("not an echo reply: %q", data)
	}
	return r
}

// SPEC: a Go function built with
// aws-lambda-go (provided.al2023) and a Node.js function, run by the local
// runner, receive the events of a connection's life field by field; the Go
// one decodes each into events.APIGatewayWebsocketProxyRequest refusing
// unknown fields. A function that fails, answers garbage, crashes or hangs
// past its Timeout gives the Internal server error frame, another
// connection carries on meanwhile, and the next call runs in a new process.
func TestLambdaRunnerFunctions(t *testing.T) {
	for _, h := range []struct {
		name string
		fn   func(*testing.T) *compile.Function
	}{
		{"go", goWSFunction},
		{"node", nodeWSFunction},
	} {
		t.Run(h.name, func(t *testing.T) {
			fn := h.fn(t)
			events := filepath.Join(t.TempDir(), "events.jsonl")
			fn.Environment = map[string]string{"EVENTS_FILE": events}
			fn.TimeoutMillis = 1500
			other := *fn
			other.LogicalID, other.Name = "Other", "Other"
			other.Environment = map[string]string{"EVENTS_FILE": events + ".other"}

			p := lambdaTestPlan()
			p.Functions = map[string]*compile.Function{"Fn": fn, "Other": &other}
			p.Apis[0].Stages[0].Routes["other"] = twoWay(route("other", lambdaInteg("OtherInteg", "Other")))

			var out io.Writer = io.Discard
			if testing.Verbose() {
				out = testWriter{t}
			}
			runner := lambda.NewRunner(lambda.Options{Output: out, Logger: slog.New(slog.NewTextHandler(out, nil)), MaxProcesses: 1})
			t.Cleanup(func() { runner.Close() })
			g := startGateway(t, p, func(o *Options) { o.Lambda = runner; o.AllowBinary = true })
			domain := g.Addrs()[0]

			// $connect: the event, the answer's Sec-WebSocket-Protocol, a refusal.
			d := websocket.Dialer{Subprotocols: []string{"chat"}}
			ws, _, err := d.Dial("ws://"+domain+"/dev?room=1&room=2", http.Header{"User-Agent": {"ua/" + h.name}, "X-Custom": {"v"}})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if ws.Subprotocol() != "chat" {
				t.Errorf("subprotocol %q: the function's Sec-WebSocket-Protocol did not reach the handshake", ws.Subprotocol())
			}
			ev := checkEvent(t, readEvents(t, events, 1)[0], eventWant{typ: "CONNECT", routeKey: "$connect", domain: domain,
				userAgent: "ua/" + h.name, headers: map[string]string{"X-Custom": "v", "Sec-WebSocket-Protocol": "chat"},
				query: map[string][]string{"room": {"1", "2"}}, stageVars: map[string]string{"color": "blue"}})
			connID := ev["requestContext"].(map[string]any)["connectionId"].(string)
			_, resp, err := websocket.DefaultDialer.Dial("ws://"+domain+"/dev", http.Header{"X-Refuse": {"403"}})
			if err == nil || resp == nil || resp.StatusCode != 403 {
				t.Errorf("a $connect answering 403: %v %v", err, resp)
			}

			// MESSAGE, text and binary.
			send(t, ws, `{"action":"echo"}`)
			r := readEcho(t, ws)
			checkEvent(t, r.Event, eventWant{typ: "MESSAGE", routeKey: "echo", connID: connID, domain: domain, userAgent: "ua/" + h.name,
				body: []byte(`{"action":"echo"}`), stageVars: map[string]string{"color": "blue"}})
			if err := ws.WriteMessage(websocket.BinaryMessage, []byte{0xff, 0, 'b'}); err != nil {
				t.Fatal(err)
			}
			checkEvent(t, readEcho(t, ws).Event, eventWant{typ: "MESSAGE", routeKey: "$default", connID: connID, domain: domain,
				userAgent: "ua/" + h.name, body: []byte{0xff, 0, 'b'}, binary: true, stageVars: map[string]string{"color": "blue"}})

			// Failures, while another connection carries on.
			ws2 := dial(t, g, "/dev")
			pid := r.Pid
			for _, action := range []string{"fail", "garbage", "crash", "hang"} {
				send(t, ws, `{"action":"`+action+`"}`)
				send(t, ws2, `{"action":"other"}`)
				readEcho(t, ws2)
				if m := recv(t, ws); !errorFrameRE("Internal server error").MatchString(m) {
					t.Errorf("%s: got %q, want the Internal server error frame", action, m)
				}
				send(t, ws, `{"action":"echo"}`)
				next := readEcho(t, ws).Pid
				restarted := next != pid
				if want := action == "crash" || action == "hang"; restarted != want {
					t.Errorf("%s: process restarted %v (pid %d then %d), want %v", action, restarted, pid, next, want)
				}
				pid = next
			}

			// DISCONNECT.
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "bye"), time.Now().Add(time.Second))
			deadline := time.Now().Add(10 * time.Second)
			for {
				for _, raw := range readEvents(t, events, 1) {
					if typ, _ := eventOf(raw); typ == "DISCONNECT" && strings.Contains(string(raw), connID) {
						checkEvent(t, raw, eventWant{typ: "DISCONNECT", routeKey: "$disconnect", connID: connID, domain: domain,
							userAgent: "ua/" + h.name, code: 4000, reason: "bye", stageVars: map[string]string{"color": "blue"}})
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatal("no DISCONNECT event")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// waitExited waits until the process pid is gone, failing after 10 s.
func waitExited(t *testing.T, pid int, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); processAlive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: process %d still runs", what, pid)
		}
	}
}

// SPEC: a reload that renames a function (same code, new
// logical ID) runs the next message in a new process and stops the old
// function's warm process; one that removes the function stops its process
// too. The connection stays open throughout.
func TestReloadStopsDroppedFunctions(t *testing.T) {
	fn := nodeWSFunction(t)
	fn.Environment = map[string]string{"EVENTS_FILE": filepath.Join(t.TempDir(), "events.jsonl")}
	planWith := func(id string) *compile.Plan {
		f := *fn
		f.LogicalID, f.Name = id, id
		f.Arn = "arn:aws:lambda:us-east-1:123456789012:function:" + id
		p := testPlan(actionSel, twoWay(route("echo", lambdaInteg("EchoInteg", id))))
		p.Functions = map[string]*compile.Function{id: &f}
		return p
	}
	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = testWriter{t}
	}
	runner := lambda.NewRunner(lambda.Options{Output: out, Logger: slog.New(slog.NewTextHandler(out, nil))})
	t.Cleanup(func() { runner.Close() })
	g := startGateway(t, planWith("EchoFn"), func(o *Options) { o.Lambda = runner })
	ws := dial(t, g, "/dev")

	send(t, ws, `{"action":"echo"}`)
	old := readEcho(t, ws).Pid
	send(t, ws, `{"action":"echo"}`)
	if pid := readEcho(t, ws).Pid; pid != old {
		t.Fatalf("a warm function ran in process %d, then %d", old, pid)
	}

	g.Swap(planWith("RenamedFn"))
	send(t, ws, `{"action":"echo"}`)
	renamed := readEcho(t, ws).Pid
	if renamed == old {
		t.Fatalf("the renamed function ran in the old process %d", old)
	}
	waitExited(t, old, "EchoFn after it was renamed RenamedFn")
	if !processAlive(renamed) {
		t.Errorf("RenamedFn's process %d is gone", renamed)
	}

	// Removed: the plan has no function left (the route now answers Forbidden).
	g.Swap(testPlan(actionSel))
	waitExited(t, renamed, "RenamedFn after it was removed")
	send(t, ws, `{"action":"echo"}`)
	if m := recv(t, ws); !errorFrameRE("Forbidden").MatchString(m) {
		t.Errorf("got %q, want the Forbidden frame", m)
	}
}

// SPEC: a REQUEST authorizer run by the local runner, as
// a real process (the aws-lambda-go test function): it decodes its event
// strictly (aws-lambda-go's REQUEST authorizer event with the WebSocket
// requestContext, unknown fields refused; a failed decode would refuse every
// handshake with 500), and its policy decides the handshake: Allow 101, Deny
// 403, Unauthorized 401; a missing identity source is 401 without a call.
// The principal and context it returned reach the $connect integration's
// event and later ones.
func TestLambdaRunnerAuthorizer(t *testing.T) {
	fn := goWSFunction(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	fn.Environment = map[string]string{"EVENTS_FILE": events}
	auth := *fn
	auth.LogicalID, auth.Name = "Auth", "Auth"
	auth.Arn = "arn:aws:lambda:us-east-1:123456789012:function:Auth"
	auth.Environment = map[string]string{"EVENTS_FILE": events + ".auth"}
	p := lambdaTestPlan()
	p.Functions = map[string]*compile.Function{"Fn": fn, "Auth": &auth}
	p.Apis[0].Stages[0].Routes["$connect"].Authorizer = &compile.Authorizer{LogicalID: "Authorizer", ID: "auth123", Name: "auth",
		Type: "REQUEST", IdentitySources: []compile.Source{{Kind: compile.SourceHeader, Name: "Auth", Expr: "route.request.header.Auth"}},
		MethodArn: testMethodArn, Function: "Auth", FunctionName: "Auth"}

	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = testWriter{t}
	}
	runner := lambda.NewRunner(lambda.Options{Output: out, Logger: slog.New(slog.NewTextHandler(out, nil))})
	t.Cleanup(func() { runner.Close() })
	g := startGateway(t, p, func(o *Options) { o.Lambda = runner })
	url := "ws://" + g.Addrs()[0] + "/dev"

	calls := 0
	for _, tc := range []struct {
		auth   string // the Auth header; "" for none
		status int    // 101: accepted
	}{
		{"good", 101},
		{"bad", 403},
		{"unauthorized", 401},
		{"", 401},
	} {
		t.Run("auth="+tc.auth, func(t *testing.T) {
			h := http.Header{}
			if tc.auth != "" {
				h.Set("Auth", tc.auth)
				calls++
			}
			ws, resp, err := websocket.DefaultDialer.Dial(url, h)
			if n := len(readEvents(t, events+".auth", calls)); n != calls {
				t.Errorf("the authorizer ran %d times, want %d", n, calls)
			}
			if tc.status != 101 {
				if err == nil {
					ws.Close()
					t.Fatalf("handshake accepted, want %d", tc.status)
				}
				if resp == nil || resp.StatusCode != tc.status {
					t.Fatalf("handshake %v, want %d", resp, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			defer ws.Close()
			send(t, ws, `{"action":"echo"}`)
			var ev struct {
				RequestContext struct {
					Authorizer map[string]any `json:"authorizer"`
				} `json:"requestContext"`
			}
			if err := json.Unmarshal(readEcho(t, ws).Event, &ev); err != nil {
				t.Fatal(err)
			}
			a := ev.RequestContext.Authorizer
			if a["principalId"] != "user-go" || a["tenant"] != "go" || a["pid"] == nil {
				t.Errorf("requestContext.authorizer %v, want the authorizer's principal and context", a)
			}
		})
	}
}

// SPEC: a function run by the local runner that is still
// running when the integration's TimeoutInMillis (shorter than the
// function's Timeout) passes gets the Endpoint request timed out frame; the
// connection stays open and the next call is answered.
func TestLambdaRunnerIntegrationTimeout(t *testing.T) {
	fn := nodeWSFunction(t)
	fn.Environment = map[string]string{"EVENTS_FILE": filepath.Join(t.TempDir(), "events.jsonl")}
	fn.TimeoutMillis = 20000
	in := lambdaInteg("HangInteg", "Fn")
	in.TimeoutMillis = 300
	p := testPlan(actionSel, twoWay(route("hang", in)), twoWay(route("echo", lambdaInteg("EchoInteg", "Fn"))))
	p.Functions = map[string]*compile.Function{"Fn": fn}
	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = testWriter{t}
	}
	runner := lambda.NewRunner(lambda.Options{Output: out, Logger: slog.New(slog.NewTextHandler(out, nil)), MaxProcesses: 2})
	t.Cleanup(func() { runner.Close() })
	g := startGateway(t, p, func(o *Options) { o.Lambda = runner })
	ws := dial(t, g, "/dev")
	send(t, ws, `{"action":"hang"}`)
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if m := recv(t, ws); !errorFrameRE("Endpoint request timed out").MatchString(m) {
		t.Fatalf("got %q, want the Endpoint request timed out frame", m)
	}
	send(t, ws, `{"action":"echo"}`)
	readEcho(t, ws)
}
