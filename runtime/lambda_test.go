package runtime

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime/lambda"
)

// fakeLambda is an Invoker that records every payload and answers with
// handle (the payload's route decides, for most tests).
type fakeLambda struct {
	mu     sync.Mutex
	calls  []fakeCall
	called chan fakeCall
	handle func(fn *compile.Function, payload []byte) ([]byte, error)
}

type fakeCall struct {
	fn      string
	payload []byte
}

func newFakeLambda(handle func(fn *compile.Function, payload []byte) ([]byte, error)) *fakeLambda {
	return &fakeLambda{handle: handle, called: make(chan fakeCall, 100)}
}

func (f *fakeLambda) Invoke(_ context.Context, fn *compile.Function, payload []byte) ([]byte, error) {
	c := fakeCall{fn: fn.LogicalID, payload: payload}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	f.called <- c
	if f.handle == nil {
		return []byte(`{"statusCode":200}`), nil
	}
	return f.handle(fn, payload)
}

// next returns the next call, failing after 5 s.
func (f *fakeLambda) next(t *testing.T) fakeCall {
	t.Helper()
	select {
	case c := <-f.called:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("the function was not called")
		return fakeCall{}
	}
}

// snapshot returns the calls so far.
func (f *fakeLambda) snapshot() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// count returns how many calls fn got.
func (f *fakeLambda) count(fn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.fn == fn {
			n++
		}
	}
	return n
}

// lambdaInteg is an AWS_PROXY integration invoking function fn of the plan.
func lambdaInteg(id, fn string) *compile.Integration {
	return &compile.Integration{LogicalID: id, ID: strings.ToLower(id), Type: "AWS_PROXY", TimeoutMillis: 5000,
		URL:      "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:" + fn + "/invocations",
		Function: fn, FunctionName: fn}
}

// withFunctions adds functions to a test plan.
func withFunctions(p *compile.Plan, names ...string) *compile.Plan {
	p.Functions = map[string]*compile.Function{}
	for _, n := range names {
		p.Functions[n] = &compile.Function{LogicalID: n, Name: n, Runtime: "nodejs20.x", Handler: "index.handler",
			Arn: "arn:aws:lambda:us-east-1:123456789012:function:" + n, TimeoutMillis: 3000, MemoryMB: 128}
	}
	return p
}

// lambdaTestPlan routes $connect, $disconnect, echo (two-way), quiet
// (one-way) and $default (two-way) to function Fn, on a stage with a
// variable.
func lambdaTestPlan() *compile.Plan {
	p := withFunctions(testPlan(actionSel,
		route("$connect", lambdaInteg("ConnectInteg", "Fn")),
		route("$disconnect", lambdaInteg("DisconnectInteg", "Fn")),
		twoWay(route("echo", lambdaInteg("EchoInteg", "Fn"))),
		route("quiet", lambdaInteg("QuietInteg", "Fn")),
		twoWay(route("$default", lambdaInteg("DefaultInteg", "Fn"))),
	), "Fn")
	p.Apis[0].Stages[0].Variables = map[string]string{"color": "blue"}
	return p
}

// eventWant is what a test knows of a Lambda event (SPEC ).
type eventWant struct {
	typ, routeKey string
	connID        string // "" when not known yet
	domain        string
	userAgent     string
	body          []byte
	binary        bool
	code          int
	reason        string
	headers       map[string]string   // CONNECT: headers that must be there
	query         map[string][]string // CONNECT: the query string; nil: none
	stageVars     map[string]string
	authorizer    map[string]any // nil: no authorizer
}

// Keys of requestContext, as in the events API Gateway sends (those captured
// in aws-lambda-go's events/testdata: apigw-websocket-request-send-message.json
// and apigw-websocket-request-disconnect.json; CONNECT as captured from API
// Gateway, with messageId, disconnectStatusCode and disconnectReason null).
var baseContextKeys = []string{"routeKey", "eventType", "extendedRequestId", "requestTime", "messageDirection",
	"stage", "connectedAt", "requestTimeEpoch", "identity", "requestId", "domainName", "connectionId", "apiId"}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// checkEvent compares a Lambda proxy event field by field with what the test
