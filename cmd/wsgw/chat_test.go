package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/internal/testtool"
)

const chatTemplate = "../../examples/chat/template.yaml"

// requireChat skips (fails in CI) a test of the chat example when node or
// the example's dependencies are missing (`npm ci` in examples/chat/src).
func requireChat(tb testing.TB) { requireExample(tb, "chat") }

// requireExample skips (fails in CI: internal/testtool) a test of
// examples/NAME when node or the example's dependencies are missing (`npm ci`
// in examples/NAME/src).
func requireExample(tb testing.TB, name string) {
	tb.Helper()
	testtool.NeedNodeModules(tb, "../../examples/"+name+"/src", "@aws-sdk/client-apigatewaymanagementapi")
}

var chatURL = regexp.MustCompile(`ws://127\.0\.0\.1:\d+/Prod`)

// chatServer runs `wsgw serve` on the chat example with a connections file
// of its own, and returns the WebSocket URL, the path of that file, the
// command's stderr and a stop function.
func chatServer(tb testing.TB) (url, connFile string, stderr *lockedBuffer, stop func()) {
	tb.Helper()
	return exampleServer(tb, chatTemplate)
}

// exampleServer runs `wsgw serve` on a chat example's template (stage Prod,
// a ConnectionsFileName parameter) with a connections file of its own, and
// returns the WebSocket URL, the path of that file, the command's stderr and
// a stop function.
func exampleServer(tb testing.TB, tmpl string, args ...string) (url, connFile string, stderr *lockedBuffer, stop func()) {
	tb.Helper()
	name := fmt.Sprintf("wsgw-chat-test-%d-%d.json", os.Getpid(), time.Now().UnixNano())
	connFile = filepath.Join(os.TempDir(), name)
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	cmd := newServeCmd(&iostreams{In: strings.NewReader(""), Out: stdout, Err: stderr})
	cmd.SetArgs(append(append([]string{"--addr", "127.0.0.1:0", "--no-watch", "--param", "ConnectionsFileName=" + name}, args...), tmpl))
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			tb.Error("serve did not stop")
		}
		os.Remove(connFile)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if u := chatURL.FindString(stdout.String()); u != "" {
			return u, connFile, stderr, stop
		}
		select {
		case err := <-done:
			tb.Fatalf("serve ended: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
		default:
		}
	}
	stop()
	tb.Fatalf("serve printed no URL\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	return
}

// connectionIDs reads the chat's connections file.
func chatConnections(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var ids []string
	_ = json.Unmarshal(b, &ids)
	return ids
}

// waitConnections waits until the connections file holds exactly want.
func waitConnections(t *testing.T, file string, want []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := chatConnections(t, file)
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if slices.Equal(got, w) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections file holds %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var connectLine = regexp.MustCompile(`msg=connect connection="?([A-Za-z0-9]+=)"? route=\$connect .*status=200`)

// connectedID waits until the serve log shows n accepted connections and
// returns the id of the n-th.
func connectedID(t *testing.T, log *lockedBuffer, n int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := connectLine.FindAllStringSubmatch(log.String(), -1); len(m) >= n {
			return m[n-1][1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log shows fewer than %d accepted connections:\n%s", n, log)
		}
	}
}

func chatRecv(tb testing.TB, ws *websocket.Conn) string {
	tb.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return string(data)
}

// The chat example (examples/chat) with two real clients: the SAM functions
// run as Node.js processes; SendMessage's AWS SDK for JavaScript posts to
// every connection through https:// + requestContext.domainName, which only
// works because the gateway answers TLS on its port with a certificate the
// function trusts (NODE_EXTRA_CA_CERTS); a client that leaves is removed by
// OnDisconnect. SPEC, §8.
func TestChatExample(t *testing.T) {
	requireChat(t)
	url, connFile, stderr, stop := chatServer(t)
	defer stop()

	// The gateway's log names each connection it accepts; OnConnect must
	// store exactly those ids.
	a, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial A: %v\n%s", err, stderr)
	}
	defer a.Close()
	idA := connectedID(t, stderr, 1)
	waitConnections(t, connFile, []string{idA})
	b, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial B: %v", err)
	}
	defer b.Close()
	idB := connectedID(t, stderr, 2)
	if idB == idA {
		t.Fatalf("A and B have the same connection id %s", idA)
	}
	waitConnections(t, connFile, []string{idA, idB})

	for _, tc := range []struct {
		from *websocket.Conn
		data string
	}{{a, "hello from A"}, {b, "hello from B"}} {
		msg, _ := json.Marshal(map[string]string{"action": "sendmessage", "data": tc.data})
		if err := tc.from.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		for name, ws := range map[string]*websocket.Conn{"A": a, "B": b} {
			if got := chatRecv(t, ws); got != tc.data {
				t.Fatalf("%s got %q, want %q\n%s", name, got, tc.data, stderr)
			}
		}
	}

	// A message matching no route: Forbidden, as the Api has no $default.
	if err := a.WriteMessage(websocket.TextMessage, []byte(`{"action":"nope"}`)); err != nil {
		t.Fatal(err)
	}
	if got := chatRecv(t, a); !strings.HasPrefix(got, `{"message": "Forbidden"`) {
		t.Errorf("unrouted message: %q", got)
	}

	// B leaves: OnDisconnect removes it, and a broadcast reaches A only.
	_ = b.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	waitConnections(t, connFile, []string{idA})
	if err := a.WriteMessage(websocket.TextMessage, []byte(`{"action":"sendmessage","data":"alone"}`)); err != nil {
		t.Fatal(err)
	}
	if got := chatRecv(t, a); got != "alone" {
		t.Errorf("A got %q", got)
	}
	if s := stderr.String(); strings.Contains(s, "broadcast failed") || strings.Contains(s, "level=WARN msg=message") {
		t.Errorf("the functions reported errors:\n%s", s)
	}
}

