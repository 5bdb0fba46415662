package inspect

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
	"github.com/wsgw/wsgw/template"
)

// testTemplate routes "echo" (two-way HTTP_PROXY, with a mapped header),
// "post" (one-way: the backend answers through @connections) and "down"
// (a backend that is not there) ; no $default, so other keys match nothing.
const testTemplate = `
Parameters:
  Backend: {Type: String}
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: t, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: dev}
  Echo:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: echo, RouteResponseSelectionExpression: $default, Target: !Sub "integrations/${EchoInteg}"}
  EchoResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: {ApiId: !Ref Api, RouteId: !Ref Echo, RouteResponseKey: $default}
  EchoInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: POST
      IntegrationUri: !Sub "${Backend}/echo"
      RequestParameters:
        integration.request.header.X-Connection: context.connectionId
  Post:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: post, Target: !Sub "integrations/${PostInteg}"}
  PostInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: POST
      IntegrationUri: !Sub "${Backend}/post"
      RequestParameters:
        integration.request.header.X-Connection: context.connectionId
  Down:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: down, Target: !Sub "integrations/${DownInteg}"}
  DownInteg:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Api, IntegrationType: HTTP_PROXY, IntegrationMethod: POST, IntegrationUri: "http://127.0.0.1:1/down"}
`

// fixture is a gateway observed by an inspector, its backend and the
// inspector's server.
type fixture struct {
	g    *runtime.Gateway
	in   *Inspector
	srv  *httptest.Server
	url  string // ws://.../dev
	base string // http://.../dev/@connections
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{in: New(opts)}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			w.Header().Set("X-Backend", "yes")
			fmt.Fprintf(w, `{"echo":%s}`, body)
		case "/post":
			// Answer through @connections, as a backend does.
			resp, err := http.Post(f.base+"/"+r.Header.Get("X-Connection"), "application/json", strings.NewReader(`{"posted":true}`))
			if err == nil {
				resp.Body.Close()
			}
		}
	}))
	t.Cleanup(backend.Close)
	p, ds := compile.Build("t.yaml", []byte(testTemplate), template.Options{Params: map[string]string{"Backend": backend.URL}, RequireParams: true}, compile.Options{})
	if p == nil || ds.HasErrors() {
		t.Fatalf("template: %v", ds)
	}
	o := runtime.DefaultOptions()
	o.Addr = "127.0.0.1:0"
	o.Observer = f.in
	g, err := runtime.New(p, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
	})
	f.g = g
	f.in.Attach(g)
	f.srv = httptest.NewServer(f.in.Handler())
	t.Cleanup(f.srv.Close)
	f.url = "ws://" + g.Addrs()[0] + "/dev"
	f.base = "http://" + g.Addrs()[0] + "/dev/@connections"
	return f
}