// knows, and returns it decoded.
func checkEvent(t *testing.T, raw []byte, w eventWant) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, raw)
	}
	top := []string{"requestContext", "isBase64Encoded"}
	ctxKeys := slices.Clone(baseContextKeys)
	switch w.typ {
	case "CONNECT":
		top = append(top, "headers", "multiValueHeaders")
		ctxKeys = append(ctxKeys, "messageId", "disconnectStatusCode", "disconnectReason")
		if w.query != nil {
			top = append(top, "queryStringParameters", "multiValueQueryStringParameters")
		}
	case "MESSAGE":
		top = append(top, "body")
		ctxKeys = append(ctxKeys, "messageId")
	case "DISCONNECT":
		top = append(top, "headers", "multiValueHeaders")
		ctxKeys = append(ctxKeys, "disconnectStatusCode", "disconnectReason")
	}
	if w.stageVars != nil {
		top = append(top, "stageVariables")
	}
	if w.authorizer != nil {
		ctxKeys = append(ctxKeys, "authorizer")
	}
	if got, want := keysOf(ev), sorted(top...); !slices.Equal(got, want) {
		t.Errorf("%s event keys = %v, want %v", w.typ, got, want)
	}
	rc, _ := ev["requestContext"].(map[string]any)
	if got, want := keysOf(rc), sorted(ctxKeys...); !slices.Equal(got, want) {
		t.Errorf("%s requestContext keys = %v, want %v", w.typ, got, want)
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	num := func(m map[string]any, k string) int64 { f, _ := m[k].(float64); return int64(f) }
	for k, want := range map[string]string{"routeKey": w.routeKey, "eventType": w.typ, "messageDirection": "IN",
		"stage": "dev", "apiId": "abcde12345", "domainName": w.domain} {
		if got := str(rc, k); got != want {
			t.Errorf("%s requestContext.%s = %q, want %q", w.typ, k, got, want)
		}
	}
	id := str(rc, "connectionId")
	if !idPattern.MatchString(id) || w.connID != "" && id != w.connID {
		t.Errorf("%s connectionId = %q, want %q", w.typ, id, w.connID)
	}
	if req := str(rc, "requestId"); !idPattern.MatchString(req) || str(rc, "extendedRequestId") != req {
		t.Errorf("%s requestId %q, extendedRequestId %q", w.typ, req, str(rc, "extendedRequestId"))
	}
	if w.typ == "MESSAGE" && !idPattern.MatchString(str(rc, "messageId")) {
		t.Errorf("messageId = %q", str(rc, "messageId"))
	}
	epoch, connected := num(rc, "requestTimeEpoch"), num(rc, "connectedAt")
	if rt, err := time.Parse(requestTimeLayout, str(rc, "requestTime")); err != nil || rt.Unix() != epoch/1000 {
		t.Errorf("%s requestTime %q (%v) does not match requestTimeEpoch %d", w.typ, str(rc, "requestTime"), err, epoch)
	}
	if connected == 0 || connected > epoch || time.Since(time.UnixMilli(connected)) > time.Minute {
		t.Errorf("%s connectedAt %d, requestTimeEpoch %d", w.typ, connected, epoch)
	}
	ident, _ := rc["identity"].(map[string]any)
	if str(ident, "sourceIp") != "127.0.0.1" || str(ident, "userAgent") != w.userAgent || len(ident) != 2 {
		t.Errorf("%s identity = %v, want sourceIp 127.0.0.1 and userAgent %q", w.typ, ident, w.userAgent)
	}
	if b, _ := ev["isBase64Encoded"].(bool); b != w.binary {
		t.Errorf("%s isBase64Encoded = %v", w.typ, b)
	}
	if w.typ == "MESSAGE" {
		body := []byte(str(ev, "body"))
		if w.binary {
			var err error
			if body, err = base64.StdEncoding.DecodeString(string(body)); err != nil {
				t.Errorf("binary body is not base64: %v", err)
			}
		}
		if string(body) != string(w.body) {
			t.Errorf("body = %q, want %q", body, w.body)
		}
	}
	if w.typ == "DISCONNECT" {
		if num(rc, "disconnectStatusCode") != int64(w.code) || str(rc, "disconnectReason") != w.reason {
			t.Errorf("disconnectStatusCode %v, disconnectReason %q; want %d %q", rc["disconnectStatusCode"], str(rc, "disconnectReason"), w.code, w.reason)
		}
	}
	hs, _ := ev["headers"].(map[string]any)
	mhs, _ := ev["multiValueHeaders"].(map[string]any)
	switch w.typ {
	case "CONNECT":
		want := map[string]string{"Host": w.domain, "X-Forwarded-For": "127.0.0.1", "Sec-WebSocket-Version": "13"}
		for k, v := range w.headers {
			want[k] = v
		}
		for k, v := range want {
			mv, _ := mhs[k].([]any)
			if str(hs, k) != v || len(mv) == 0 || mv[len(mv)-1] != v {
				t.Errorf("header %s = %q (all: %v), want %q", k, str(hs, k), mv, v)
			}
		}
		if _, ok := hs["Sec-WebSocket-Key"]; !ok {
			t.Errorf("headers lack Sec-WebSocket-Key: %v", keysOf(hs))
		}
		// Connection and Upgrade are there, as in the developer guide's
		// authorizer input: both events carry the same header set.
		for _, k := range []string{"Connection", "Upgrade"} {
			if _, ok := hs[k]; !ok {
				t.Errorf("headers lack %s: %v", k, keysOf(hs))
			}
			if _, ok := mhs[k]; !ok {
				t.Errorf("multiValueHeaders lack %s: %v", k, keysOf(mhs))
			}
		}
		for _, k := range []string{"messageId", "disconnectStatusCode", "disconnectReason"} {
			if v, ok := rc[k]; !ok || v != nil {
				t.Errorf("CONNECT requestContext.%s = %v (present %v), want null", k, v, ok)
			}
		}
		qs, _ := ev["queryStringParameters"].(map[string]any)
		mqs, _ := ev["multiValueQueryStringParameters"].(map[string]any)
		for k, vs := range w.query {
			var got []string
			for _, v := range mqs[k].([]any) {
				got = append(got, v.(string))
			}
			if !slices.Equal(got, vs) || str(qs, k) != vs[len(vs)-1] {
				t.Errorf("query %s = %q / %v, want %v", k, str(qs, k), got, vs)
			}
		}
	case "DISCONNECT":
		if str(hs, "Host") != w.domain {
			t.Errorf("DISCONNECT headers = %v", hs)
		}
	}
	if w.stageVars != nil {
		sv, _ := ev["stageVariables"].(map[string]any)
		for k, v := range w.stageVars {
			if str(sv, k) != v {
				t.Errorf("stageVariables = %v, want %v", sv, w.stageVars)
			}
		}
	}
	if w.authorizer != nil {
		a, _ := rc["authorizer"].(map[string]any)
		for k, v := range w.authorizer {
			if a[k] != v {
				t.Errorf("authorizer.%s = %#v, want %#v (all: %v)", k, a[k], v, a)
			}
		}
		if _, ok := a["integrationLatency"].(float64); !ok {
			t.Errorf("authorizer lacks integrationLatency: %v", a)
		}
	}
	return ev
}

