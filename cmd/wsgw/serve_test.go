package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/runtime"
)

// lockedBuffer is a bytes.Buffer safe for the gateway's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var wsURL = regexp.MustCompile(`ws://127\.0\.0\.1:\d+/dev`)

// startServe runs `wsgw serve args...` until the test cancels it, and
// returns the WebSocket URL it printed, its output, and a stop function
// returning the command's error.
func startServe(t *testing.T, args ...string) (url string, stdout, stderr *lockedBuffer, stop func() error) {
	t.Helper()
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	cmd := newServeCmd(&iostreams{In: strings.NewReader(""), Out: stdout, Err: stderr})
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop")
			return nil
		}
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if u := wsURL.FindString(stdout.String()); u != "" {
			return u, stdout, stderr, stop
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
		default:
		}
	}
	_ = stop()
	t.Fatalf("serve printed no URL\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	return
}

// SPEC: serve loads, compiles and runs a template; the startup output
// names the URLs and routes; SIGINT (a cancelled context) closes connections
// with 1001 and ends with status 0.
func TestServe(t *testing.T) {
	var connects sync.Map
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/connect":
			connects.Store(r.Header.Get("X-Connection-Id"), true)
		case "/echo":
			_, _ = w.Write(append([]byte("echo "), body...))
		}
	}))
	defer backend.Close()
	accessLog := filepath.Join(t.TempDir(), "access.log")
	url, stdout, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--param", "BackendUrl="+backend.URL,
		"--access-log", accessLog, "--log-format", "json", "--no-watch", "testdata/serve/echo.yaml")

	out := stdout.String()
	for _, want := range []string{"EchoApi stage dev", "@connections  http://127.0.0.1:", "/dev/@connections",
		"$connect", "ConnectInteg", "HTTP_PROXY", "POST " + backend.URL + "/connect", "echo", "two-way"} {
		if !strings.Contains(out, want) {
			t.Errorf("startup output lacks %q:\n%s", want, out)
		}
	}

	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"echo","n":1}`)); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != `echo {"action":"echo","n":1}` {
		t.Fatalf("got %q %v", data, err)
	}
	n := 0
	connects.Range(func(k, _ any) bool { n++; return true })
	if n != 1 {
		t.Errorf("backend saw %d $connect calls", n)
	}

	closed := make(chan *websocket.CloseError, 1)
	go func() {
		_, _, err := ws.ReadMessage()
		ce, _ := err.(*websocket.CloseError)
		closed <- ce
	}()
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if ce := <-closed; ce == nil || ce.Code != 1001 {
		t.Errorf("client got %v, want 1001", ce)
	}

	// One JSON log line per event, with connection, route, integration, status,
	// and latency_ms, a number of milliseconds.
	var sawMessage bool
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		if rec["msg"] == "message" {
			sawMessage = true
			if rec["route"] != "echo" || rec["integration"] != "EchoInteg" || rec["status"] != float64(200) || rec["connection"] == "" {
				t.Errorf("message log line %s", line)
			}
			if ms, ok := rec["latency_ms"].(float64); !ok || ms <= 0 {
				t.Errorf("latency_ms %v in %s", rec["latency_ms"], line)
			}
		}
	}
	if !sawMessage {
		t.Errorf("no message log line in:\n%s", stderr)
	}
	b, err := os.ReadFile(accessLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	re := regexp.MustCompile(`^[A-Za-z0-9]{15}= (CONNECT \$connect|MESSAGE echo|DISCONNECT \$disconnect) 200$`)
	if len(lines) != 3 {
		t.Fatalf("access log:\n%s", b)
	}
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Errorf("access log line %q", l)
		}
	}
}

// SPEC: a template with errors does not start; bad flags are usage errors.
func TestServeFailures(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"template with errors", []string{"serve", "--addr", "127.0.0.1:0", "testdata/serve/broken.yaml"}, 1,
			"testdata/serve/broken.yaml:11:14: error: EchoAPI is not a parameter or resource of this template (did you mean EchoApi?) [WSGW1006]"},
		{"unknown stage", []string{"serve", "--addr", "127.0.0.1:0", "--stage", "prod", "testdata/serve/echo.yaml"}, 1, "--stage prod"},
		{"missing template", []string{"serve", "testdata/serve/nope.yaml"}, 2, "nope.yaml"},
		{"no template", []string{"serve"}, 2, "exactly one TEMPLATE"},
		{"every interface without --allow-remote", []string{"serve", "--addr", ":3001", "testdata/serve/echo.yaml"}, 2, "--allow-remote"},
		{"bad log format", []string{"serve", "--log-format", "xml", "testdata/serve/echo.yaml"}, 2, "--log-format"},
		{"bad integration flag", []string{"serve", "--integration", "EchoInteg", "testdata/serve/echo.yaml"}, 2, "want ID=URL"},
		{"empty address", []string{"serve", "--addr", "", "testdata/serve/echo.yaml"}, 2, "HOST:PORT"},
		{"cluster URL without scheme", []string{"serve", "--cluster", "127.0.0.1:4222", "testdata/serve/echo.yaml"}, 2, "want nats://HOST:PORT"},
		{"cluster URL without port", []string{"serve", "--cluster", "nats://127.0.0.1:4222,nats://box", "testdata/serve/echo.yaml"}, 2, "want nats://HOST:PORT"},
		{"node without cluster", []string{"serve", "--node", "a", "testdata/serve/echo.yaml"}, 2, "give --cluster too"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
		})
	}
}

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:3001", false, true},
		{"localhost:3001", false, true},
		{"[::1]:3001", false, true},
		{"0.0.0.0:3001", false, true}, // a host written out is asking
		{":3001", false, false},
		{":3001", true, true},
		{"3001", false, false},
	}
	for _, tc := range tests {
		if err := checkAddr(tc.addr, tc.remote); (err == nil) != tc.ok {
			t.Errorf("checkAddr(%q, %v) = %v", tc.addr, tc.remote, err)
		}
	}
}

// serveReload runs runServe on a copy of testdata/serve/echo.yaml in a
// temporary directory, with the SIGHUP channel and a reload counter
// injected, until the test ends.
type serveReload struct {
	t       *testing.T
	file    string
	url     string
	stderr  *lockedBuffer
	hup     chan os.Signal
	reloads chan runtime.Reload
	mark    int // stderr up to mark was returned by next
}

func startServeReload(t *testing.T, backendURL string, noWatch bool) *serveReload {
	t.Helper()
	src, err := os.ReadFile("testdata/serve/echo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	def := runtime.DefaultOptions()
	s := &serveReload{t: t, file: file, stderr: &lockedBuffer{}, hup: make(chan os.Signal, 1), reloads: make(chan runtime.Reload, 100)}
	ready := make(chan *runtime.Gateway, 1)
	o := &serveOptions{
		IO:   &iostreams{In: strings.NewReader(""), Out: &lockedBuffer{}, Err: s.stderr},
		File: file, Addr: "127.0.0.1:0", Params: []string{"BackendUrl=" + backendURL}, LogFormat: "text", NoWatch: noWatch,
		MaxMessage: def.MaxMessageBytes, MaxFrame: def.MaxFrameBytes, IdleTimeout: def.IdleTimeout, MaxDuration: def.MaxConnDuration,
		ShutdownTimeout: 5 * time.Second,
		reload:          s.hup,
		ready:           func(g *runtime.Gateway) { ready <- g },
		onReload:        func(r runtime.Reload) { s.reloads <- r },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case g := <-ready:
		s.url = g.Endpoints()[0].WebSocketURL
		s.mark = len(s.stderr.String())
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, s.stderr)
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not start")
	}
	return s
}

// edit saves the template with old replaced by new (truncate and write).
func (s *serveReload) edit(old, new string) {
	s.t.Helper()
	src, err := os.ReadFile(s.file)
	if err != nil {
		s.t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(old)) {
		s.t.Fatalf("template has no %q", old)
	}
	if err := os.WriteFile(s.file, bytes.Replace(src, []byte(old), []byte(new), 1), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// next waits for the next reload and returns what serve printed on stderr
// since the last one, without the event log's lines.
func (s *serveReload) next() string {
	s.t.Helper()
	select {
	case <-s.reloads:
	case <-time.After(5 * time.Second):
		s.t.Fatalf("no reload; stderr:\n%s", s.stderr)
	}
	all := s.stderr.String()
	out := all[s.mark:]
	s.mark = len(all)
	var b strings.Builder
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "time=") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// SPEC: serve reloads a saved template while a
// connection stays open, prints one line per reload, prints a broken
// template's diagnostics as validate does and keeps the previous plan, and
// says when a later save recovers; SIGHUP reloads too.
func TestServeReload(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write([]byte(r.URL.Path + " " + string(body)))
	}))
	defer backend.Close()
	s := startServeReload(t, backend.URL, false)
	if !strings.Contains(s.stderr.String(), "wsgw: watching "+s.file+"; saving it reloads the gateway\n") {
		t.Errorf("no watching line:\n%s", s.stderr)
	}
	ws, _, err := websocket.DefaultDialer.Dial(s.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	echo := func(want string) {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"echo"}`)); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, data, err := ws.ReadMessage(); err != nil || string(data) != want+` {"action":"echo"}` {
			t.Fatalf("got %q %v, want %s", data, err, want)
		}
	}
	echo("/echo")
	file := regexp.QuoteMeta(s.file)
	steps := []struct {
		name       string
		old, new   string
		want       string // regexp of what the reload printed
		answeredBy string
	}{
		{"retarget", "${BackendUrl}/echo", "${BackendUrl}/echo2",
			`^wsgw: reloaded ` + file + ` in \d+\.\dms: ~integration EchoInteg http://127\.0\.0\.1:\d+/echo -> http://127\.0\.0\.1:\d+/echo2\n$`, "/echo2"},
		// An added stage is served at once, and the reload line says where.
		{"stage added", "  Stage:\n    Type: AWS::ApiGatewayV2::Stage\n", "  Stage2:\n    Type: AWS::ApiGatewayV2::Stage\n    Properties:\n      ApiId: !Ref EchoApi\n      StageName: beta\n  Stage:\n    Type: AWS::ApiGatewayV2::Stage\n",
			`^wsgw: reloaded ` + file + ` in \d+\.\dms: \+stage beta\n  now serving EchoApi stage beta at ws://127\.0\.0\.1:\d+/beta \(@connections http://127\.0\.0\.1:\d+/beta/@connections\)\n$`, "/echo2"},
		{"semantic error", "integrations/${EchoInteg}", "integrations/${EchoIntegg}",
			`^` + file + `:42:33: error: EchoIntegg is not a parameter or resource of this template \(did you mean EchoInteg\?\) \[WSGW1006\]\n` +
				`1 error in 1 file\n` +
				`wsgw: ` + file + ` has errors; the previous plan keeps serving\n$`, "/echo2"},
		{"still broken, YAML error", "RouteKey: echo", "RouteKey: [echo",
			// At the entry of the open '[', not a line early (issue 13).
			`^` + file + `:40:18: error: invalid YAML: did not find expected ',' or '\]' \[WSGW1001\]\n(.+\n)?wsgw: ` + file + ` has errors; the previous plan keeps serving\n$`, "/echo2"},
		{"fixed", "integrations/${EchoIntegg}", "integrations/${EchoInteg}", "", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s.edit(st.old, st.new)
			if st.name == "fixed" {
				s.edit("RouteKey: [echo", "RouteKey: echo")
				out := s.next()
				// The two saves may come as one reload, or as two: the YAML error fixed first.
				if !strings.Contains(out, "recovered") {
					out += s.next()
				}
				if !regexpMatch(`(?s).*wsgw: reloaded `+file+` in \d+\.\dms, recovered: no change to the plan\n$`, out) {
					t.Errorf("printed:\n%s", out)
				}
				echo("/echo2")
				return
			}
			if out := s.next(); !regexpMatch(st.want, out) {
				t.Errorf("printed:\n%s\nwant:\n%s", out, st.want)
			}
			echo(st.answeredBy)
		})
	}

	s.hup <- syscall.SIGHUP
	if out := s.next(); out != "wsgw: "+s.file+" is unchanged since the last reload (SIGHUP): nothing to do\n" {
		t.Errorf("SIGHUP printed %q", out)
	}
}