var coldStart = regexp.MustCompile(`msg="lambda process ready" function=(\w+) pid=\d+ cold_start_ms=([0-9.]+)`)

// BenchmarkChatColdStart measures the cold start of the chat's Node.js
// functions as a user meets it: a fresh gateway, one client connecting
// (OnConnect starts) and sending one message (SendMessage starts, loading the
// AWS SDK). It reports each function's time from spawn to its first Runtime
// API poll (the runner's log), and the first round trip as the client sees it.
//
//	go test ./cmd/wsgw -run '^$' -bench ChatColdStart -benchtime 10x
func BenchmarkChatColdStart(b *testing.B) {
	requireChat(b)
	sums := map[string]float64{}
	var first time.Duration
	for b.Loop() {
		url, _, stderr, stop := chatServer(b)
		t0 := time.Now()
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"sendmessage","data":"x"}`)); err != nil {
			b.Fatal(err)
		}
		if got := chatRecv(b, ws); got != "x" {
			b.Fatalf("got %q", got)
		}
		first += time.Since(t0)
		ws.Close()
		seen := map[string]bool{}
		for _, m := range coldStart.FindAllStringSubmatch(stderr.String(), -1) {
			if v, err := strconv.ParseFloat(m[2], 64); err == nil && !seen[m[1]] {
				seen[m[1]] = true
				sums[m[1]] += v
			}
		}
		stop()
	}
	for fn, sum := range sums {
		b.ReportMetric(sum/float64(b.N), fn+"-cold-ms")
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "connect+first-msg-ms")
}

// BenchmarkChatExample measures the chat example's sendmessage round trip:
// each of N clients sends {"action":"sendmessage"} and waits for its own
// message to come back through the SendMessage function and the @connections
// API (over TLS), while receiving everyone else's. msgs/s counts round trips
// (each one is N frames delivered).
//
//	go test ./cmd/wsgw -run '^$' -bench ChatExample -benchtime 5s
func BenchmarkChatExample(b *testing.B) {
	requireChat(b)
	for _, clients := range []int{2, 4, 8} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			url, _, stderr, stop := chatServer(b)
			defer stop()
			conns := make([]*websocket.Conn, clients)
			for i := range conns {
				ws, _, err := websocket.DefaultDialer.Dial(url, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer ws.Close()
				conns[i] = ws
			}
			// Warm up: every client's first round trip (cold starts), with everyone reading.
			var wg sync.WaitGroup
			roundTrips := func(i, n int) {
				defer wg.Done()
				ws := conns[i]
				for k := 0; k < n; k++ {
					mine := fmt.Sprintf("c%d-%d", i, k)
					if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"sendmessage","data":"`+mine+`"}`)); err != nil {
						b.Error(err)
						return
					}
					for {
						_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
						_, data, err := ws.ReadMessage()
						if err != nil {
							b.Error(err)
							return
						}
						if string(data) == mine {
							break
						}
					}
				}
			}
			wg.Add(clients)
			for i := range conns {
				go roundTrips(i, 1)
			}
			wg.Wait()
			b.ResetTimer()
			start := time.Now()
			per := (b.N + clients - 1) / clients
			wg.Add(clients)
			for i := range conns {
				go roundTrips(i, per)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(per*clients)/elapsed.Seconds(), "msgs/s")
			if testing.Verbose() {
				b.Logf("gateway log:\n%s", stderr)
			}
			// Reader goroutines of the other clients: drain what is left.
			for _, ws := range conns {
				ws.Close()
			}
		})
	}
}