// eventOf reads requestContext.eventType and routeKey of a payload.
func eventOf(payload []byte) (typ, routeKey string) {
	var ev struct {
		RequestContext struct{ EventType, RouteKey string } `json:"requestContext"`
	}
	_ = json.Unmarshal(payload, &ev)
	return ev.RequestContext.EventType, ev.RequestContext.RouteKey
}

// echoEvent answers MESSAGE events with the event as body, others with 200.
func echoEvent(_ *compile.Function, payload []byte) ([]byte, error) {
	if typ, _ := eventOf(payload); typ != "MESSAGE" {
		return []byte(`{"statusCode":200}`), nil
	}
	return json.Marshal(map[string]any{"statusCode": 200, "body": string(payload)})
}

// SPEC: the events a Lambda integration receives for a
// connection's life, field by field.
func TestLambdaProxyEvents(t *testing.T) {
	fake := newFakeLambda(echoEvent)
	g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = fake; o.AllowBinary = true })
	domain := g.Addrs()[0]

	h := http.Header{"User-Agent": {"wsgw-test/1"}, "X-Multi": {"a", "b"}, "Auth": {"secret"}}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+domain+"/dev?name=me&tag=x&tag=y", h)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	connect := fake.next(t)
	ev := checkEvent(t, connect.payload, eventWant{typ: "CONNECT", routeKey: "$connect", domain: domain, userAgent: "wsgw-test/1",
		headers: map[string]string{"X-Multi": "b", "Auth": "secret", "User-Agent": "wsgw-test/1"},
		query:   map[string][]string{"name": {"me"}, "tag": {"x", "y"}}, stageVars: map[string]string{"color": "blue"}})
	if mv := ev["multiValueHeaders"].(map[string]any)["X-Multi"].([]any); len(mv) != 2 || mv[0] != "a" {
		t.Errorf("multiValueHeaders X-Multi = %v", mv)
	}
	connID := ev["requestContext"].(map[string]any)["connectionId"].(string)
	connectedAt := ev["requestContext"].(map[string]any)["connectedAt"]

	t.Run("message", func(t *testing.T) {
		msg := `{"action":"echo","x":1}`
		send(t, ws, msg)
		got := recv(t, ws)
		fake.next(t)
		ev := checkEvent(t, []byte(got), eventWant{typ: "MESSAGE", routeKey: "echo", connID: connID, domain: domain,
			userAgent: "wsgw-test/1", body: []byte(msg), stageVars: map[string]string{"color": "blue"}})
		if ev["requestContext"].(map[string]any)["connectedAt"] != connectedAt {
			t.Error("connectedAt differs between events of one connection")
		}
	})
	t.Run("binary", func(t *testing.T) {
		bin := []byte{0, 1, 2, 0xff, 'x'}
		if err := ws.WriteMessage(websocket.BinaryMessage, bin); err != nil {
			t.Fatal(err)
		}
		got := recv(t, ws)
		fake.next(t)
		checkEvent(t, []byte(got), eventWant{typ: "MESSAGE", routeKey: "$default", connID: connID, domain: domain,
			userAgent: "wsgw-test/1", body: bin, binary: true, stageVars: map[string]string{"color": "blue"}})
	})
	t.Run("disconnect", func(t *testing.T) {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"), time.Now().Add(time.Second))
		disc := fake.next(t)
		checkEvent(t, disc.payload, eventWant{typ: "DISCONNECT", routeKey: "$disconnect", connID: connID, domain: domain,
			userAgent: "wsgw-test/1", code: 4001, reason: "bye", stageVars: map[string]string{"color": "blue"}})
	})
}