// Issue 12: a template that asks evaluation for gigabytes, saved over the
// template of a running gateway, is refused like any template with errors
// (WSGW1014, within the budget's memory): the open connection keeps working
// and new ones connect, on the previous plan.
func TestServeReloadAmplified(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write([]byte(r.URL.Path + " " + string(body)))
	}))
	defer backend.Close()
	s := startServeReload(t, backend.URL, false)
	dial := func() *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.DefaultDialer.Dial(s.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		return ws
	}
	echo := func(ws *websocket.Conn) {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"echo"}`)); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, data, err := ws.ReadMessage(); err != nil || string(data) != `/echo {"action":"echo"}` {
			t.Fatalf("got %q %v", data, err)
		}
	}
	open := dial()
	echo(open)
	nested := `{"Fn::Sub": ["` + strings.Repeat("${V}", 10) + `", {"V": "` + strings.Repeat("x", 100) + `"}]}`
	for range 6 {
		nested = `{"Fn::Sub": ["` + strings.Repeat("${V}", 10) + `", {"V": ` + nested + `}]}`
	}
	steps := []struct{ name, old, new string }{
		// Fn::Sub nested 7 deep, each level inserting the one below 10 times.
		{"nested Fn::Sub", "ProtocolType: WEBSOCKET", "ProtocolType: WEBSOCKET\n      Description: " + nested},
		// A 100 KB parameter inserted 10,000 times.
		{"parameter inserted 10,000 times", "Description: " + nested,
			`Description: !Sub "` + strings.Repeat("${Big}", 10_000) + "\"\n      Tags: {Big: !Ref Big}"},
	}
	s.edit("Parameters:\n", "Parameters:\n  Big:\n    Type: String\n    Default: "+strings.Repeat("y", 100_000)+"\n")
	if out := s.next(); !strings.Contains(out, "no change to the plan") {
		t.Fatalf("adding a parameter printed:\n%s", out)
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s.edit(st.old, st.new)
			out := s.next()
			if !regexpMatch(`(?s)error: \S+ produces a string over 1 MB[^\n]+\[WSGW1014\]\n.*has errors; the previous plan keeps serving\n$`, out) {
				t.Errorf("printed:\n%s", out)
			}
			echo(open)
			echo(dial())
		})
	}
}

