package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

var inspectorLine = regexp.MustCompile(`(?m)^Inspector  http://(127\.0\.0\.1:\d+)/$`)

// startInspected runs serve and returns its stage URL and the inspector's
// address, read from the banner line (SPEC ).
func startInspected(t *testing.T, args ...string) (url, insp string, stdout, stderr *lockedBuffer, stop func() error) {
	t.Helper()
	url, stdout, stderr, stop = startServe(t, args...)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := inspectorLine.FindStringSubmatch(stdout.String()); m != nil {
			return url, m[1], stdout, stderr, stop
		}
	}
	_ = stop()
	t.Fatalf("no Inspector line in the banner:\n%s", stdout)
	return
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, b)
		}
	}
	return resp.StatusCode
}

// mockSession is what a client does against examples/mock: every route,
// a message no route takes, a refused handshake, then a close.
func mockSession(t *testing.T, url string) (frames []string) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url+"?lang=en", http.Header{"X-Client": {"replay-test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, m := range []string{`{"action":"ping"}`, `{"action":"check","message":"hi there"}`, `{"action":"check","message":"  "}`,
		`{"action":"time"}`, `not json`, `{"action":"nosuchroute"}`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %s: %v", m, err)
		}
		frames = append(frames, string(b))
	}
	if _, resp, err := websocket.DefaultDialer.Dial(url+"?deny=1", nil); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("deny=1: %v %v, want 403", resp, err)
	}
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	return frames
}

// TestRecordReplay records a session against examples/mock, replays it
// green, then against a changed template red (SPEC ).
func TestRecordReplay(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../examples/mock/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(tmpl, src, 0o644); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "session.jsonl")

	url, insp, _, _, stop := startInspected(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-tls", "--record", rec, tmpl)
	frames := mockSession(t, url)
	if !strings.Contains(frames[0], `"action": "pong"`) {
		t.Fatalf("ping answered %s", frames[0])
	}
	// The closed connection's timeline is still there, with what the issue lists.
	var closed []struct {
		ConnectionID string `json:"connectionId"`
		Code         int    `json:"code"`
		Refused      bool   `json:"refused"`
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		closed = nil
		getJSON(t, "http://"+insp+"/api/closed", &closed)
		if len(closed) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(closed) != 2 || !closed[1].Refused || closed[0].Code != 1000 {
		t.Fatalf("closed connections: %+v, want the refused one and the one closed with 1000", closed)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev struct{ Type string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		kinds[ev.Type]++
	}
	for k, n := range map[string]int{"connect": 2, "connected": 2, "message": 6, "route": 6, "frame": 6, "disconnect": 1,
		"integration.request": 8, "integration.response": 8, "error": 0} {
		if kinds[k] != n {
			t.Errorf("recording has %d %s events, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}

	replay := func(url string) (int, string) {
		var out, errOut bytes.Buffer
		code := run([]string{"replay", rec, "--to", url}, strings.NewReader(""), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	// Green: the same template.
	url, stdout, _, stop := startServe(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-tls", "--no-inspector", tmpl)
	if code, out := replay(url); code != 0 || !strings.Contains(out, "6 messages, 6 frames: no differences") {
		t.Errorf("replay against the same template: exit %d\n%s", code, out)
	}
	_ = stop()
	if strings.Contains(stdout.String(), "Inspector") {
		t.Errorf("--no-inspector printed an Inspector line:\n%s", stdout)
	}

	// Red: the ping response template changed.
	changed := strings.Replace(string(src), `{"action": "pong", "connectionId"`, `{"action": "PONG", "connectionId"`, 1)
	if changed == string(src) {
		t.Fatal("the mock example has no pong template to change")
	}
	if err := os.WriteFile(tmpl, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	url, _, _, _, stop = startInspected(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-tls", tmpl)
	code, out := replay(url)
	_ = stop()
	t.Logf("replay against the changed template:\n%s", out)
	if code != 1 || !strings.Contains(out, `want {"action": "pong"`) || !strings.Contains(out, `got  {"action": "PONG"`) || !strings.Contains(out, "frames: 1 difference\n") {
		t.Errorf("replay against the changed template: exit %d, want 1 with the pong frame's difference\n%s", code, out)
	}
}

// TestInspectorFlags: the inspector stays on loopback unless asked, and the
// flags that configure it are checked (SPEC ).
func TestInspectorFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"remote inspector", []string{"--inspector", "0.0.0.0:4001"}, "is not a loopback address"},
		{"inspector without port", []string{"--inspector", "127.0.0.1"}, "want HOST:PORT"},
		{"log level", []string{"--log-level", "chatty"}, `unknown --log-level "chatty"`},
		{"events", []string{"--inspector-events", "-1"}, "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--no-watch"}, tc.args...)
			code := run(append(args, "../../examples/mock/template.yaml"), strings.NewReader(""), &out, &errOut)
			if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s", code, tc.want, errOut.String())
			}
		})
	}
	t.Run("inspector at an address", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, insp, _, _, stop := startInspected(t, "--addr", "127.0.0.1:0", "--no-watch", "--no-tls", "--inspector", addr, "../../examples/mock/template.yaml")
		defer stop()
		if insp != addr {
			t.Errorf("inspector at %s, want %s", insp, addr)
		}
		var conns []map[string]any
		if st := getJSON(t, "http://"+insp+"/api/connections", &conns); st != http.StatusOK || len(conns) != 0 {
			t.Errorf("GET /api/connections: %d %v", st, conns)
		}
	})
}