// SPEC: what the gateway does with a Lambda's answers.
func TestLambdaProxyResponses(t *testing.T) {
	connectCases := []struct {
		name   string
		answer string
		err    error
		status int // 101 accepted
	}{
		{"200", `{"statusCode":200,"body":"Connected."}`, nil, 101},
		{"status left out", `{"body":"x"}`, nil, 101},
		{"null", `null`, nil, 101},
		{"403", `{"statusCode":403}`, nil, 403},
		{"401 with body", `{"statusCode":401,"body":"no"}`, nil, 401},
		{"function error", ``, &lambda.FunctionError{Type: "Error", Message: "boom"}, 502},
		{"runner error", ``, errors.New("process exited"), 502},
		{"not json", `garbage`, nil, 502},
		{"a string", `"hello"`, nil, 502},
		{"status not a number", `{"statusCode":"200"}`, nil, 502},
	}
	for _, tc := range connectCases {
		t.Run("connect "+tc.name, func(t *testing.T) {
			fake := newFakeLambda(func(_ *compile.Function, payload []byte) ([]byte, error) {
				if typ, _ := eventOf(payload); typ == "CONNECT" {
					return []byte(tc.answer), tc.err
				}
				return []byte(`{}`), nil
			})
			g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = fake })
			ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
			if tc.status == 101 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				ws.Close()
				return
			}
			if err == nil {
				ws.Close()
				t.Fatalf("handshake accepted, want %d", tc.status)
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("handshake answered %v, want %d", resp, tc.status)
			}
		})
	}

	t.Run("connect headers", func(t *testing.T) {
		fake := newFakeLambda(func(_ *compile.Function, payload []byte) ([]byte, error) {
			return []byte(`{"statusCode":200,"headers":{"Sec-WebSocket-Protocol":"chat.v2","X-Extra":"1"}}`), nil
		})
		g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = fake })
		d := websocket.Dialer{Subprotocols: []string{"chat.v1", "chat.v2"}}
		ws, resp, err := d.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if ws.Subprotocol() != "chat.v2" || resp.Header.Get("X-Extra") != "1" {
			t.Errorf("subprotocol %q, X-Extra %q", ws.Subprotocol(), resp.Header.Get("X-Extra"))
		}
	})
	t.Run("no subprotocol echoed", func(t *testing.T) {
		g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = newFakeLambda(nil) })
		d := websocket.Dialer{Subprotocols: []string{"chat.v1"}}
		ws, resp, err := d.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if ws.Subprotocol() != "" || resp.Header.Get("Sec-WebSocket-Protocol") != "" {
			t.Errorf("gateway chose subprotocol %q on its own", ws.Subprotocol())
		}
	})

	messageCases := []struct {
		name   string
		action string // route: echo is two-way, quiet one-way
		answer string
		err    error
		want   string // frame, or "ERROR" for Internal server error, "" for none
		binary bool
	}{
		{"two-way body", "echo", `{"statusCode":200,"body":"pong"}`, nil, "pong", false},
		{"two-way status ignored", "echo", `{"statusCode":500,"body":"still sent"}`, nil, "still sent", false},
		{"two-way empty body", "echo", `{"statusCode":200}`, nil, "", false},
		{"two-way base64", "echo", `{"statusCode":200,"body":"AAH/","isBase64Encoded":true}`, nil, "\x00\x01\xff", true},
		{"one-way body", "quiet", `{"statusCode":200,"body":"not sent"}`, nil, "", false},
		{"function error", "echo", ``, &lambda.FunctionError{Type: "Error", Message: "boom"}, "ERROR", false},
		{"function error one-way", "quiet", ``, &lambda.FunctionError{Type: "Error", Message: "boom"}, "ERROR", false},
		{"timeout", "echo", ``, lambda.ErrTimeout, "ERROR", false},
		{"bad response", "echo", `{"statusCode":200,"body":{"not":"a string"}}`, nil, "ERROR", false},
		{"garbage", "echo", "\x00garbage", nil, "ERROR", false},
	}
	for _, tc := range messageCases {
		t.Run("message "+tc.name, func(t *testing.T) {
			fake := newFakeLambda(func(_ *compile.Function, payload []byte) ([]byte, error) {
				if typ, _ := eventOf(payload); typ == "MESSAGE" {
					return []byte(tc.answer), tc.err
				}
				return []byte(`{"statusCode":200}`), nil
			})
			g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = fake })
			ws := dial(t, g, "/dev")
			send(t, ws, `{"action":"`+tc.action+`"}`)
			switch tc.want {
			case "":
				noMessage(t, ws, 300*time.Millisecond)
			case "ERROR":
				if got := recv(t, ws); !errorFrameRE("Internal server error").MatchString(got) {
					t.Errorf("got %q, want the Internal server error frame", got)
				}
			default:
				_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
				typ, data, err := ws.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				if string(data) != tc.want || (typ == websocket.BinaryMessage) != tc.binary {
					t.Errorf("got %q (type %d), want %q", data, typ, tc.want)
				}
			}
			// The connection carries on.
			send(t, ws, `{"action":"quiet"}`)
		})
	}
}