// --no-watch: saving does nothing; SIGHUP reloads.
func TestServeNoWatch(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.URL.Path))
	}))
	defer backend.Close()
	s := startServeReload(t, backend.URL, true)
	if !strings.Contains(s.stderr.String(), "wsgw: not watching "+s.file+" (--no-watch); SIGHUP reloads it\n") {
		t.Errorf("no --no-watch line:\n%s", s.stderr)
	}
	s.edit("RouteKey: echo", "RouteKey: echo2")
	select {
	case r := <-s.reloads:
		t.Fatalf("reloaded with --no-watch: %+v", r)
	case <-time.After(4 * runtime.DefaultDebounce):
	}
	s.hup <- syscall.SIGHUP
	want := `^wsgw: reloaded ` + regexp.QuoteMeta(s.file) + ` \(SIGHUP\) in \d+\.\dms: -route echo, \+route echo2\n$`
	if out := s.next(); !regexpMatch(want, out) {
		t.Errorf("printed %q, want %s", out, want)
	}
}

// regexpMatch reports whether s matches pattern.
func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// SPEC: serve refuses a binary frame with close 1003 as API Gateway
// does; --allow-binary routes it (to $default, which echo.yaml lacks, so the
// client gets the Forbidden frame and stays connected).
func TestServeBinaryFrames(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allow-binary=%v", allow), func(t *testing.T) {
			args := []string{"--addr", "127.0.0.1:0", "--param", "BackendUrl=" + backend.URL, "--no-watch", "--no-inspector"}
			if allow {
				args = append(args, "--allow-binary")
			}
			url, _, _, stop := startServe(t, append(args, "testdata/serve/echo.yaml")...)
			defer stop()
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if err := ws.WriteMessage(websocket.BinaryMessage, []byte{0, 0xff}); err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := ws.ReadMessage()
			if allow {
				if err != nil || !strings.Contains(string(data), `"message": "Forbidden"`) {
					t.Errorf("got %q %v, want the Forbidden frame", data, err)
				}
				return
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseUnsupportedData {
				t.Errorf("got %q %v, want close 1003", data, err)
			}
		})
	}
}
