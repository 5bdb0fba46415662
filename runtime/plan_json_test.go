package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
)

// TestExamplesFromJSONPlan serves each example twice, from the plan the
// compiler built and from that plan written as `wsgw plan --format json`
// writes it and read back, and drives both with the same handshakes and
// messages: what the client gets and what the backend (or the function)
// gets is the same, up to ids, times and ports (STYLE "One model, derived
// once": the plan is plain data, and the gateway builds what runs from it
// when it provisions it). The examples cover HTTP_PROXY with mappings and
// an access log (vpclink), MOCK with templates, template selection,
// integration responses and a model (mock), and AWS_PROXY with a REQUEST
// authorizer (sam-chat, chat, cdk); their functions run in a stand-in
// Invoker that answers with what it was asked, so no node is needed.
func TestExamplesFromJSONPlan(t *testing.T) {
	type step struct {
		dial  string // open a connection at this path (with ?query)
		send  string // send this message on the connection
		close bool   // close the connection
		calls int    // backend requests or function invocations the step makes
		reply bool   // the client gets an answer (two-way route, error frame)
		// want, when set, is what the reply (or the handshake status, for a
		// dial) must match, so that a run where nothing works does not pass
		// for two that agree.
		want string
	}
	errorFrame := `\{"message": "[^"]+", "connectionId":"\S+", "requestId":"\S+"\}`
	tests := []struct {
		name, path string
		params     map[string]string
		backend    bool // the example calls an HTTP backend at --param BackendUrl
		steps      []step
	}{
		{name: "vpclink", path: "../examples/vpclink/template.yaml", backend: true, steps: []step{
			{dial: "/dev?token=s3cret&other=1", calls: 1, want: "101"},
			{send: `{"service":"chat","action":"sendmessage","room":"lobby","text":"hi"}`, calls: 1, reply: true, want: `\{"echo":.*"room":"lobby".*\}`},
			{send: `{"service":"chat","action":"nope"}`, calls: 1},
			{send: `plain text`, calls: 1},
			{close: true, calls: 1},
		}},
		{name: "mock", path: "../examples/mock/template.yaml", steps: []step{
			{dial: "/dev?deny=1", want: "403"},
			{dial: "/dev", want: "101"},
			{send: `{"action":"ping"}`, reply: true, want: `\{"action": "pong".*`},
			{send: `{"action":"check","message":"hello  there, \"wsgw\""}`, reply: true, want: `.*"accepted": true.*`},
			{send: `{"action":"check","message":" \t "}`, reply: true, want: `.*"reason": "the message is blank".*`},
			{send: `{"action":"check","message":"one two three four five six seven eight nine ten eleven"}`, reply: true, want: `.*more than 10 words.*`},
			{send: `{"action":"check","text":"no message"}`, reply: true, want: `\{"message": "Invalid request body".*`},
			{send: `{"action":"help"}`, reply: true, want: `(?s).*"try".*`},
			{send: `not json`, reply: true, want: `(?s).*"try".*`},
			{close: true},
		}},
		{name: "sam-chat", path: "../examples/sam-chat/template.yaml", steps: []step{
			{dial: "/Prod", want: "401"}, // no token: the identity source is missing
			{dial: "/Prod?token=letmein", calls: 2, want: "101"},
			{send: `{"action":"whoami"}`, calls: 1, reply: true, want: `WhoAmIFunction whoami .*principal-letmein.*`},
			{send: `{"action":"sendMessage","data":"hi"}`, calls: 1},
			{send: `{"action":"nothing"}`, reply: true, want: errorFrame},
			{close: true, calls: 1},
		}},
		{name: "chat", path: "../examples/chat/template.yaml", steps: []step{
			{dial: "/Prod", calls: 1, want: "101"},
			{send: `{"action":"sendmessage","data":"hi"}`, calls: 1},
			{close: true, calls: 1},
		}},
		{name: "cdk", path: "../examples/cdk/template.json", steps: []step{
			{dial: "/prod", calls: 1, want: "101"},
			{send: `{"action":"sendmessage","data":"hi"}`, calls: 1, reply: true, want: `Handler886CB40B sendmessage .*`},
			{send: `{"action":"other"}`, calls: 1},
			{close: true, calls: 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newCallRecorder()
			params := map[string]string{}
			if tc.backend {
				be := newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
					rec.add(fmt.Sprintf("backend %s %s %v %s %q", r.Method, r.URL.Path, r.URL.Query(), headerText(r.Header), body))
					if r.URL.Path == "/chat/sendmessage" {
						_, _ = w.Write([]byte(`{"echo":` + string(body) + `}`))
					}
				})
				params["BackendUrl"] = be.URL
			}
			built := compileExample(t, tc.path, params)
			var js bytes.Buffer
			if err := built.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var read compile.Plan
			if err := json.Unmarshal(js.Bytes(), &read); err != nil {
				t.Fatalf("the plan's JSON does not decode: %v", err)
			}

			run := func(p *compile.Plan) []string {
				var access syncBuffer
				events := newCallRecorder() // the event log: one line per handshake, message and $disconnect, once handled
				g := startGateway(t, p, func(o *Options) {
					o.Lambda = &stubInvoker{rec: rec}
					o.AccessLog = &access
					o.Logger = slog.New(slog.NewTextHandler(events, nil))
				})
				addr := g.Addrs()[0]
				var out []string
				var ws *websocket.Conn
				for i, s := range tc.steps {
					before := rec.len()
					got := ""
					if s.dial == "" && ws == nil {
						t.Fatalf("step %d: no connection is open:\n%s", i, strings.Join(out, "\n"))
					}
					switch {
					case s.dial != "":
						c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+s.dial, http.Header{"Origin": {"http://localhost:5173"}})
						if resp == nil {
							t.Fatalf("step %d: dial %s: %v", i, s.dial, err)
						}
						got = fmt.Sprint(resp.StatusCode)
						out = append(out, "dial "+s.dial+" "+got)
						ws = c // nil when refused
						if c != nil {
							t.Cleanup(func() { c.Close() })
						}
					case s.send != "":
						send(t, ws, s.send)
						out = append(out, "send "+s.send)
					case s.close:
						_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
						out = append(out, "close")
					}
					// Each step is handled wholly before the next: the
					// integration calls it makes, then its event log line.
					out = append(out, rec.wait(t, before+s.calls)[before:]...)
					events.wait(t, i+1)
					if s.reply {
						got = recv(t, ws)
						out = append(out, "reply "+got)
					}
					if s.want != "" && !regexpMatch(s.want, got) {
						t.Errorf("step %d (%s%s): got %q, want %s", i, s.dial, s.send, got, s.want)
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := g.Shutdown(ctx); err != nil {
					t.Fatal(err)
				}
				if n := events.len(); n != len(tc.steps) {
					t.Errorf("%d event log lines for %d steps:\n%s", n, len(tc.steps), strings.Join(events.lines, ""))
				}
				out = append(out, strings.Split(strings.TrimSpace(access.String()), "\n")...)
				rec.reset()
				_, port, _ := net.SplitHostPort(addr)
				for i, line := range out {
					line = strings.ReplaceAll(line, addr, "HOST:PORT")
					out[i] = strings.ReplaceAll(line, `"`+port+`"`, `"PORT"`)
				}
				return normalizeTranscript(out)
			}
			want := run(built)
			got := run(&read)
			if !slices.Equal(got, want) {
				t.Errorf("served from the JSON plan:\n%s\n\nfrom the compiled plan:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if testing.Verbose() {
				t.Logf("transcript:\n%s", strings.Join(want, "\n"))
			}
		})
	}
}

// callRecorder keeps the integration calls of a test in order.
type callRecorder struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced on every add
}