// SPEC: --integration URL, then --lambda-endpoint, then the local runner.
func TestLambdaWays(t *testing.T) {
	t.Run("integration URL", func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
			mu.Unlock()
			if typ, _ := eventOf(body); typ != "MESSAGE" {
				_, _ = w.Write([]byte(`{"statusCode":200}`))
				return
			}
			var ev struct{ Body string }
			_ = json.Unmarshal(body, &ev)
			if strings.Contains(ev.Body, "fail") {
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
				_, _ = w.Write([]byte(`{"errorMessage":"boom","errorType":"Error"}`))
				return
			}
			_, _ = w.Write([]byte(`{"statusCode":200,"body":"from url: ` + strings.ReplaceAll(ev.Body, `"`, `'`) + `"}`))
		}))
		defer srv.Close()
		p := lambdaTestPlan()
		for _, r := range p.Apis[0].Stages[0].Routes {
			r.Integration.URL, r.Integration.Overridden = srv.URL+"/fn", true
		}
		fake := newFakeLambda(nil)
		g := startGateway(t, p, func(o *Options) { o.Lambda = fake; o.LambdaEndpoint = "http://127.0.0.1:1" })
		ws := dial(t, g, "/dev")
		send(t, ws, `{"action":"echo"}`)
		if m := recv(t, ws); m != `from url: {'action':'echo'}` {
			t.Errorf("got %q", m)
		}
		send(t, ws, `{"action":"echo","fail":1}`)
		if m := recv(t, ws); !errorFrameRE("Internal server error").MatchString(m) {
			t.Errorf("function error: got %q", m)
		}
		if n := fake.count("Fn"); n != 0 {
			t.Errorf("the local runner was called %d times", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) < 3 || got[0] != "POST /fn application/json" {
			t.Errorf("requests: %q", got)
		}
	})

	t.Run("lambda endpoint", func(t *testing.T) {
		var mu sync.Mutex
		var paths []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			paths = append(paths, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Amz-Invocation-Type"))
			mu.Unlock()
			switch {
			case !strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/Fn/invocations"):
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"Type":"User","Message":"Function not found: ` + r.URL.Path + `"}`))
			case strings.Contains(string(body), `fail`):
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
				_, _ = w.Write([]byte(`{"errorMessage":"boom","errorType":"Error","trace":[]}`))
			default:
				out, _ := echoEvent(nil, body)
				_, _ = w.Write(out)
			}
		}))
		defer srv.Close()
		fake := newFakeLambda(nil)
		g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = fake; o.LambdaEndpoint = srv.URL })
		ws := dial(t, g, "/dev")
		send(t, ws, `{"action":"echo"}`)
		checkEvent(t, []byte(recv(t, ws)), eventWant{typ: "MESSAGE", routeKey: "echo", domain: g.Addrs()[0],
			userAgent: "Go-http-client/1.1", body: []byte(`{"action":"echo"}`), stageVars: map[string]string{"color": "blue"}})
		send(t, ws, `{"action":"echo","fail":1}`)
		if m := recv(t, ws); !errorFrameRE("Internal server error").MatchString(m) {
			t.Errorf("X-Amz-Function-Error: got %q", m)
		}
		if n := fake.count("Fn"); n != 0 {
			t.Errorf("the local runner was called %d times", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(paths) < 3 || paths[0] != "POST /2015-03-31/functions/Fn/invocations RequestResponse" {
			t.Errorf("requests: %q", paths)
		}
	})

	t.Run("lambda endpoint qualifier and unknown function", func(t *testing.T) {
		var got string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.URL.RequestURI()
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"Type":"User","Message":"Function not found"}`))
		}))
		defer srv.Close()
		in := lambdaInteg("Elsewhere", "")
		in.FunctionName, in.FunctionQualifier = "elsewhere", "live"
		p := testPlan(actionSel, twoWay(route("$default", in)))
		g := startGateway(t, p, func(o *Options) { o.LambdaEndpoint = srv.URL })
		ws := dial(t, g, "/dev")
		send(t, ws, `{}`)
		if m := recv(t, ws); !errorFrameRE("Internal server error").MatchString(m) {
			t.Errorf("got %q", m)
		}
		if got != "/2015-03-31/functions/elsewhere/invocations?Qualifier=live" {
			t.Errorf("request URI %q", got)
		}
	})

	t.Run("local runner", func(t *testing.T) {
		fake := newFakeLambda(echoEvent)
		g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = fake })
		ws := dial(t, g, "/dev")
		send(t, ws, `{"action":"echo"}`)
		recv(t, ws)
		if n := fake.count("Fn"); n != 2 {
			t.Errorf("the runner got %d calls, want 2 ($connect and echo)", n)
		}
	})

	t.Run("no way", func(t *testing.T) {
		in := lambdaInteg("Elsewhere", "")
		in.FunctionName = "elsewhere"
		g := startGateway(t, testPlan(actionSel, twoWay(route("$default", in))), nil)
		ws := dial(t, g, "/dev")
		send(t, ws, `{}`)
		if m := recv(t, ws); !errorFrameRE("Internal server error").MatchString(m) {
			t.Errorf("got %q", m)
		}
	})

	t.Run("no runner", func(t *testing.T) {
		g := startGateway(t, lambdaTestPlan(), nil)
		_, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
			t.Errorf("dial without a runner: %v %v, want 502", err, resp)
		}
	})
}