func (f *fixture) get(t *testing.T, path string, v any) int {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

func (f *fixture) post(t *testing.T, path, body string, header bool) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	if header {
		req.Header.Set(ActionHeader, "1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// events returns the timeline of connection id once cond holds for it.
func (f *fixture) events(t *testing.T, id string, cond func([]EventJSON) bool) []EventJSON {
	t.Helper()
	var evs []EventJSON
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		evs = nil
		f.get(t, "/api/connections/"+id+"/events", &evs)
		if cond(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(evs, "", "  ")
			t.Fatalf("timeline of %s never got there:\n%s", id, b)
		}
	}
}

func count(evs []EventJSON, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func find(evs []EventJSON, typ string, pred func(EventJSON) bool) *EventJSON {
	for i := range evs {
		if evs[i].Type == typ && (pred == nil || pred(evs[i])) {
			return &evs[i]
		}
	}
	return nil
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{"User-Agent": {"inspect-test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func send(t *testing.T, ws *websocket.Conn, msg string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func readFrame(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// connID is the id of the only live connection.
func (f *fixture) connID(t *testing.T) string {
	t.Helper()
	var conns []ConnJSON
	f.get(t, "/api/connections", &conns)
	if len(conns) != 1 {
		t.Fatalf("connections: %+v, want one", conns)
	}
	return conns[0].ConnectionID
}

// TestTimeline: every kind of event the issue lists lands in the
// connection's timeline, with what it says (SPEC ).
func TestTimeline(t *testing.T) {
	f := newFixture(t, Options{})
	ws := dial(t, f.url+"?x=1")
	id := f.connID(t)
	var conns []ConnJSON
	f.get(t, "/api/connections", &conns)
	if c := conns[0]; c.Api != "Api" || c.Stage != "dev" || c.SourceIP != "127.0.0.1" || c.UserAgent != "inspect-test" || c.ConnectedAt == "" || c.LastActiveAt == "" {
		t.Errorf("connection: %+v", c)
	}

	send(t, ws, `{"action":"echo","n":1}`)
	if got := readFrame(t, ws); got != `{"echo":{"action":"echo","n":1}}` {
		t.Fatalf("echo: %s", got)
	}
	send(t, ws, `{"action":"post"}`)
	if got := readFrame(t, ws); got != `{"posted":true}` {
		t.Fatalf("post: %s", got)
	}
	send(t, ws, `{"action":"nosuch"}`)
	if got := readFrame(t, ws); !strings.Contains(got, "Forbidden") {
		t.Fatalf("unmatched: %s", got)
	}
	send(t, ws, `{"action":"down"}`)
	f.events(t, id, func(evs []EventJSON) bool { return count(evs, "error") == 2 })
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "done here"), time.Now().Add(time.Second))
	evs := f.events(t, id, func(evs []EventJSON) bool { return count(evs, "disconnect") == 1 })

	if e := find(evs, "connect", nil); e == nil || e.URL != "/dev?x=1" || e.Headers["User-Agent"][0] != "inspect-test" {
		t.Errorf("connect: %+v", e)
	}
	if e := find(evs, "connected", nil); e == nil || e.Status != 101 || e.LatencyMs == nil {
		t.Errorf("connected: %+v", e)
	}
	if e := find(evs, "message", nil); e == nil || *e.Body != `{"action":"echo","n":1}` || *e.Size != 23 {
		t.Errorf("message: %+v", e)
	}
	if e := find(evs, "route", func(e EventJSON) bool { return e.Route == "echo" }); e == nil || *e.Key != "echo" || !strings.Contains(e.Why, "$request.body.action gave \"echo\"") {
		t.Errorf("route: %+v", e)
	}
	if e := find(evs, "route", func(e EventJSON) bool { return *e.Key == "nosuch" }); e == nil || !strings.Contains(e.Why, "no route matched") {
		t.Errorf("unmatched route: %+v", e)
	}
	req := find(evs, "integration.request", func(e EventJSON) bool { return strings.HasSuffix(e.URL, "/echo") })
	if req == nil || req.Method != "POST" || req.Headers["X-Connection"][0] != id || *req.Body != `{"action":"echo","n":1}` || req.Integration != "EchoInteg" {
		t.Errorf("integration request: %+v", req)
	}
	resp := find(evs, "integration.response", func(e EventJSON) bool { return e.Integration == "EchoInteg" })
	if resp == nil || resp.Status != 200 || resp.Headers["X-Backend"][0] != "yes" || *resp.Body != `{"echo":{"action":"echo","n":1}}` || resp.LatencyMs == nil {
		t.Errorf("integration response: %+v", resp)
	}
	if n := count(evs, "frame"); n != 4 {
		t.Errorf("%d frames, want 4 (echo, post, Forbidden, Internal server error)", n)
	}
	if e := find(evs, "management", nil); e == nil || e.Method != "POST" || e.Status != 200 || *e.Body != `{"posted":true}` {
		t.Errorf("management: %+v", e)
	}
	if e := find(evs, "error", func(e EventJSON) bool { return e.Route == "down" }); e == nil || e.Status != 500 || !strings.Contains(e.Error, "127.0.0.1:1") {
		t.Errorf("integration error: %+v", e)
	}
	if e := find(evs, "error", func(e EventJSON) bool { return e.Status == 403 }); e == nil {
		t.Errorf("no error event for the unmatched message")
	}
	if e := find(evs, "disconnect", nil); e == nil || e.Code != 4000 || e.Reason != "done here" || e.By != "client" {
		t.Errorf("disconnect: %+v", e)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Errorf("events out of order: %d after %d", evs[i].Seq, evs[i-1].Seq)
		}
	}
	var closed []ConnJSON
	f.get(t, "/api/closed", &closed)
	if len(closed) != 1 || closed[0].ConnectionID != id || closed[0].Code != 4000 {
		t.Errorf("closed: %+v", closed)
	}
	if st := f.get(t, "/api/connections/nosuchid/events", nil); st != http.StatusNotFound {
		t.Errorf("unknown connection: %d, want 404", st)
	}
}

// TestActions: send, replay and disconnect from the API; actions need the
// header, and a foreign Host is refused.
func TestActions(t *testing.T) {
	f := newFixture(t, Options{})
	ws := dial(t, f.url)
	id := f.connID(t)

	if st := f.post(t, "/api/connections/"+id+"/send", "hello", false); st != http.StatusForbidden {
		t.Errorf("send without %s: %d, want 403", ActionHeader, st)
	}
	if st := f.post(t, "/api/connections/"+id+"/send", "hello", true); st != http.StatusOK {
		t.Fatalf("send: %d", st)
	}
	if got := readFrame(t, ws); got != "hello" {
		t.Fatalf("sent frame: %q", got)
	}

	send(t, ws, `{"action":"echo","n":7}`)
	readFrame(t, ws)
	evs := f.events(t, id, func(evs []EventJSON) bool { return count(evs, "message") == 1 })
	msg := find(evs, "message", nil)
	if st := f.post(t, fmt.Sprintf("/api/connections/%s/replay?seq=%d", id, msg.Seq), "", true); st != http.StatusOK {
		t.Fatalf("replay: %d", st)
	}
	if got := readFrame(t, ws); got != `{"echo":{"action":"echo","n":7}}` {
		t.Fatalf("replayed message answered %q", got)
	}
	if st := f.post(t, fmt.Sprintf("/api/connections/%s/replay?seq=%d", id, msg.Seq+100000), "", true); st != http.StatusNotFound {
		t.Errorf("replay of no message: %d, want 404", st)
	}

	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/api/connections", nil)
	req.Host = "attacker.example:80"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %v %v, want 403", resp, err)
	}

	if st := f.post(t, "/api/connections/"+id+"/disconnect", "", true); st != http.StatusNoContent {
		t.Fatalf("disconnect: %d", st)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("after disconnect: %v, want close 1000", err)
	}
	evs = f.events(t, id, func(evs []EventJSON) bool { return count(evs, "disconnect") == 1 })
	if e := find(evs, "disconnect", nil); e.By != "gateway" || e.Code != 1000 {
		t.Errorf("disconnect: %+v", e)
	}
	if st := f.post(t, "/api/connections/"+id+"/send", "late", true); st != http.StatusGone {
		t.Errorf("send to a closed connection: %d, want 410", st)
	}
}

// TestStream: the live stream carries the events as they happen.
func TestStream(t *testing.T) {
	f := newFixture(t, Options{})
	resp, err := http.Get(f.srv.URL + "/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Scan() // the comment line that opens the stream: subscribed
	ws := dial(t, f.url)
	send(t, ws, `{"action":"echo","n":2}`)
	var seen []string
	for lines.Scan() {
		data, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		var ev EventJSON
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ev.Type)
		if ev.Type == "frame" {
			break
		}
	}
	want := "connect connected message route integration.request integration.response frame"
	if got := strings.Join(seen, " "); got != want {
		t.Errorf("stream:\n got %s\nwant %s", got, want)
	}
}

// TestBounds: a connection keeps its last N events, the inspector its last
// M closed connections, bodies are cut with their size kept (SPEC ).
func TestBounds(t *testing.T) {
	f := newFixture(t, Options{EventsPerConn: 10, ClosedConns: 2, BodyBytes: 16})
	var ids []string
	for i := range 4 {
		ws := dial(t, f.url)
		id := f.connID(t)
		ids = append(ids, id)
		for j := range 5 {
			send(t, ws, fmt.Sprintf(`{"action":"echo","i":%d,"j":%d,"pad":"%s"}`, i, j, strings.Repeat("x", 40)))
			readFrame(t, ws)
		}
		evs := f.events(t, id, func(evs []EventJSON) bool { return len(evs) == 10 && evs[9].Type == "frame" })
		last := evs[len(evs)-1]
		if last.Type != "frame" || !last.Truncated || *last.Size <= 16 || len(*last.Body) != 16 {
			t.Errorf("last event: %+v", last)
		}
		ws.Close()
		f.events(t, id, func(evs []EventJSON) bool { return count(evs, "disconnect") == 1 })
	}
	var closed []ConnJSON
	f.get(t, "/api/closed", &closed)
	if len(closed) != 2 || closed[0].ConnectionID != ids[3] || closed[1].ConnectionID != ids[2] {
		t.Errorf("closed kept: %+v, want the last two", closed)
	}
	if st := f.get(t, "/api/connections/"+ids[0]+"/events", nil); st != http.StatusNotFound {
		t.Errorf("the oldest closed connection is still kept (%d)", st)
	}
	n := 0
	f.in.conns.each(func(*record) { n++ })
	if n != 2 {
		t.Errorf("inspector holds %d records, want 2", n)
	}
}

// TestConcurrent: many connections at once, with a stream watching, under
// -race; every connection's timeline holds its own events only.
func TestConcurrent(t *testing.T) {
	f := newFixture(t, Options{EventsPerConn: 50})
	resp, err := http.Get(f.srv.URL + "/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go io.Copy(io.Discard, resp.Body)
	const conns, msgs = 8, 20
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, _, err := websocket.DefaultDialer.Dial(f.url, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer ws.Close()
			for j := range msgs {
				if err := ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"action":"echo","c":%d,"j":%d}`, i, j)); err != nil {
					t.Error(err)
					return
				}
				_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, _, err := ws.ReadMessage(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var live []ConnJSON
	f.get(t, "/api/connections", &live)
	for _, c := range live {
		evs := f.events(t, c.ConnectionID, func(evs []EventJSON) bool { return len(evs) == 50 })
		for _, e := range evs {
			if e.ConnectionID != c.ConnectionID {
				t.Fatalf("event of %s in the timeline of %s", e.ConnectionID, c.ConnectionID)
			}
		}
	}
}

// TestPage: the page and its assets are served from the binary.
func TestPage(t *testing.T) {
	f := newFixture(t, Options{})
	network := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import|fetch\(\s*["'](https?:)?//`)
	for path, want := range map[string]string{"/": "<title>wsgw inspector</title>", "/app.js": "api/connections", "/style.css": ".timeline"} {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, want %q in it", path, resp.StatusCode, want)
		}
		if m := network.Find(b); m != nil {
			t.Errorf("GET %s loads %q from the network", path, m)
		}
	}
	// The page is whole before any script runs: the newest connection and
	// its timeline are in the HTML.
	ws := dial(t, f.url)
	send(t, ws, `{"action":"echo","text":"rendered by the server"}`)
	readFrame(t, ws)
	id := f.connID(t)
	f.events(t, id, func(evs []EventJSON) bool { return count(evs, "frame") == 1 })
	resp, err := http.Get(f.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`data-selected="` + id + `"`, `<li data-id="` + id + `" class="selected">`, `<li data-type="message">`,
		`{&#34;action&#34;:&#34;echo&#34;,&#34;text&#34;:&#34;rendered by the server&#34;}`, `$request.body.action gave &#34;echo&#34;: route echo`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %s:\n%s", want, page)
		}
	}

	var stages []StageJSON
	f.get(t, "/api/stages", &stages)
	if len(stages) != 1 || stages[0].Stage != "dev" || len(stages[0].Routes) != 3 || stages[0].Expression != "$request.body.action" {
		t.Errorf("stages: %+v", stages)
	}
}

// TestTotalBound: with many connections open each keeps fewer events, so
// that the inspector holds about TotalEvents in all (SPEC ).
func TestTotalBound(t *testing.T) {
	f := newFixture(t, Options{EventsPerConn: 40, TotalEvents: 60})
	var wss []*websocket.Conn
	for range 4 {
		wss = append(wss, dial(t, f.url))
	}
	for j := range 15 {
		for _, ws := range wss {
			send(t, ws, fmt.Sprintf(`{"action":"echo","j":%d}`, j))
			readFrame(t, ws)
		}
	}
	var live []ConnJSON
	f.get(t, "/api/connections", &live)
	if len(live) != 4 {
		t.Fatalf("%d connections", len(live))
	}
	for _, c := range live {
		// 4 open: 60/4 = 15 each; the last one is the frame of message 14.
		evs := f.events(t, c.ConnectionID, func(evs []EventJSON) bool {
			return len(evs) == 15 && evs[14].Type == "frame" && strings.Contains(*evs[14].Body, `"j":14`)
		})
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq <= evs[i-1].Seq {
				t.Fatalf("timeline out of order: %d after %d", evs[i].Seq, evs[i-1].Seq)
			}
		}
	}
	f.get(t, "/api/connections", &live)
	for _, c := range live {
		if c.Events != 2+15*5 {
			t.Errorf("events seen %d, want %d", c.Events, 2+15*5)
		}
	}
}

