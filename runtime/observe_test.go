package runtime

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
)

// chanHandler hands every log record to a channel.
type chanHandler struct{ ch chan slog.Record }

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	h.ch <- r.Clone()
	return nil
}
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h chanHandler) WithGroup(string) slog.Handler      { return h }

// nextRecord returns the next log record whose message starts with prefix.
func nextRecord(t *testing.T, ch chan slog.Record, prefix string) map[string]string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case r := <-ch:
			if !strings.HasPrefix(r.Message, prefix) {
				continue
			}
			attrs := map[string]string{"msg": r.Message}
			r.Attrs(func(a slog.Attr) bool {
				attrs[a.Key] = a.Value.String()
				return true
			})
			return attrs
		case <-deadline:
			t.Fatalf("no %q log line", prefix)
			return nil
		}
	}
}

// SPEC: with body logging, a message's line shows the body, the
// integration request as sent and its response, each cut with its size.
func TestLogBodies(t *testing.T) {
	be := newBackend(t, echo)
	p := testPlan(actionSel, twoWay(route("echo", httpInteg("Echo", be.URL+"/e"))))
	logs := chanHandler{make(chan slog.Record, 100)}
	g := startGateway(t, p, func(o *Options) {
		o.Logger = slog.New(logs)
		o.LogBodies = 28 // falls inside the second é: the cut backs up to a whole rune
	})
	ws := dial(t, g, "/dev")
	msg := `{"action":"echo","text":"` + strings.Repeat("é", 30) + `"}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != msg {
		t.Fatalf("echo: %q %v", got, err)
	}
	a := nextRecord(t, logs.ch, "message")
	cut := `{"action":"echo","text":"é… (` // 27 bytes, then the size
	if a["body"] != cut+"87 bytes)" {
		t.Errorf("body=%q", a["body"])
	}
	if want := "POST " + be.URL + "/e " + cut + "87 bytes)"; a["integration_request"] != want {
		t.Errorf("integration_request=%q, want %q", a["integration_request"], want)
	}
	if want := "200 " + cut + "87 bytes)"; a["integration_response"] != want {
		t.Errorf("integration_response=%q, want %q", a["integration_response"], want)
	}

	// Without body logging, none of it.
	g2 := startGateway(t, p, func(o *Options) { o.Logger = slog.New(logs) })
	ws2 := dial(t, g2, "/dev")
	_ = ws2.WriteMessage(websocket.TextMessage, []byte(msg))
	_, _, _ = ws2.ReadMessage()
	a = nextRecord(t, logs.ch, "message")
	for _, k := range []string{"body", "integration_request", "integration_response"} {
		if _, ok := a[k]; ok {
			t.Errorf("%s logged without body logging", k)
		}
	}
}

// SPEC: a message no route takes logs that no route matched and the
// key the selection expression produced, and names no route (issue 13).
func TestNoRouteLog(t *testing.T) {
	p := testPlan(actionSel, route("echo", httpInteg("Echo", "http://127.0.0.1:1/")))
	p.Apis[0].RouteSelectionExpression = "$request.body.action"
	logs := chanHandler{make(chan slog.Record, 100)}
	g := startGateway(t, p, func(o *Options) { o.Logger = slog.New(logs) })
	ws := dial(t, g, "/dev")
	for _, tc := range []struct{ msg, key, why string }{
		{`{"action":"sendMesage"}`, "sendMesage", `no route "sendMesage" and no $default route`},
		{`{"type":"x"}`, "", `no route "" and no $default route`},
		{`not json`, "", "message is not JSON and there is no $default route"},
	} {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(tc.msg))
		_, _, _ = ws.ReadMessage()
		a := nextRecord(t, logs.ch, "message")
		if _, ok := a["route"]; ok {
			t.Errorf("%s: log line %v names a route", tc.msg, a)
		}
		if a["msg"] != "message: no route matched" || a["key"] != tc.key || a["expression"] != "$request.body.action" || a["error"] != tc.why || a["status"] != "403" {
			t.Errorf("%s: log line %v", tc.msg, a)
		}
	}
}

// eventSink is an Observer that hands every event to a channel.
type eventSink struct{ ch chan Event }

func (r eventSink) Observe(ev Event) { r.ch <- ev }