// TestNewLambda checks that Start makes the runner with the environment the
// functions need, and Shutdown closes it.
func TestNewLambda(t *testing.T) {
	fake := newFakeLambda(nil)
	var env map[string]string
	closed := make(chan struct{})
	o := testOptions()
	o.CA = testCA(t)
	o.NewLambda = func(e map[string]string) (Invoker, error) {
		env = e
		return &closingInvoker{fakeLambda: fake, closed: closed}, nil
	}
	g, err := New(lambdaTestPlan(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": "https://" + g.Addrs()[0] + "/dev",
		"NODE_EXTRA_CA_CERTS":                      o.CA.CertFile,
		"SSL_CERT_FILE":                            o.CA.CertFile,
		"AWS_CA_BUNDLE":                            o.CA.CertFile,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	ws := dial(t, g, "/dev")
	ws.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	default:
		t.Error("Shutdown did not close the runner")
	}
	if fake.count("Fn") == 0 {
		t.Error("the runner NewLambda made was not used")
	}
}

type closingInvoker struct {
	*fakeLambda
	closed chan struct{}
}

func (c *closingInvoker) Close() error { close(c.closed); return nil }

// SPEC, issue 13: the $connect proxy event and the authorizer event
// carry the same header set: the client's headers with Connection and
// Upgrade (as in the developer guide's example authorizer input) and the
// Sec-WebSocket-* ones, without the other hop-by-hop headers (Keep-Alive,
// TE, Trailer, Transfer-Encoding, Proxy-*, and those Connection names).
func TestConnectHeaders(t *testing.T) {
	e := &event{typ: eventConnect, host: "127.0.0.1:3001", conn: &connMeta{domainName: "127.0.0.1:3001", sourceIP: "127.0.0.1"},
		header: http.Header{
			"Connection":               {"Upgrade, X-Hop"},
			"Upgrade":                  {"websocket"},
			"Keep-Alive":               {"timeout=5"},
			"Te":                       {"trailers"},
			"Trailer":                  {"X-T"},
			"Transfer-Encoding":        {"chunked"},
			"Proxy-Authorization":      {"Basic x"},
			"X-Hop":                    {"named by Connection"},
			"Sec-Websocket-Key":        {"dGhlIHNhbXBsZSBub25jZQ=="},
			"Sec-Websocket-Version":    {"13"},
			"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"},
			"Sec-Websocket-Protocol":   {"chat"},
			"User-Agent":               {"ua"},
		}}
	e.stage = &stageState{stage: &compile.Stage{Name: "dev"}}
	want := slices.Sorted(slices.Values([]string{"Connection", "Host", "Sec-WebSocket-Extensions", "Sec-WebSocket-Key",
		"Sec-WebSocket-Protocol", "Sec-WebSocket-Version", "Upgrade", "User-Agent", "X-Forwarded-For", "X-Forwarded-Port",
		"X-Forwarded-Proto"}))
	proxy, err := e.proxyEventJSON()
	if err != nil {
		t.Fatal(err)
	}
	auth, err := e.authorizerEventJSON("arn:aws:execute-api:us-east-1:123456789012:api/dev/$connect")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		event []byte
	}{
		{"$connect event", proxy},
		{"authorizer event", auth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ev struct {
				Headers           map[string]string   `json:"headers"`
				MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
			}
			if err := json.Unmarshal(tc.event, &ev); err != nil {
				t.Fatal(err)
			}
			single, multi := ev.Headers, ev.MultiValueHeaders
			got := slices.Sorted(maps.Keys(single))
			if !slices.Equal(got, want) {
				t.Errorf("headers %v\nwant    %v", got, want)
			}
			if gotMulti := slices.Sorted(maps.Keys(multi)); !slices.Equal(gotMulti, want) {
				t.Errorf("multiValueHeaders %v\nwant              %v", gotMulti, want)
			}
		})
	}
}

