package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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