// TestStreamNeverBlocks: a live stream nobody reads loses events, counted,
// and the gateway's Observe calls never wait for it (SPEC ).
func TestStreamNeverBlocks(t *testing.T) {
	in := New(Options{})
	s := in.subscribe("")
	defer in.unsubscribe(s)
	const n = subBuffer + 100
	in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "c"})
	for range n - 1 {
		in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: "c", Body: []byte("x")})
	}
	if len(s.ch) != subBuffer || s.dropped.Load() != n-subBuffer {
		t.Errorf("buffered %d, dropped %d; want %d and %d", len(s.ch), s.dropped.Load(), subBuffer, n-subBuffer)
	}
}

// TestRecording: a recorded event reads back with its body, text or binary,
// whole; Normalize masks ids and times only.
func TestRecording(t *testing.T) {
	var buf strings.Builder
	r := NewRecorder(&buf)
	big := strings.Repeat("y", 10<<10)
	r.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: "c", URL: "/dev?a=1", Header: http.Header{"X-A": {"b"}}})
	r.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: "c", Body: []byte(big)})
	r.Observe(runtime.Event{Kind: runtime.KindFrame, ConnectionID: "c", Body: []byte{0xff, 0, 1}, Binary: true})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := ReadRecording(strings.NewReader(buf.String()))
	if err != nil || len(evs) != 3 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if evs[0].URL != "/dev?a=1" || evs[0].Headers["X-A"][0] != "b" {
		t.Errorf("connect: %+v", evs[0])
	}
	if b, ok := evs[1].BodyBytes(); !ok || string(b) != big || evs[1].Truncated {
		t.Errorf("message body: %d bytes, truncated %v", len(b), evs[1].Truncated)
	}
	if b, ok := evs[2].BodyBytes(); !ok || string(b) != "\xff\x00\x01" || evs[2].BodyBase64 == "" {
		t.Errorf("binary frame: %q", b)
	}

	for in, want := range map[string]string{
		`{"connectionId":"LbU2bTrW9tKxAaX=","n":12345}`:                      `{"connectionId":"<id>","n":12345}`,
		`{"at":"2026-12-05T13:43:15.231Z","t":"05/Dec/2026:13:43:15 +0000"}`: `{"at":"<time>","t":"<time>"}`,
		`{"ms":1796478195231,"s":1796478195,"count":42}`:                     `{"ms":<time>,"s":<time>,"count":42}`,
	} {
		if got := Normalize([]byte(in)); got != want {
			t.Errorf("Normalize(%s) = %s, want %s", in, got, want)
		}
	}
}
