package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
)

// SPEC: the handshake waits for $connect; 2xx accepts, another status
// refuses with that status, an integration error is 502, no route accepts.
func TestConnect(t *testing.T) {
	slow := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	tests := []struct {
		name   string
		integ  func(t *testing.T) *compile.Integration // nil: no $connect route
		status int                                     // 0: accepted
	}{
		{name: "no route accepts"},
		{name: "200 accepts", integ: func(t *testing.T) *compile.Integration { return httpInteg("Connect", newBackend(t, nil).URL) }},
		{name: "204 accepts", integ: func(t *testing.T) *compile.Integration {
			return httpInteg("Connect", newBackend(t, status(204)).URL)
		}},
		{name: "403 refuses with 403", status: 403, integ: func(t *testing.T) *compile.Integration {
			return httpInteg("Connect", newBackend(t, status(403)).URL)
		}},
		{name: "401 refuses with 401", status: 401, integ: func(t *testing.T) *compile.Integration {
			return httpInteg("Connect", newBackend(t, status(401)).URL)
		}},
		{name: "500 refuses with 500", status: 500, integ: func(t *testing.T) *compile.Integration {
			return httpInteg("Connect", newBackend(t, status(500)).URL)
		}},
		{name: "redirect is not followed", status: 302, integ: func(t *testing.T) *compile.Integration {
			return httpInteg("Connect", newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			}).URL)
		}},
		{name: "unreachable is 502", status: 502, integ: func(t *testing.T) *compile.Integration {
			return httpInteg("Connect", closedURL(t))
		}},
		{name: "timeout is 502", status: 502, integ: func(t *testing.T) *compile.Integration {
			in := httpInteg("Connect", slow.URL)
			in.TimeoutMillis = 100
			return in
		}},
		{name: "not runnable is 502", status: 502, integ: func(t *testing.T) *compile.Integration {
			return &compile.Integration{LogicalID: "Connect", Type: "AWS_PROXY", NotRunnable: "Lambda integrations are not supported yet"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var routes []*compile.Route
			if tc.integ != nil {
				routes = append(routes, route("$connect", tc.integ(t)))
			}
			g := startGateway(t, testPlan(actionSel, routes...), nil)
			ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				ws.Close()
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("want the handshake refused, it was accepted")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("want status %d, got %v (%v)", tc.status, resp, err)
			}
		})
	}
}

// closedURL returns the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	b := newBackend(t, nil)
	u := b.URL
	b.Close()
	return u
}

