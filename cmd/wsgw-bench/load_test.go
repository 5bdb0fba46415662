package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// runLoadJSON runs -mode load with args and hooks and returns its exit status
// and report.
func runLoadJSON(t *testing.T, hooks loadHooks, args ...string) (int, *loadReport, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	o, err := parseFlags(append([]string{"-mode", "load", "-json"}, args...), &stderr)
	if err != nil {
		t.Fatalf("flags: %v", err)
	}
	code := runLoad(context.Background(), o, &stdout, &stderr, hooks)
	var rep loadReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, report is not JSON: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
	}
	return code, &rep, stderr.String()
}

// shortLoad: 2 connections sending 60 messages/s each for 0.4 s, about 24
// messages each, every one checked.
var shortLoad = []string{"-conns", "2", "-conn-rate", "60", "-duration", "400ms", "-warmup", "0s", "-timeout", "3s"}

// TestLoadClean runs the load against the in-process gateway: every message
// comes back once, in order, by its route; every $connect has its
// $disconnect; the memory is this process's.
func TestLoadClean(t *testing.T) {
	for _, route := range []string{"mix", "echo", "post"} {
		t.Run(route, func(t *testing.T) {
			t.Parallel()
			code, rep, stderr := runLoadJSON(t, loadHooks{}, append(shortLoad, "-route", route)...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s\nerrors: %v", code, stderr, rep.FirstErrors)
			}
			if c := rep.Connections; c.Opened != 2 || c.Connects != 2 || c.Disconnects != 2 {
				t.Errorf("connections %+v, want 2 opened, 2 $connect, 2 $disconnect", c)
			}
			m := rep.Messages
			if m.Sent < 20 || m.Received != m.Sent || m.Measured != m.Sent || m.Rate <= 0 {
				t.Errorf("messages %+v: want about 48 sent, all received and measured", m)
			}
			for _, k := range kindNames {
				s, ok := rep.Streams[k]
				if want := route == "mix" || route == k; ok != want {
					t.Errorf("stream %s present %v, want %v", k, ok, want)
					continue
				}
				if ok && (s.Sent == 0 || s.Received != s.Sent || s.Lost+s.Duplicated+s.Reordered != 0) {
					t.Errorf("stream %s: %+v", k, s)
				}
			}
			if l := rep.Latency; l == nil || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
				t.Errorf("latency %+v: want 0 < p50 <= p99 <= max", l)
			}
			if mem := rep.Memory; mem == nil || !strings.HasPrefix(mem.Source, "this process") || mem.Open.RSSKB <= 0 || mem.Open.HeapInuseKB <= 0 {
				t.Errorf("memory %+v: want this process's rss and heap", mem)
			}
		})
	}
}