// SPEC: the observer sees a refused handshake, and the close the
// gateway starts is marked as the gateway's.
func TestObserverRefusedAndClosed(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Header.Get("X-Deny") == "1" {
			w.WriteHeader(http.StatusForbidden)
		}
	})
	p := testPlan(actionSel, route("$connect", httpInteg("Connect", be.URL,
		header("X-Deny", compile.Source{Kind: compile.SourceQueryString, Name: "deny", Expr: "route.request.querystring.deny"}))))
	rec := eventSink{make(chan Event, 100)}
	g := startGateway(t, p, func(o *Options) { o.Observer = rec })
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev?deny=1", nil); err == nil || resp.StatusCode != 403 {
		t.Fatalf("want 403, got %v", err)
	}
	var kinds []string
	for ev := range rec.ch {
		kinds = append(kinds, string(ev.Kind))
		if ev.Kind == KindConnected {
			if ev.Status != 403 {
				t.Errorf("connected status %d, want 403", ev.Status)
			}
			break
		}
	}
	if got := strings.Join(kinds, " "); got != "connect integration.request integration.response connected" {
		t.Errorf("refused handshake: %s", got)
	}

	ws := dial(t, g, "/dev")
	for ev := range rec.ch {
		if ev.Kind == KindConnected {
			break
		}
	}
	g.Swap(testPlan(actionSel)) // still has the stage: nothing closes
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var id string
	for _, c := range g.Connections() {
		id = c.ID
	}
	if err := g.Disconnect(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, _, _ = ws.ReadMessage()
	for ev := range rec.ch {
		if ev.Kind == KindDisconnect {
			if ev.By != "gateway" || ev.Code != 1000 || ev.ConnectionID != id {
				t.Errorf("disconnect: %+v", ev)
			}
			break
		}
	}
}

// SPEC: for a Lambda integration the observer sees the event the
// function got and what it answered.
func TestObserverLambda(t *testing.T) {
	fake := newFakeLambda(func(_ *compile.Function, payload []byte) ([]byte, error) {
		return []byte(`{"statusCode":200,"body":"from the function"}`), nil
	})
	rec := eventSink{make(chan Event, 100)}
	g := startGateway(t, lambdaTestPlan(), func(o *Options) { o.Lambda = fake; o.Observer = rec })
	ws := dial(t, g, "/dev")
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"echo"}`)); err != nil {
		t.Fatal(err)
	}
	if _, b, err := ws.ReadMessage(); err != nil || string(b) != "from the function" {
		t.Fatalf("echo: %q %v", b, err)
	}
	var req, resp *Event
	for ev := range rec.ch {
		if ev.Route != "echo" {
			continue
		}
		switch ev.Kind {
		case KindIntegrationRequest:
			req = &ev
		case KindIntegrationResponse:
			resp = &ev
		}
		if resp != nil {
			break
		}
	}
	if req == nil || req.Method != "Invoke" || req.URL != "function Fn" || !strings.Contains(string(req.Body), `"routeKey":"echo"`) || req.Integration != "EchoInteg" {
		t.Errorf("request: %+v", req)
	}
	if resp.Status != 200 || string(resp.Body) != `{"statusCode":200,"body":"from the function"}` {
		t.Errorf("response: %+v", resp)
	}
}

// SPEC: a $connect authorizer's call is in the timeline, and its
// principal and context describe the connection.
func TestObserverAuthorizer(t *testing.T) {
	fake := newFakeLambda(func(fn *compile.Function, payload []byte) ([]byte, error) {
		if fn.LogicalID == "Auth" {
			return []byte(policy("Allow", testMethodArn, `,"context":{"tenant":"acme"}`)), nil
		}
		return []byte(`{"statusCode":200}`), nil
	})
	rec := eventSink{make(chan Event, 100)}
	g := startGateway(t, authPlan("http://127.0.0.1:1"), func(o *Options) { o.Lambda = fake; o.Observer = rec })
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev?token=t", http.Header{"Auth": {"a"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var seen []string
	for ev := range rec.ch {
		seen = append(seen, string(ev.Kind)+":"+ev.Integration)
		if ev.Kind == KindIntegrationRequest && ev.Integration == "Authorizer" && !strings.Contains(string(ev.Body), `"methodArn"`) {
			t.Errorf("authorizer request body: %s", ev.Body)
		}
		if ev.Kind == KindConnected {
			break
		}
	}
	want := "connect: integration.request:Authorizer integration.response:Authorizer integration.request:ConnectInteg integration.response:ConnectInteg connected:ConnectInteg"
	if got := strings.Join(seen, " "); got != want {
		t.Errorf("handshake events:\n got %s\nwant %s", got, want)
	}
	conns := g.Connections()
	if len(conns) != 1 || conns[0].Authorizer["principalId"] != "user-7" || conns[0].Authorizer["tenant"] != "acme" || conns[0].Api != "ChatApi" {
		t.Errorf("connections: %+v", conns)
	}
}
