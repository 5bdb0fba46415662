package runtime

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
)

// testPlan builds a plan by hand: one Api "ChatApi" (id "abcde12345") with
// one stage "dev" holding routes, its selection expression compiled from
// parts.
func testPlan(sel []compile.SelectionPart, routes ...*compile.Route) *compile.Plan {
	st := &compile.Stage{LogicalID: "DevStage", Name: "dev", Path: "/dev", Routes: map[string]*compile.Route{}}
	for _, r := range routes {
		st.Routes[r.Key] = r
	}
	return &compile.Plan{Source: "test.yaml", Apis: []*compile.Api{{
		LogicalID: "ChatApi", ID: "abcde12345", Name: "chat",
		Selection: compile.Selection{Parts: sel},
		Stages:    []*compile.Stage{st},
	}}}
}

// bodyPath is the selection part $request.body.<path>.
func bodyPath(path ...string) compile.SelectionPart { return compile.SelectionPart{Path: path} }

func text(s string) compile.SelectionPart { return compile.SelectionPart{Text: s} }

// actionSel is $request.body.action.
var actionSel = []compile.SelectionPart{bodyPath("action")}

func route(key string, in *compile.Integration) *compile.Route {
	return &compile.Route{Key: key, LogicalID: "Route" + strings.Trim(key, "$/"), Integration: in}
}

func twoWay(r *compile.Route) *compile.Route { r.TwoWay = true; return r }

func httpInteg(id, url string, steps ...compile.Step) *compile.Integration {
	return &compile.Integration{LogicalID: id, ID: strings.ToLower(id), Type: "HTTP_PROXY", Method: "POST", URL: url,
		TimeoutMillis: 2000, Mapping: steps}
}

func header(name string, src compile.Source) compile.Step {
	return compile.Step{Target: "header", Name: name, Source: src}
}

func query(name string, src compile.Source) compile.Step {
	return compile.Step{Target: "querystring", Name: name, Source: src}
}

func ctxVar(name string) compile.Source {
	return compile.Source{Kind: compile.SourceContext, Name: name, Expr: "context." + name}
}

// received is a request a test backend got.
type received struct {
	Method, Path string
	Query        map[string][]string
	Header       http.Header
	Body         string
}

// backend is an httptest server that records every request and answers
// with handle (200 and no body when nil).
type backend struct {
	*httptest.Server
	reqs chan received
}

func newBackend(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) *backend {
	t.Helper()
	b := &backend{reqs: make(chan received, 1000)}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.reqs <- received{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)}
		if handle != nil {
			handle(w, r, body)
		}
	}))
	t.Cleanup(b.Close)
	return b
}

// next returns the next request the backend got, failing after 5 s.
func (b *backend) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-b.reqs:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("backend got no request")
		return received{}
	}
}

// none checks that the backend gets no request for a short while.
func (b *backend) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case r := <-b.reqs:
		t.Fatalf("backend got an unexpected request: %s %s %q", r.Method, r.Path, r.Body)
	case <-time.After(d):
	}
}

// echo answers with the request body.
func echo(w http.ResponseWriter, _ *http.Request, body []byte) { _, _ = w.Write(body) }

// status answers with code.
func status(code int) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(code) }
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testOptions are DefaultOptions on a free port, logging to the test.
func testOptions() Options {
	o := DefaultOptions()
	o.Addr = "127.0.0.1:0"
	o.CloseGrace = 500 * time.Millisecond
	o.WriteTimeout = 2 * time.Second
	return o
}

// startGateway serves p with testOptions changed by opt and shuts the
// gateway down when the test ends.
func startGateway(t *testing.T, p *compile.Plan, opt func(*Options)) *Gateway {
	t.Helper()
	o := testOptions()
	if testing.Verbose() {
		o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opt != nil {
		opt(&o)
	}
	g, err := New(p, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		}
	})
	return g
}

// testWriter logs to the test while it runs.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	defer func() { _ = recover() }() // a log line after the test ended
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// dial opens a WebSocket to path on the gateway's first Api.
func dial(t *testing.T, g *Gateway, path string) *websocket.Conn {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+path, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// send writes a text message.
func send(t *testing.T, ws *websocket.Conn, msg string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("send %q: %v", msg, err)
	}
}

// recv reads the next message, failing after 5 s.
func recv(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(data)
}

// recvClose reads until the connection closes and returns the close frame.
func recvClose(t *testing.T, ws *websocket.Conn) *websocket.CloseError {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err == nil {
			t.Logf("message before close: %.80q", data)
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok {
			t.Fatalf("want a close frame, got %v", err)
		}
		return ce
	}
}

// noMessage checks that nothing arrives for a short while.
func noMessage(t *testing.T, ws *websocket.Conn, d time.Duration) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(d))
	_, data, err := ws.ReadMessage()
	if err == nil {
		t.Fatalf("unexpected message %q", data)
	}
	if ne, ok := err.(interface{ Timeout() bool }); !ok || !ne.Timeout() {
		t.Fatalf("want a read timeout, got %v", err)
	}
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9]{15}=$`)

// errorFrameRE matches an error frame of API Gateway byte for byte, with the
// connection and request ids as groups.
func errorFrameRE(message string) *regexp.Regexp {
	return regexp.MustCompile(`^\{"message": "` + regexp.QuoteMeta(message) + `", "connectionId":"([A-Za-z0-9]{15}=)", "requestId":"([A-Za-z0-9]{15}=)"\}$`)
}

// regexpMatch reports whether all of s matches pattern.
func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile("^" + pattern + "$").MatchString(s)
}

type stringsBuilder struct{ strings.Builder }

// newEchoServer answers every request with its body.
func newEchoServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	}))
}