// counted wraps h: the nth request (from 1) to path goes to fault instead.
func counted(path string, n int64, h http.Handler, fault http.HandlerFunc) http.Handler {
	var seen atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path && seen.Add(1) == n {
			fault(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TestLoadDetects injects faults through the backend: a message lost, one
// sent twice, two swapped, on either way back; the report must count
// exactly that fault on that route, and the run fail.
func TestLoadDetects(t *testing.T) {
	type want struct {
		route                      string
		lost, duplicated, reorderd int64
	}
	tests := []struct {
		name  string
		route string
		hook  func(lb *loadBackend, h http.Handler) http.Handler
		want  want
	}{
		{
			name: "route response lost", route: "echo",
			hook: func(lb *loadBackend, h http.Handler) http.Handler {
				// A two-way route sends nothing for an empty body (SPEC ).
				return counted("/echo", 3, h, func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
			},
			want: want{route: "echo", lost: 1},
		},
		{
			name: "post lost", route: "post",
			hook: func(lb *loadBackend, h http.Handler) http.Handler {
				return counted("/post", 3, h, func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
			},
			want: want{route: "post", lost: 1},
		},
		{
			name: "post duplicated", route: "mix",
			hook: func(lb *loadBackend, h http.Handler) http.Handler {
				return counted("/post", 3, h, func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					id := r.Header.Get("X-Connection-Id")
					for range 2 {
						if err := lb.post(r.Context(), id, body); err != nil {
							t.Error(err)
						}
					}
				})
			},
			want: want{route: "post", duplicated: 1},
		},
		{
			name: "route response duplicated", route: "echo",
			hook: func(lb *loadBackend, h http.Handler) http.Handler {
				// The echo also posts the message: it comes back twice.
				return counted("/echo", 3, h, func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					if err := lb.post(r.Context(), r.Header.Get("X-Connection-Id"), body); err != nil {
						t.Error(err)
					}
					_, _ = w.Write(body)
				})
			},
			want: want{route: "echo", duplicated: 1},
		},
		{
			name: "posts reordered", route: "post", hook: swapPosts(t, 3),
			want: want{route: "post", reorderd: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, rep, _ := runLoadJSON(t, loadHooks{backend: tt.hook}, append(shortLoad, "-route", tt.route)...)
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			var total kindStats
			for k, s := range rep.Streams {
				total.add(s)
				if k != tt.want.route && s.Lost+s.Duplicated+s.Reordered != 0 {
					t.Errorf("stream %s: %+v, want no fault", k, s)
				}
			}
			s := rep.Streams[tt.want.route]
			if s.Lost != tt.want.lost || s.Duplicated != tt.want.duplicated || s.Reordered != tt.want.reorderd {
				t.Errorf("stream %s: lost %d duplicated %d reordered %d, want %d %d %d (errors %v)", tt.want.route,
					s.Lost, s.Duplicated, s.Reordered, tt.want.lost, tt.want.duplicated, tt.want.reorderd, rep.FirstErrors)
			}
			if rep.Errors != 1 || len(rep.FirstErrors) != 1 {
				t.Errorf("errors %d %v, want exactly the one fault", rep.Errors, rep.FirstErrors)
			}
			if total.Sent < 20 {
				t.Errorf("only %d messages sent", total.Sent)
			}
		})
	}
}

// swapPosts holds back the nth post and makes it after the next post of the
// same connection.
func swapPosts(t *testing.T, n int64) func(lb *loadBackend, h http.Handler) http.Handler {
	return func(lb *loadBackend, h http.Handler) http.Handler {
		var mu sync.Mutex
		var seen int64
		held := map[string][]byte{}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/post" {
				h.ServeHTTP(w, r)
				return
			}
			body, _ := io.ReadAll(r.Body)
			id := r.Header.Get("X-Connection-Id")
			mu.Lock()
			seen++
			if seen == n {
				held[id] = body
				mu.Unlock()
				return
			}
			prev, ok := held[id]
			delete(held, id)
			mu.Unlock()
			if err := lb.post(r.Context(), id, body); err != nil {
				t.Error(err)
			}
			if ok {
				if err := lb.post(r.Context(), id, prev); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// freeAddr returns a 127.0.0.1 address nobody listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestLoadExternal drives a gateway the tool did not start, whose template
// points at the backend address the tool then listens on, and reads the
// memory of the process -gateway-pid names (this one, here).
func TestLoadExternal(t *testing.T) {
	backendAddr := freeAddr(t)
	g, wsURL, err := startLoadGateway("http://"+backendAddr, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	code, rep, stderr := runLoadJSON(t, loadHooks{}, append(shortLoad, "-gateway", wsURL, "-backend-listen", backendAddr,
		"-gateway-pid", itoa(os.Getpid()))...)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s\nerrors: %v", code, stderr, rep.FirstErrors)
	}
	if rep.Config.InProcess || rep.Config.Gateway != wsURL || rep.Config.Backend != "http://"+backendAddr {
		t.Errorf("config %+v", rep.Config)
	}
	if mem := rep.Memory; mem == nil || !strings.HasPrefix(mem.Source, "gateway process "+itoa(os.Getpid())) ||
		mem.Open.RSSKB <= 0 || mem.Open.HeapInuseKB != 0 {
		t.Errorf("memory %+v: want the rss of process %d and no heap", mem, os.Getpid())
	}
	if rep.Messages.Received == 0 || rep.Messages.Received != rep.Messages.Sent {
		t.Errorf("messages %+v", rep.Messages)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestLoadIdle holds idle connections: nothing is sent, nothing is lost,
// and the per-connection memory is computed.
func TestLoadIdle(t *testing.T) {
	code, rep, stderr := runLoadJSON(t, loadHooks{}, "-conns", "50", "-rate", "0", "-duration", "200ms", "-warmup", "0s")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s\nerrors: %v", code, stderr, rep.FirstErrors)
	}
	if rep.Connections.Opened != 50 || rep.Connections.Disconnects != 50 || rep.Messages.Sent != 0 || rep.Latency != nil {
		t.Errorf("connections %+v messages %+v latency %v", rep.Connections, rep.Messages, rep.Latency)
	}
	if rep.Memory == nil || rep.Memory.Open.Goroutines < 50 {
		t.Errorf("memory %+v: want the goroutines of 50 connections", rep.Memory)
	}
}

// TestLoadSIGTERM builds and runs the real 'wsgw serve' on load.yaml, loads
// it, and stops it with SIGTERM while messages flow: wsgw must exit 0 after
// every connection's $disconnect ran (SPEC ), which the load
// backend counts.
func TestLoadSIGTERM(t *testing.T) {
	if goruntime.GOOS == "windows" {
		t.Skip("SIGTERM")
	}
	bin := wsgwBinary(t)
	backendAddr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--no-throttle", "--no-watch", "--addr", "127.0.0.1:0",
		"--param", "BackendUrl=http://"+backendAddr, "load.yaml")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	wsURL := readStageURL(t, stdout)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	const conns = 40
	o, err := parseFlags([]string{"-mode", "load", "-json", "-conns", itoa(conns), "-conn-rate", "50", "-duration", "3s",
		"-warmup", "0s", "-timeout", "5s", "-gateway", wsURL, "-backend-listen", backendAddr,
		"-gateway-pid", itoa(cmd.Process.Pid)}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// SIGTERM once the connections are open and messages flow.
	hooks, flowing := flowingHook(conns)
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		runLoad(context.Background(), o, &out, io.Discard, hooks)
	}()
	select {
	case <-flowing:
	case <-done:
		t.Fatalf("the load ended before all %d connections were open and messages flowed:\n%s", conns, out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	werr := make(chan error, 1)
	go func() { werr <- cmd.Wait() }()
	select {
	case err := <-werr:
		if err != nil {
			t.Errorf("wsgw serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("wsgw serve did not exit after SIGTERM\n%s", stderr.String())
	}
	<-done
	var rep loadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	c := rep.Connections
	if c.Opened != conns || c.Connects != conns || c.Disconnects != conns {
		t.Errorf("connections %+v: want %d opened, %d $connect and %d $disconnect", c, conns, conns, conns)
	}
	if rep.Messages.Received == 0 {
		t.Errorf("no message came back before SIGTERM: %+v", rep.Messages)
	}
	// The messages under way when wsgw stopped may be lost, and the clients
	// see their connections closed: the run reports errors, not silence.
	if rep.Errors == 0 {
		t.Errorf("no error reported although the gateway went away: %+v", rep.ErrorKinds)
	}
	if n := strings.Count(stderr.String(), "msg=disconnect"); n != conns {
		t.Errorf("wsgw logged %d disconnects, want %d", n, conns)
	}
}

// flowingHook returns hooks that close flowing once the backend has seen
// conns $connect calls and a message has come back to its client after them.
func flowingHook(conns int64) (hooks loadHooks, flowing <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	var all atomic.Bool
	hooks.backend = func(lb *loadBackend, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r)
			if lb.connects.Load() >= conns {
				all.Store(true)
			}
		})
	}
	hooks.received = func() {
		if all.Load() {
			once.Do(func() { close(ch) })
		}
	}
	return hooks, ch
}

// readStageURL reads wsgw serve's banner until the stage's WebSocket URL.
func readStageURL(t *testing.T, r io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		var line []byte
		b := make([]byte, 1)
		for {
			if _, err := r.Read(b); err != nil {
				found <- ""
				return
			}
			if b[0] != '\n' {
				line = append(line, b[0])
				continue
			}
			if f := strings.Fields(string(line)); len(f) == 2 && f[0] == "WebSocket" {
				found <- f[1]
				return
			}
			line = line[:0]
		}
	}()
	select {
	case u := <-found:
		if u == "" {
			t.Fatal("wsgw serve printed no WebSocket URL")
		}
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("wsgw serve printed no WebSocket URL within 10 s")
	}
	return ""
}

func TestConnectionsURLOf(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"ws://127.0.0.1:3001/load", "http://127.0.0.1:3001/load/@connections/", ""},
		{"ws://127.0.0.1:3001/load/", "http://127.0.0.1:3001/load/@connections/", ""},
		{"ws://127.0.0.1:3001/", "http://127.0.0.1:3001/@connections/", ""},
		{"wss://localhost:443/prod", "https://localhost:443/prod/@connections/", ""},
		{"http://127.0.0.1:3001/load", "", `"http://127.0.0.1:3001/load" is not a ws:// URL`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := connectionsURLOf(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestReadRSS reads this process's resident set, and fails for a process
// that does not exist.
func TestReadRSS(t *testing.T) {
	kb, err := readRSS(0)
	if err != nil || kb <= 0 {
		t.Fatalf("readRSS(0) = %d, %v", kb, err)
	}
	if own, err := readRSS(os.Getpid()); err != nil || own <= 0 {
		t.Errorf("readRSS(own pid) = %d, %v", own, err)
	}
	if _, err := readRSS(1 << 30); err == nil {
		t.Error("readRSS of a missing process: want an error")
	}
}