func newCallRecorder() *callRecorder { return &callRecorder{more: make(chan struct{})} }

func (r *callRecorder) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
	close(r.more)
	r.more = make(chan struct{})
}

// Write records a line of the event log.
func (r *callRecorder) Write(p []byte) (int, error) {
	r.add(string(p))
	return len(p), nil
}

func (r *callRecorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines)
}

func (r *callRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = nil
}

// wait returns the calls once there are n, failing after 5 s.
func (r *callRecorder) wait(t *testing.T, n int) []string {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		if len(r.lines) >= n {
			out := slices.Clone(r.lines)
			r.mu.Unlock()
			return out
		}
		more := r.more
		r.mu.Unlock()
		select {
		case <-more:
		case <-timeout:
			t.Fatalf("%d integration calls, want %d:\n%s", r.len(), n, strings.Join(r.lines, "\n"))
		}
	}
}

// stubInvoker stands in for the Lambda runner: it records each invocation
// with the function as the plan gives it, and answers as the function would
// be expected to: an authorizer allows the methodArn it is asked about for
// the principal "principal-<token>", any other function answers 200 with
// "<LogicalID> <routeKey> <authorizer>" as its body.
type stubInvoker struct{ rec *callRecorder }

func (s *stubInvoker) Invoke(_ context.Context, fn *compile.Function, payload []byte) ([]byte, error) {
	s.rec.add(fmt.Sprintf("invoke %s name=%s handler=%s runtime=%s timeout=%d memory=%d env=%v code=%t %s",
		fn.LogicalID, fn.Name, fn.Handler, fn.Runtime, fn.TimeoutMillis, fn.MemoryMB, fn.Environment, fn.CodeDir != "", payload))
	var ev struct {
		MethodArn             string            `json:"methodArn"`
		QueryStringParameters map[string]string `json:"queryStringParameters"`
		RequestContext        struct {
			RouteKey   string          `json:"routeKey"`
			Authorizer json.RawMessage `json:"authorizer"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	if ev.MethodArn != "" {
		return json.Marshal(map[string]any{
			"principalId": "principal-" + ev.QueryStringParameters["token"],
			"policyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
				map[string]any{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ev.MethodArn}}},
			"context": map[string]any{"name": "someone"},
		})
	}
	return json.Marshal(map[string]any{"statusCode": 200,
		"body": fn.LogicalID + " " + ev.RequestContext.RouteKey + " " + string(ev.RequestContext.Authorizer)})
}

// headerText is a request's headers, sorted, one string.
func headerText(h http.Header) string {
	var parts []string
	for k, vs := range h {
		parts = append(parts, k+"="+strings.Join(vs, ","))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

var (
	transcriptKey  = regexp.MustCompile(`[A-Za-z0-9+/]{22}==`) // Sec-WebSocket-Key
	transcriptID   = regexp.MustCompile(`[A-Za-z0-9]{15}=`)
	transcriptTime = regexp.MustCompile(`\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}|\b1\d{9}(\d{3})?\b|"integrationLatency\\?":\s*\d+`)
)

// normalizeTranscript replaces the ids of a transcript, which differ from
// run to run, with id1, id2... in the order they first appear, and times
// and latencies with TIME.
func normalizeTranscript(lines []string) []string {
	ids := map[string]string{}
	out := make([]string, len(lines))
	for i, l := range lines {
		l = transcriptKey.ReplaceAllString(l, "KEY")
		l = transcriptID.ReplaceAllStringFunc(l, func(id string) string {
			if _, ok := ids[id]; !ok {
				ids[id] = fmt.Sprintf("id%d", len(ids)+1)
			}
			return ids[id]
		})
		out[i] = transcriptTime.ReplaceAllString(l, "TIME")
	}
	return out
}