// An error of the Invoker names the function once: the local runner's
// errors already start with "function ID:", a function's own error does not.
func TestRunnerCallerErrors(t *testing.T) {
	fn := &compile.Function{LogicalID: "EchoFn", Name: "EchoFn", Runtime: "nodejs20.x", Handler: "index.handler",
		CodeDir: filepath.Join(t.TempDir(), "missing")}
	runner := lambda.NewRunner(lambda.Options{})
	t.Cleanup(func() { runner.Close() })
	for _, tc := range []struct {
		name string
		inv  Invoker
		want string // the error message's start
		is   error
	}{
		{"runner error", runner, "function EchoFn: function cannot run locally", lambda.ErrNotRunnable},
		{"prefixed", newFakeLambda(func(*compile.Function, []byte) ([]byte, error) {
			return nil, fmt.Errorf("function EchoFn: %w after 3.00 seconds", lambda.ErrTimeout)
		}), "function EchoFn: task timed out after", lambda.ErrTimeout},
		{"function error", newFakeLambda(func(*compile.Function, []byte) ([]byte, error) {
			return nil, &lambda.FunctionError{Type: "Error", Message: "boom"}
		}), "function EchoFn: Error: boom", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := &lambdaHost{}
			host.inv.Store(&invokerBox{tc.inv})
			_, err := (&runnerCaller{host: host, fn: fn}).invoke(context.Background(), []byte(`{}`))
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tc.want) || strings.Count(msg, "EchoFn") != 1 {
				t.Errorf("error %q, want it to start with %q and name EchoFn once", msg, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
}