// SPEC: ids are 15 letters and digits and "=", unique.
func TestConnectionIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := newID()
		if !idPattern.MatchString(id) {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

// SPEC, §6: a message is routed by the combined selection
// expression, and the backend receives the method, path, body, JSON content
// type, and every mapped header and query string.
func TestRouteAndMapping(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	connect := newBackend(t, nil)
	steps := []compile.Step{
		header("X-Connection-Id", ctxVar("connectionId")),
		header("X-Route", ctxVar("routeKey")),
		header("X-Event", ctxVar("eventType")),
		header("X-Stage", ctxVar("stage")),
		header("X-Api", ctxVar("apiId")),
		header("X-Domain", ctxVar("domainName")),
		header("X-Request-Time", ctxVar("requestTime")),
		header("X-Epoch", ctxVar("requestTimeEpoch")),
		header("X-Connected-At", ctxVar("connectedAt")),
		header("X-Request-Id", ctxVar("requestId")),
		header("X-Extended", ctxVar("extendedRequestId")),
		header("X-Message-Id", ctxVar("messageId")),
		header("X-Source-Ip", ctxVar("identity.sourceIp")),
		header("X-User", compile.Source{Kind: compile.SourceBody, Path: []string{"user", "name"}, Expr: "route.request.body.user.name"}),
		header("X-Count", compile.Source{Kind: compile.SourceBody, Path: []string{"count"}, Expr: "route.request.body.count"}),
		header("X-Missing", compile.Source{Kind: compile.SourceBody, Path: []string{"nope"}, Expr: "route.request.body.nope"}),
		header("X-Static", compile.Source{Kind: compile.SourceLiteral, Literal: "static value", Expr: "'static value'"}),
		header("X-Principal", ctxVar("authorizer.principalId")),
		query("connection", ctxVar("connectionId")),
		query("action", compile.Source{Kind: compile.SourceBody, Path: []string{"action"}, Expr: "route.request.body.action"}),
		query("v", compile.Source{Kind: compile.SourceLiteral, Literal: "2", Expr: "'2'"}),
	}
	in := httpInteg("ChatInteg", b.URL+"/chat/send?fixed=1", steps...)
	in.Method = "PUT"
	p := testPlan([]compile.SelectionPart{bodyPath("service"), text("/"), bodyPath("action")},
		route("$connect", httpInteg("ConnectInteg", connect.URL, header("X-Connection-Id", ctxVar("connectionId")))),
		twoWay(route("chat/send", in)),
	)
	g := startGateway(t, p, nil)
	before := time.Now()
	ws := dial(t, g, "/dev")
	connID := connect.next(t).Header.Get("X-Connection-Id")
	if !idPattern.MatchString(connID) {
		t.Fatalf("connection id %q", connID)
	}

	msg := `{"service":"chat","action":"send","user":{"name":"ana"},"count":1.50}`
	send(t, ws, msg)
	got := b.next(t)
	if got := recv(t, ws); got != `{"ok":true}` {
		t.Errorf("client got %q, want the backend's answer", got)
	}
	if got.Method != "PUT" || got.Path != "/chat/send" || got.Body != msg {
		t.Errorf("backend got %s %s %q", got.Method, got.Path, got.Body)
	}
	h := got.Header
	epoch, _ := strconv.ParseInt(h.Get("X-Epoch"), 10, 64)
	reqTime, err := time.Parse(requestTimeLayout, h.Get("X-Request-Time"))
	if err != nil || reqTime.Unix() != epoch/1000 {
		t.Errorf("requestTime %q, requestTimeEpoch %q", h.Get("X-Request-Time"), h.Get("X-Epoch"))
	}
	if epoch < before.UnixMilli() || epoch > time.Now().UnixMilli() {
		t.Errorf("requestTimeEpoch %d is not now", epoch)
	}
	connectedAt, _ := strconv.ParseInt(h.Get("X-Connected-At"), 10, 64)
	if connectedAt < before.UnixMilli() || connectedAt > epoch {
		t.Errorf("connectedAt %d", connectedAt)
	}
	want := map[string]string{
		"Content-Type":    "application/json",
		"X-Connection-Id": connID,
		"X-Route":         "chat/send",
		"X-Event":         "MESSAGE",
		"X-Stage":         "dev",
		"X-Api":           "abcde12345",
		"X-Domain":        g.Addrs()[0],
		"X-User":          "ana",
		"X-Count":         "1.50", // numbers keep their JSON text
		"X-Static":        "static value",
		"X-Source-Ip":     "127.0.0.1",
		"User-Agent":      "AmazonAPIGateway_abcde12345",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if id := h.Get("X-Request-Id"); !idPattern.MatchString(id) || h.Get("X-Extended") != id {
		t.Errorf("requestId %q, extendedRequestId %q", id, h.Get("X-Extended"))
	}
	if id := h.Get("X-Message-Id"); !idPattern.MatchString(id) {
		t.Errorf("messageId %q", id)
	}
	for _, k := range []string{"X-Missing", "X-Principal"} { // SPEC
		if _, ok := h[k]; ok {
			t.Errorf("header %s present (%q), want left out", k, h.Get(k))
		}
	}
	wantQuery := map[string]string{"connection": connID, "action": "send", "v": "2", "fixed": "1"}
	for k, v := range wantQuery {
		if got := got.Query[k]; len(got) != 1 || got[0] != v {
			t.Errorf("query %s = %q, want %q", k, got, v)
		}
	}
}

// SPEC: what goes to $default.
func TestDefaultRoute(t *testing.T) {
	def := newBackend(t, func(w http.ResponseWriter, _ *http.Request, body []byte) {
		fmt.Fprintf(w, "default:%s", body)
	})
	other := newBackend(t, echo)
	p := testPlan(actionSel,
		twoWay(route("$default", httpInteg("Default", def.URL))),
		twoWay(route("send", httpInteg("Send", other.URL))),
		twoWay(route("42", httpInteg("Number", other.URL))),
		twoWay(route("[a, 1]", httpInteg("Array", other.URL))),
		route("$disconnect", httpInteg("Disconnect", other.URL)),
	)
	g := startGateway(t, p, func(o *Options) { o.AllowBinary = true }) // --allow-binary
	ws := dial(t, g, "/dev")
	tests := []struct{ name, msg, want string }{
		{"matching key", `{"action":"send"}`, `{"action":"send"}`},
		{"number key keeps its text", `{"action":42}`, `{"action":42}`},
		{"array key", `{"action":["a",1]}`, `{"action":["a",1]}`},
		{"not JSON", `hello`, `default:hello`},
		{"JSON with trailing data", `{"action":"send"} x`, `default:{"action":"send"} x`},
		{"unknown key", `{"action":"nope"}`, `default:{"action":"nope"}`},
		{"missing path", `{"other":"send"}`, `default:{"other":"send"}`},
		{"$disconnect key", `{"action":"$disconnect"}`, `default:{"action":"$disconnect"}`},
		{"$connect key", `{"action":"$connect"}`, `default:{"action":"$connect"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			send(t, ws, tc.msg)
			if got := recv(t, ws); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("binary frame with AllowBinary", func(t *testing.T) { // SPEC
		bin := []byte{0, 1, 2, 0xff, '{'}
		if err := ws.WriteMessage(websocket.BinaryMessage, bin); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, ws); got != "default:"+string(bin) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("one-way routes send nothing", func(t *testing.T) {
		oneWay := testPlan(actionSel, route("$default", httpInteg("Default", def.URL)))
		g := startGateway(t, oneWay, nil)
		ws := dial(t, g, "/dev")
		send(t, ws, "hi")
		noMessage(t, ws, 300*time.Millisecond)
	})
}

// SPEC: no route and no $default: the Forbidden frame, byte for byte,
// and the connection stays open.
func TestForbidden(t *testing.T) {
	b := newBackend(t, echo)
	connect := newBackend(t, nil)
	p := testPlan(actionSel,
		route("$connect", httpInteg("Connect", connect.URL, header("X-Id", ctxVar("connectionId")))),
		twoWay(route("send", httpInteg("Send", b.URL))))
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev")
	connID := connect.next(t).Header.Get("X-Id")
	for _, msg := range []string{`{"action":"nope"}`, "not json"} {
		send(t, ws, msg)
		got := recv(t, ws)
		m := errorFrameRE("Forbidden").FindStringSubmatch(got)
		if m == nil || m[1] != connID {
			t.Fatalf("got %q, want the Forbidden frame for %s", got, connID)
		}
		if want := `{"message": "Forbidden", "connectionId":"` + connID + `", "requestId":"` + m[2] + `"}`; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	send(t, ws, `{"action":"send"}`) // still open
	if got := recv(t, ws); got != `{"action":"send"}` {
		t.Errorf("got %q", got)
	}
}

// SPEC: integration errors answer the Internal server error
// frame (a timeout: Endpoint request timed out, TestIntegrationTimeout) and
// the connection stays open.
func TestInternalServerError(t *testing.T) {
	slow := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	big := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		_, _ = w.Write(make([]byte, 200<<10))
	})
	ok := newBackend(t, echo)
	connect := newBackend(t, nil)
	timeout := httpInteg("Slow", slow.URL)
	timeout.TimeoutMillis = 100
	p := testPlan(actionSel,
		route("$connect", httpInteg("Connect", connect.URL, header("X-Id", ctxVar("connectionId")))),
		route("unreachable", httpInteg("Gone", closedURL(t))),
		route("timeout", timeout),
		route("lambda", &compile.Integration{LogicalID: "Fn", Type: "AWS_PROXY", NotRunnable: "Lambda integrations are not supported yet"}),
		route("none", nil),
		twoWay(route("big", httpInteg("Big", big.URL))),
		twoWay(route("ok", httpInteg("Ok", ok.URL))),
	)
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev")
	connID := connect.next(t).Header.Get("X-Id")
	for _, action := range []string{"unreachable", "timeout", "lambda", "none", "big"} {
		t.Run(action, func(t *testing.T) {
			send(t, ws, `{"action":"`+action+`"}`)
			got := recv(t, ws)
			msg := "Internal server error"
			if action == "timeout" {
				msg = "Endpoint request timed out"
			}
			m := errorFrameRE(msg).FindStringSubmatch(got)
			if m == nil || m[1] != connID {
				t.Fatalf("got %q, want the %s frame for %s", got, msg, connID)
			}
			if want := `{"message": "` + msg + `", "connectionId":"` + connID + `", "requestId":"` + m[2] + `"}`; got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
			send(t, ws, `{"action":"ok"}`)
			if got := recv(t, ws); got != `{"action":"ok"}` {
				t.Fatalf("connection not usable after the error: got %q", got)
			}
		})
	}
}

// SPEC: a two-way route sends the body whatever the status; nothing
// when it is empty.
func TestTwoWayStatus(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if string(body) == `{"action":"empty"}` {
			return
		}
		w.WriteHeader(404)
		_, _ = w.Write([]byte("not found"))
	})
	p := testPlan(actionSel, twoWay(route("$default", httpInteg("Default", b.URL))))
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev")
	send(t, ws, `{"action":"empty"}`)
	send(t, ws, `{"action":"x"}`)
	if got := recv(t, ws); got != "not found" {
		t.Errorf("got %q", got)
	}
}

// SPEC: $connect and $disconnect have empty bodies and apply the
// mapping, including the $connect request's headers and query strings.
func TestConnectDisconnectMapping(t *testing.T) {
	connect := newBackend(t, nil)
	disc := newBackend(t, nil)
	p := testPlan(actionSel,
		route("$connect", httpInteg("Connect", connect.URL,
			header("X-Token", compile.Source{Kind: compile.SourceQueryString, Name: "token", Expr: "route.request.querystring.token"}),
			header("X-Auth", compile.Source{Kind: compile.SourceHeader, Name: "Authorization", Expr: "route.request.header.Authorization"}),
			header("X-Multi", compile.Source{Kind: compile.SourceMultiValueHeader, Name: "X-Tag", Expr: "route.request.multivalueheader.X-Tag"}),
			header("X-Event", ctxVar("eventType")),
			header("X-Id", ctxVar("connectionId")),
			query("tok", compile.Source{Kind: compile.SourceQueryString, Name: "token", Expr: "route.request.querystring.token"}),
			query("missing", compile.Source{Kind: compile.SourceQueryString, Name: "nope", Expr: "route.request.querystring.nope"}),
		)),
		route("$disconnect", httpInteg("Disconnect", disc.URL,
			header("X-Event", ctxVar("eventType")),
			header("X-Id", ctxVar("connectionId")),
			header("X-Route", ctxVar("routeKey")))),
	)
	g := startGateway(t, p, nil)
	h := http.Header{}
	h.Set("Authorization", "Bearer abc")
	h.Add("X-Tag", "a")
	h.Add("X-Tag", "b")
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev?token=t0k", h)
	if err != nil {
		t.Fatal(err)
	}
	c := connect.next(t)
	if c.Body != "" || c.Header.Get("Content-Type") != "" {
		t.Errorf("$connect body %q, content type %q", c.Body, c.Header.Get("Content-Type"))
	}
	for k, v := range map[string]string{"X-Token": "t0k", "X-Auth": "Bearer abc", "X-Multi": "a,b", "X-Event": "CONNECT"} {
		if c.Header.Get(k) != v {
			t.Errorf("$connect header %s = %q, want %q", k, c.Header.Get(k), v)
		}
	}
	if c.Query["tok"][0] != "t0k" || c.Query["missing"] != nil {
		t.Errorf("$connect query %v", c.Query)
	}
	id := c.Header.Get("X-Id")
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "bye"))
	ws.Close()
	d := disc.next(t)
	if d.Body != "" || d.Header.Get("X-Event") != "DISCONNECT" || d.Header.Get("X-Id") != id || d.Header.Get("X-Route") != "$disconnect" {
		t.Errorf("$disconnect got body %q, headers %v", d.Body, d.Header)
	}
	disc.none(t, 200*time.Millisecond) // at most once
}

// SPEC: $disconnect runs once whoever closes, including a lost TCP
// connection.
func TestDisconnect(t *testing.T) {
	disc := newBackend(t, nil)
	p := testPlan(actionSel, route("$disconnect", httpInteg("Disconnect", disc.URL, header("X-Code", ctxVar("disconnectStatusCode")))))
	g := startGateway(t, p, nil)
	t.Run("client close frame", func(t *testing.T) {
		ws := dial(t, g, "/dev")
		_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
		if ce := recvClose(t, ws); ce.Code != 1000 {
			t.Errorf("close code %d (%q), want the client's 1000 echoed", ce.Code, ce.Text)
		}
		if got := disc.next(t).Header.Get("X-Code"); got != "1000" {
			t.Errorf("$disconnect got disconnectStatusCode %q, want 1000", got)
		}
		disc.none(t, 100*time.Millisecond)
	})
	t.Run("tcp dropped", func(t *testing.T) {
		ws := dial(t, g, "/dev")
		ws.NetConn().Close()
		if got := disc.next(t).Header.Get("X-Code"); got != "1006" {
			t.Errorf("$disconnect got disconnectStatusCode %q, want 1006", got)
		}
		disc.none(t, 100*time.Millisecond)
	})
}

// SPEC: 1009 for a message over 128 KB and for a frame over 32 KB.
func TestSizeLimits(t *testing.T) {
	b := newBackend(t, echo)
	tests := []struct {
		name      string
		size      int
		frameSize int // the client's write buffer: frames of at most this size
		opt       func(*Options)
		close     int // 0: delivered
	}{
		{name: "140 KB message in 4 KB frames", size: 140 << 10, frameSize: 4 << 10, close: 1009},
		{name: "40 KB in one frame", size: 40 << 10, frameSize: 64 << 10, close: 1009},
		{name: "100 KB message in 4 KB frames", size: 100 << 10, frameSize: 4 << 10},
		{name: "32 KB in one frame", size: 32 << 10, frameSize: 64 << 10},
		{name: "frame limit off", size: 40 << 10, frameSize: 64 << 10, opt: func(o *Options) { o.MaxFrameBytes = 0 }},
		{name: "both limits off", size: 200 << 10, frameSize: 256 << 10, opt: func(o *Options) {
			o.MaxFrameBytes, o.MaxMessageBytes, o.MaxResponseBytes = 0, 0, 0
		}},
		{name: "smaller message limit", size: 2 << 10, frameSize: 4 << 10, close: 1009, opt: func(o *Options) { o.MaxMessageBytes = 1 << 10 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			disc := newBackend(t, nil)
			p := testPlan(actionSel, twoWay(route("$default", httpInteg("Default", b.URL))),
				route("$disconnect", httpInteg("Disconnect", disc.URL, header("X-Code", ctxVar("disconnectStatusCode")))))
			g := startGateway(t, p, tc.opt)
			d := websocket.Dialer{WriteBufferSize: tc.frameSize}
			ws, _, err := d.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			// A message before the large one is still handled.
			send(t, ws, "first")
			msg := strings.Repeat("x", tc.size)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, ws); got != "first" {
				t.Fatalf("got %.20q, want first", got)
			}
			if tc.close == 0 {
				if got := recv(t, ws); got != msg {
					t.Fatalf("got %d bytes back, want %d", len(got), len(msg))
				}
				return
			}
			ce := recvClose(t, ws)
			if ce.Code != tc.close {
				t.Errorf("close code %d (%q), want %d", ce.Code, ce.Text, tc.close)
			}
			if got := disc.next(t).Header.Get("X-Code"); got != strconv.Itoa(tc.close) {
				t.Errorf("$disconnect got disconnectStatusCode %q", got)
			}
		})
	}
}

// SPEC: idle and maximum duration close with 1001 "Going away".
// Nothing here is timed: each case waits for the close (or, while active,
// for the answer to each frame before the next), and the read deadlines are
// only guards that turn a close that never comes into a failure.
func TestTimeLimits(t *testing.T) {
	p := testPlan(actionSel)
	t.Run("idle", func(t *testing.T) {
		g := startGateway(t, p, func(o *Options) { o.IdleTimeout = 200 * time.Millisecond })
		ws := dial(t, g, "/dev")
		if ce := recvClose(t, ws); ce.Code != 1001 || ce.Text != "Going away" {
			t.Errorf("close %d %q, want 1001 Going away", ce.Code, ce.Text)
		}
	})
	t.Run("max duration, activity does not extend it", func(t *testing.T) {
		g := startGateway(t, p, func(o *Options) { o.MaxConnDuration = 300 * time.Millisecond })
		ws := dial(t, g, "/dev")
		// A message, its answer, the next, without pause, until the close:
		// had activity extended the maximum duration, no close would come.
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_ = ws.WriteMessage(websocket.TextMessage, []byte("x")) // once closing it fails; the read says why
			_, _, err := ws.ReadMessage()
			if err == nil {
				continue
			}
			ce, ok := err.(*websocket.CloseError)
			if !ok {
				t.Fatalf("want a close frame, got %v", err)
			}
			if ce.Code != 1001 || ce.Text != "Going away" {
				t.Errorf("close %d %q, want 1001 Going away", ce.Code, ce.Text)
			}
			break
		}
	})
	t.Run("activity keeps an idle connection open", func(t *testing.T) {
		const idle = 300 * time.Millisecond
		g := startGateway(t, p, func(o *Options) { o.IdleTimeout = idle })
		ws := dial(t, g, "/dev")
		pongs := make(chan struct{}, 1)
		ws.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
		msgs, ended := make(chan string, 1), make(chan error, 1)
		go func() {
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					ended <- err
					return
				}
				msgs <- string(data)
			}
		}()
		// Pings only, each sent once the pong to the one before came
		// back, for three idle timeouts.
		for start := time.Now(); time.Since(start) < 3*idle; {
			if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-pongs:
			case err := <-ended:
				t.Fatalf("closed while pinging: %v", err)
			case <-time.After(5 * time.Second):
				t.Fatal("no pong")
			}
		}
		send(t, ws, "still here") // Forbidden frame: no route
		select {
		case got := <-msgs:
			if !strings.Contains(got, "Forbidden") {
				t.Errorf("got %q", got)
			}
		case err := <-ended:
			t.Fatalf("closed after pinging: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("no answer")
		}
	})
}

// SPEC: throttled messages get Too Many Requests, the connection stays open.
func TestThrottling(t *testing.T) {
	b := newBackend(t, echo)
	limited := twoWay(route("limited", httpInteg("Limited", b.URL)))
	limited.Throttle = &compile.Throttle{Rate: 0.001, Burst: 2}
	p := testPlan(actionSel, limited, twoWay(route("free", httpInteg("Free", b.URL))))
	t.Run("on", func(t *testing.T) {
		g := startGateway(t, p, nil)
		ws := dial(t, g, "/dev")
		for i := range 2 {
			send(t, ws, `{"action":"limited"}`)
			if got := recv(t, ws); got != `{"action":"limited"}` {
				t.Fatalf("message %d: got %q", i, got)
			}
		}
		send(t, ws, `{"action":"limited"}`)
		if got := recv(t, ws); !errorFrameRE("Too Many Requests").MatchString(got) {
			t.Fatalf("got %q, want Too Many Requests", got)
		}
		send(t, ws, `{"action":"free"}`)
		if got := recv(t, ws); got != `{"action":"free"}` {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("stage throttle", func(t *testing.T) {
		sp := testPlan(actionSel, twoWay(route("$default", httpInteg("D", b.URL))))
		sp.Apis[0].Stages[0].Throttle = &compile.Throttle{Rate: 0, Burst: 0}
		g := startGateway(t, sp, nil)
		ws := dial(t, g, "/dev")
		send(t, ws, "x")
		if got := recv(t, ws); !errorFrameRE("Too Many Requests").MatchString(got) {
			t.Fatalf("got %q, want Too Many Requests", got)
		}
	})
	t.Run("off", func(t *testing.T) {
		g := startGateway(t, p, func(o *Options) { o.Throttling = false })
		ws := dial(t, g, "/dev")
		for range 5 {
			send(t, ws, `{"action":"limited"}`)
			if got := recv(t, ws); got != `{"action":"limited"}` {
				t.Fatalf("got %q", got)
			}
		}
	})
}

// SPEC: a slow backend on one connection never delays another.
func TestSlowBackendIsolation(t *testing.T) {
	release := make(chan struct{})
	slow := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		<-release
		_, _ = w.Write([]byte("slow done"))
	})
	fast := newBackend(t, echo)
	p := testPlan(actionSel, twoWay(route("slow", httpInteg("Slow", slow.URL))), twoWay(route("fast", httpInteg("Fast", fast.URL))))
	g := startGateway(t, p, nil)
	a := dial(t, g, "/dev")
	b := dial(t, g, "/dev")
	send(t, a, `{"action":"slow"}`)
	slow.next(t) // a's backend call is now blocked
	for i := range 20 {
		msg := fmt.Sprintf(`{"action":"fast","i":%d}`, i)
		send(t, b, msg)
		if got := recv(t, b); got != msg {
			t.Fatalf("got %q, want %q", got, msg)
		}
	}
	close(release)
	if got := recv(t, a); got != "slow done" {
		t.Fatalf("got %q", got)
	}
}

// SPEC: messages are handled in order, and frames (route responses
// and @connections posts) leave in the order they were accepted.
func TestOrdering(t *testing.T) {
	var gw *Gateway
	var mu sync.Mutex
	var handled []string
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		handled = append(handled, string(body))
		mu.Unlock()
		// Post before answering: the post must reach the client first.
		url := "http://" + gw.Addrs()[0] + "/dev/@connections/" + r.Header.Get("X-Id")
		resp, err := http.Post(url, "application/octet-stream", strings.NewReader("post "+string(body)))
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("post: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		_, _ = w.Write([]byte("resp " + string(body)))
	})
	p := testPlan(actionSel, twoWay(route("$default", httpInteg("D", b.URL, header("X-Id", ctxVar("connectionId"))))))
	gw = startGateway(t, p, nil)
	ws := dial(t, gw, "/dev")
	const n = 50
	go func() {
		for i := range n {
			_ = ws.WriteMessage(websocket.TextMessage, []byte(strconv.Itoa(i)))
		}
	}()
	for i := range n {
		if got, want := recv(t, ws), "post "+strconv.Itoa(i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
		if got, want := recv(t, ws), "resp "+strconv.Itoa(i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, h := range handled {
		if h != strconv.Itoa(i) {
			t.Fatalf("handled %v", handled)
		}
	}
}

// A client that does not read cannot make the gateway buffer without
// bound: past the send queue, the connection is closed with 1008.
func TestSlowConsumer(t *testing.T) {
	disc := newBackend(t, nil)
	connect := newBackend(t, nil)
	p := testPlan(actionSel,
		route("$connect", httpInteg("C", connect.URL, header("X-Id", ctxVar("connectionId")))),
		route("$disconnect", httpInteg("D", disc.URL, header("X-Code", ctxVar("disconnectStatusCode")))))
	g := startGateway(t, p, func(o *Options) {
		o.SendQueue = 4
		o.WriteTimeout = 500 * time.Millisecond
	})
	ws := dial(t, g, "/dev") // never reads
	id := connect.next(t).Header.Get("X-Id")
	url := "http://" + g.Addrs()[0] + "/dev/@connections/" + id
	payload := strings.Repeat("x", 100<<10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(url, "text/plain", strings.NewReader(payload))
			if err != nil {
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got := disc.next(t).Header.Get("X-Code"); got != "1008" {
		t.Errorf("disconnectStatusCode %q, want 1008", got)
	}
	if codes[410] == 0 {
		t.Errorf("want some posts answered 410 once the connection closed, got %v", codes)
	}
	t.Logf("post statuses: %v", codes)
	_ = ws
}

// SPEC: stages are served at /<stage>, $default at /; unknown paths are refused.
func TestStagePaths(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		_, _ = w.Write([]byte(r.Header.Get("X-Stage") + " " + r.Header.Get("X-Var")))
	})
	mk := func(name, path, v string) *compile.Stage {
		return &compile.Stage{Name: name, Path: path, Variables: map[string]string{"v": v}, Routes: map[string]*compile.Route{
			"$default": twoWay(route("$default", httpInteg("D", b.URL,
				header("X-Stage", ctxVar("stage")),
				header("X-Var", compile.Source{Kind: compile.SourceStageVariable, Name: "v", Expr: "stageVariables.v"})))),
		}}
	}
	p := testPlan(actionSel)
	p.Apis[0].Stages = []*compile.Stage{mk("dev", "/dev", "1"), mk("$default", "/", "2")}
	g := startGateway(t, p, nil)
	for path, want := range map[string]string{"/dev": "dev 1", "/": "$default 2", "/dev/": "dev 1"} {
		ws := dial(t, g, path)
		send(t, ws, "x")
		if got := recv(t, ws); got != want {
			t.Errorf("%s: got %q, want %q", path, got, want)
		}
	}
	for _, path := range []string{"/prod", "/dev/x"} {
		_, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+path, nil)
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Errorf("%s: want 403, got %v %v", path, resp, err)
		}
	}
	resp, err := http.Get("http://" + g.Addrs()[0] + "/dev")
	if err != nil || resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: %v %v", resp, err)
	}
}

// SPEC: several Apis listen on consecutive ports.
func TestSeveralApis(t *testing.T) {
	p := testPlan(actionSel)
	second := *p.Apis[0]
	second.LogicalID, second.ID = "OtherApi", "zyxwv98765"
	p.Apis = append(p.Apis, &second)
	o := testOptions()
	// Two free consecutive ports. Bases are drawn from 20000-31999, below
	// the ephemeral ranges of Linux (32768-60999), macOS and Windows
	// (49152-65535), where outgoing connections, and their TIME_WAIT
	// remnants, of this and other tests take ports at random; a port there
	// is free unless a server listens on it, so a few tries suffice.
	var g *Gateway
	var errs []error
	for range 50 {
		o.Addr = "127.0.0.1:" + strconv.Itoa(20000+rand.IntN(12000))
		gw, err := New(p, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := gw.Start(); err != nil {
			errs = append(errs, err)
			continue
		}
		g = gw
		break
	}
	if g == nil {
		t.Fatalf("found no two free consecutive ports in 50 tries: %v", errs)
	}
	defer g.Shutdown(context.Background())
	addrs := g.Addrs()
	if len(addrs) != 2 || addrs[0] != o.Addr || addrs[1] != "127.0.0.1:"+strconv.Itoa(mustPort(t, o.Addr)+1) {
		t.Fatalf("addrs %v", addrs)
	}
	eps := g.Endpoints()
	if len(eps) != 2 || eps[1].WebSocketURL != "ws://"+addrs[1]+"/dev" || eps[1].ConnectionsURL != "http://"+addrs[1]+"/dev/@connections" {
		t.Errorf("endpoints %+v", eps)
	}
}

// A plan without a WebSocket Api says what the template lacks.
func TestNewWithoutApi(t *testing.T) {
	_, err := New(&compile.Plan{Source: "t.yaml"}, testOptions())
	if err == nil || !strings.Contains(err.Error(), "the template defines no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET") {
		t.Errorf("got %v", err)
	}
}

func mustPort(t *testing.T, addr string) int {
	i := strings.LastIndexByte(addr, ':')
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Graceful shutdown closes every connection with 1001 and runs $disconnect
// for each.
func TestShutdown(t *testing.T) {
	disc := newBackend(t, nil)
	p := testPlan(actionSel, route("$disconnect", httpInteg("D", disc.URL, header("X-Code", ctxVar("disconnectStatusCode")))))
	o := testOptions()
	g, err := New(p, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	var clients []*websocket.Conn
	for range 5 {
		clients = append(clients, dial(t, g, "/dev"))
	}
	closed := make(chan *websocket.CloseError, len(clients))
	for _, ws := range clients {
		go func() {
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err := ws.ReadMessage()
			ce, _ := err.(*websocket.CloseError)
			closed <- ce
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// Every $disconnect ran before Shutdown returned.
	for range clients {
		select {
		case r := <-disc.reqs:
			if r.Header.Get("X-Code") != "1001" {
				t.Errorf("disconnectStatusCode %q", r.Header.Get("X-Code"))
			}
		default:
			t.Fatal("Shutdown returned before every $disconnect ran")
		}
	}
	for range clients {
		ce := <-closed
		if ce == nil || ce.Code != 1001 || ce.Text != "Going away" {
			t.Errorf("client got %v, want 1001 Going away", ce)
		}
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil); err == nil {
		t.Error("the gateway still accepts connections")
	}
}

// Swap changes routing for open connections without closing them; a
// connection whose stage disappeared is closed with 1001 (SPEC ).
func TestSwap(t *testing.T) {
	one := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { _, _ = w.Write([]byte("one")) })
	two := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { _, _ = w.Write([]byte("two")) })
	p1 := testPlan(actionSel, twoWay(route("$default", httpInteg("D", one.URL))))
	g := startGateway(t, p1, nil)
	ws := dial(t, g, "/dev")
	send(t, ws, "x")
	if got := recv(t, ws); got != "one" {
		t.Fatalf("got %q", got)
	}
	if old := g.Swap(testPlan(actionSel, twoWay(route("$default", httpInteg("D", two.URL))))); old != p1 {
		t.Error("Swap did not return the previous plan")
	}
	send(t, ws, "x")
	if got := recv(t, ws); got != "two" {
		t.Fatalf("after swap got %q", got)
	}
	p3 := testPlan(actionSel)
	p3.Apis[0].Stages[0].Name, p3.Apis[0].Stages[0].Path = "prod", "/prod"
	g.Swap(p3)
	if ce := recvClose(t, ws); ce.Code != 1001 {
		t.Errorf("close %d", ce.Code)
	}
}

// The access log renders the stage's format for every request.
func TestAccessLog(t *testing.T) {
	b := newBackend(t, nil)
	p := testPlan(actionSel, route("$connect", httpInteg("C", b.URL)), route("send", httpInteg("S", b.URL)), route("$disconnect", httpInteg("D", b.URL)))
	p.Apis[0].Stages[0].AccessLogFormat = `{"requestId":"$context.requestId","eventType":"$context.eventType","routeKey":"$context.routeKey","status":"$context.status","integrationStatus":"$context.integrationStatus","err":"$context.error.message"}`
	var buf syncBuffer
	g := startGateway(t, p, func(o *Options) { o.AccessLog = &buf })
	ws := dial(t, g, "/dev")
	send(t, ws, `{"action":"send"}`)
	send(t, ws, `{"action":"nope"}`)
	recv(t, ws) // Forbidden
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
	recvClose(t, ws)
	var lines []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if lines = strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) == 4 {
			break
		}
	}
	re := `"requestId":"[A-Za-z0-9]{15}=",`
	want := []string{
		`{` + re + `"eventType":"CONNECT","routeKey":"\$connect","status":"200","integrationStatus":"200","err":"-"}`,
		`{` + re + `"eventType":"MESSAGE","routeKey":"send","status":"200","integrationStatus":"200","err":"-"}`,
		`{` + re + `"eventType":"MESSAGE","routeKey":"nope","status":"403","integrationStatus":"-","err":"Forbidden"}`,
		`{` + re + `"eventType":"DISCONNECT","routeKey":"\$disconnect","status":"200","integrationStatus":"200","err":"-"}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("access log:\n%s", buf.String())
	}
	// A message's line is written once it is handled, after its reply is
	// queued, so the last message's line may come after the $disconnect's
	// (which runs as soon as the connection is closed, SPEC ); lines of
	// one connection's messages keep their order (SPEC ).
	if regexpMatch(want[3], lines[2]) && regexpMatch(want[2], lines[3]) {
		lines[2], lines[3] = lines[3], lines[2]
	}
	for i, w := range want {
		if !regexpMatch(w, lines[i]) {
			t.Errorf("line %d: %s\nwant %s", i, lines[i], w)
		}
	}
}

// SPEC: wsgw never echoes a subprotocol on its own.
func TestNoSubprotocolEcho(t *testing.T) {
	g := startGateway(t, testPlan(actionSel), nil)
	d := websocket.Dialer{Subprotocols: []string{"chat"}}
	ws, resp, err := d.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ws.Subprotocol() != "" || resp.Header.Get("Sec-Websocket-Protocol") != "" {
		t.Errorf("subprotocol %q echoed", ws.Subprotocol())
	}
}

// SPEC: ConnectionType VPC_LINK changes nothing locally.
func TestVpcLink(t *testing.T) {
	b := newBackend(t, echo)
	in := httpInteg("Private", b.URL+"/private")
	in.ConnectionType, in.VpcLink = "VPC_LINK", "VpcLink"
	g := startGateway(t, testPlan(actionSel, twoWay(route("$default", in))), nil)
	ws := dial(t, g, "/dev")
	send(t, ws, "via link")
	if got := recv(t, ws); got != "via link" {
		t.Errorf("got %q", got)
	}
	if r := b.next(t); r.Path != "/private" {
		t.Errorf("path %q", r.Path)
	}
}

// SPEC: a path that names no stage is refused with 403, a JSON
// body saying which stages there are, and a warning in the log naming the
// path; the @connections API keeps the ForbiddenException shape (the
// x-amzn-ErrorType header and a message) that SDKs raise.
func TestUnknownStage(t *testing.T) {
	p := testPlan(actionSel)
	p.Apis[0].Stages = append(p.Apis[0].Stages, &compile.Stage{Name: "$default", Path: "/", Routes: map[string]*compile.Route{}})
	var logs syncBuffer
	g := startGateway(t, p, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	base := "http://" + g.Addrs()[0]
	tests := []struct {
		name, path, msg string
		handshake       bool
	}{
		{"handshake", "/prod", `no stage "prod" at /prod; stages: /dev, /`, true},
		{"handshake below a stage", "/dev/x", `no stage "dev/x" at /dev/x; stages: /dev, /`, true},
		{"connections API", "/prod/@connections/abc%3D", `no stage "prod" at /prod/@connections/abc%3D; stages: /dev, /`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, base+tc.path, nil)
			if tc.handshake {
				req.Method = http.MethodGet
				for k, v := range map[string]string{"Upgrade": "websocket", "Connection": "Upgrade",
					"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"} {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want, _ := json.Marshal(map[string]string{"message": tc.msg})
			if resp.StatusCode != 403 || string(body) != string(want) || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("got %d %s %q, want 403 %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
			}
			if !tc.handshake && resp.Header.Get("x-amzn-ErrorType") != "ForbiddenException" {
				t.Errorf("x-amzn-ErrorType %q", resp.Header.Get("x-amzn-ErrorType"))
			}
			wantLog := "level=WARN msg=" + strconv.Quote(tc.msg)
			if !strings.Contains(logs.String(), wantLog) {
				t.Errorf("log lacks %s:\n%s", wantLog, logs.String())
			}
		})
	}
	t.Run("no $default stage", func(t *testing.T) {
		g := startGateway(t, testPlan(actionSel), nil)
		_, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/", nil)
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Fatalf("got %v %v, want 403", resp, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if want := `{"message":"no $default stage at /; stages: /dev"}`; string(body) != want {
			t.Errorf("body %s, want %s", body, want)
		}
	})
}

// The event log line carries latency_ms, a number of milliseconds with
// microsecond precision, in text and JSON alike.
func TestLogLatency(t *testing.T) {
	b := newBackend(t, echo)
	p := testPlan(actionSel, twoWay(route("$default", httpInteg("D", b.URL))))
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var logs syncBuffer
			var h slog.Handler = slog.NewTextHandler(&logs, nil)
			if format == "json" {
				h = slog.NewJSONHandler(&logs, nil)
			}
			g := startGateway(t, p, func(o *Options) { o.Logger = slog.New(h) })
			ws := dial(t, g, "/dev")
			send(t, ws, "x")
			recv(t, ws)
			var line string
			for deadline := time.Now().Add(5 * time.Second); line == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				for l := range strings.Lines(logs.String()) {
					if strings.Contains(l, "message") && strings.Contains(l, "$default") {
						line = l
					}
				}
			}
			var ms float64
			if format == "json" {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("%v: %q", err, line)
				}
				v, ok := rec["latency_ms"].(float64)
				if !ok {
					t.Fatalf("latency_ms %v in %s", rec["latency_ms"], line)
				}
				if _, ok := rec["latency"]; ok {
					t.Errorf("latency in nanoseconds still logged: %s", line)
				}
				ms = v
			} else {
				m := regexp.MustCompile(` latency_ms=(\d+(?:\.\d{1,3})?) `).FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("no latency_ms=N.NNN in %q", line)
				}
				ms, _ = strconv.ParseFloat(m[1], 64)
			}
			// Microsecond precision: a whole number of microseconds.
			if ms <= 0 || ms > 5000 || math.Abs(ms*1000-math.Round(ms*1000)) > 1e-6 {
				t.Errorf("latency_ms %v", ms)
			}
		})
	}
}
