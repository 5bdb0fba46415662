package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestMain runs this test binary as a child of -mode proxy (the echo
// backend or the floor proxy) when it is started as one (startChild).
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role, os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	if wsgwBuild.dir != "" {
		os.RemoveAll(wsgwBuild.dir)
	}
	os.Exit(code)
}

// wsgwBuild is the wsgw binary built once for the tests that run it.
var wsgwBuild struct {
	once sync.Once
	dir  string
	err  error
}

// wsgwBinary builds cmd/wsgw (once per test process) and returns its path.
func wsgwBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the wsgw binary")
	}
	wsgwBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "wsgw-bench-test-")
		if err != nil {
			wsgwBuild.err = err
			return
		}
		wsgwBuild.dir = dir
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "wsgw"), "github.com/wsgw/wsgw/cmd/wsgw").CombinedOutput()
		if err != nil {
			wsgwBuild.err = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if wsgwBuild.err != nil {
		t.Fatal(wsgwBuild.err)
	}
	return filepath.Join(wsgwBuild.dir, "wsgw")
}

// The floor proxy answers each frame with what the backend answered to its
// POST, in order, as a frame of the same type; a backend that fails closes
// the connection.
func TestFloorProxy(t *testing.T) {
	var calls atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(body) == "fail" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		calls.Add(1)
		w.Write(append(append([]byte("<"), body...), '>'))
	}))
	defer backend.Close()
	floor := httptest.NewServer(floorHandler(backend.URL, 4, 5*time.Second))
	defer floor.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(floor.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i, c := range []struct {
		typ  int
		send string
	}{{websocket.TextMessage, "a"}, {websocket.TextMessage, "bb"}, {websocket.BinaryMessage, "\x00\x01"}} {
		if err := ws.WriteMessage(c.typ, []byte(c.send)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if typ != c.typ || string(got) != "<"+c.send+">" {
			t.Errorf("message %d: got type %d %q, want type %d %q", i, typ, got, c.typ, "<"+c.send+">")
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("backend called %d times, want 3", n)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("fail")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := ws.ReadMessage(); err == nil {
		t.Errorf("after a failed backend call: got %q, want the connection closed", got)
	}
}

// The ratios pair the measures of the same round and connection count, per
// metric; a missing pair or a zero denominator (direct's proxy CPU) gives
// none.
func TestProxyRatios(t *testing.T) {
	ms := func(target string, round, conns int, rate, p99, cpu float64) measurement {
		return measurement{Target: target, Round: round, Conns: conns, Rate: rate, P99: p99, GwCPU: cpu, BeCPU: 20, ClCPU: 10}
	}
	all := []measurement{
		ms("wsgw", 1, 32, 8000, 6, 60), ms("floor", 1, 32, 10000, 4, 40), ms("direct", 1, 32, 16000, 3, 0),
		ms("wsgw", 2, 32, 9000, 5, 66), ms("floor", 2, 32, 10000, 5, 44), ms("direct", 2, 32, 20000, 2, 0),
		ms("wsgw", 1, 1, 3000, 1, 150), ms("floor", 1, 1, 4000, 0.5, 100),
		// round 2 at 1 connection has no floor: no wsgw/floor pair.
		ms("wsgw", 2, 1, 3500, 1, 150), ms("direct", 2, 1, 7000, 0.2, 0),
	}
	got := map[string]ratioReport{}
	for _, r := range proxyRatios(all, []int{32, 1}) {
		got[r.Num+"/"+r.Den+" "+r.Metric+" "+itoa(r.Conns)] = r
	}
	want := map[string][]float64{
		"wsgw/floor messages_per_s 32":           {0.8, 0.9},
		"wsgw/floor p99_ms 32":                   {1, 1.5},
		"wsgw/floor proxy_cpu_us_per_message 32": {1.5, 1.5},
		"wsgw/direct messages_per_s 32":          {0.45, 0.5},
		"wsgw/direct p99_ms 32":                  {2, 2.5},
		"floor/direct messages_per_s 32":         {0.5, 0.625},
		"floor/direct p99_ms 32":                 {1.333, 2.5},
		"wsgw/floor messages_per_s 1":            {0.75},
		"wsgw/floor p99_ms 1":                    {2},
		"wsgw/floor proxy_cpu_us_per_message 1":  {1.5},
		"wsgw/direct messages_per_s 1":           {0.5},
		"wsgw/direct p99_ms 1":                   {5},
		// client + proxy + backend
		"wsgw/floor all_cpu_us_per_message 32":   {1.286, 1.297},
		"wsgw/direct all_cpu_us_per_message 32":  {3, 3.2},
		"floor/direct all_cpu_us_per_message 32": {2.333, 2.467},
		"wsgw/floor all_cpu_us_per_message 1":    {1.385},
		"wsgw/direct all_cpu_us_per_message 1":   {6},
	}
	for k, w := range want {
		r, ok := got[k]
		if !ok {
			t.Errorf("%s: missing", k)
			continue
		}
		if !slices.Equal(r.Rounds, w) || r.Min != w[0] || r.Max != w[len(w)-1] {
			t.Errorf("%s: rounds %v min %v max %v, want %v", k, r.Rounds, r.Min, r.Max, w)
		}
	}
	if r := got["wsgw/floor messages_per_s 32"]; r.Median != 0.85 {
		t.Errorf("wsgw/floor at 32: median %v, want 0.85", r.Median)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected ratio %s: %+v", k, got[k])
		}
	}
}

// -serve-flags reach wsgw serve: one it does not know stops the run with
// wsgw's own word on it.
func TestProxyServeFlags(t *testing.T) {
	bin := wsgwBinary(t)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, []string{"-mode", "proxy", "-wsgw", bin, "-conns-list", "1", "-rounds", "1", "-duration", "100ms",
		"-serve-flags", "--no-such-flag"}, &stdout, &stderr, nil)
	if code == exitOK || !strings.Contains(stderr.String(), "no-such-flag") {
		t.Fatalf("exit %d, want a failure naming the flag; stderr:\n%s", code, stderr.String())
	}
}

// TestProxyMode runs -mode proxy for real, briefly: the built wsgw binary
// (also as wsgw-cmp), the floor proxy and the echo backend each in a process
// of their own, two rounds at 2 and 1 connections. Every target answers
// every message with its echo, and each ratio is the quotient of the
// measures of its round.
func TestProxyMode(t *testing.T) {
	bin := wsgwBinary(t)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, []string{"-mode", "proxy", "-json", "-wsgw", bin, "-wsgw-compare", bin, "-conns-list", "2,1",
		"-rounds", "2", "-duration", "250ms", "-warmup", "20ms", "-timeout", "5s", "-serve-flags", "--log-level warn"}, &stdout, &stderr, nil)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	var rep proxyReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout.String())
	}
	if rep.Config.ServeFlags != "--log-level warn" {
		t.Errorf("serve flags %q, want --log-level warn", rep.Config.ServeFlags)
	}
	if want := []string{"wsgw", "wsgw-cmp", "floor", "direct"}; !slices.Equal(rep.Config.Targets, want) {
		t.Errorf("targets %v, want %v", rep.Config.Targets, want)
	}
	if len(rep.Measures) != 4*2*2 {
		t.Fatalf("%d measures, want 16: %+v", len(rep.Measures), rep.Measures)
	}
	byKey := map[string]measurement{}
	for _, m := range rep.Measures {
		if m.Rate <= 0 || m.Errors != 0 || m.P50 <= 0 || m.P50 > m.P99 {
			t.Errorf("%s round %d at %d connections: %+v, want messages, no error, 0 < p50 <= p99", m.Target, m.Round, m.Conns, m)
		}
		byKey[m.Target+" "+itoa(m.Round)+" "+itoa(m.Conns)] = m
	}
	// /proc counts in 10 ms ticks: a phase may show none, all of them not.
	var proxyCPU, backendCPU float64
	for _, m := range rep.Measures {
		if m.Target == "direct" && m.GwCPU != 0 {
			t.Errorf("direct: proxy CPU %v, want none", m.GwCPU)
		}
		proxyCPU += m.GwCPU
		backendCPU += m.BeCPU
	}
	if proxyCPU <= 0 || backendCPU <= 0 {
		t.Errorf("CPU per message: proxies %v µs, backend %v µs in all; want both read from /proc", proxyCPU, backendCPU)
	}
	rates := 0
	for _, r := range rep.Ratios {
		if r.Metric != "messages_per_s" {
			continue
		}
		rates++
		var want []float64
		for _, round := range []string{"1", "2"} {
			n, d := byKey[r.Num+" "+round+" "+itoa(r.Conns)], byKey[r.Den+" "+round+" "+itoa(r.Conns)]
			want = append(want, float64(int64(n.Rate/d.Rate*1000+0.5))/1000)
		}
		slices.Sort(want)
		if !slices.Equal(r.Rounds, want) {
			t.Errorf("%s/%s at %d: rounds %v, want %v", r.Num, r.Den, r.Conns, r.Rounds, want)
		}
	}
	// wsgw, wsgw-cmp over floor and direct, floor/direct, wsgw/wsgw-cmp; at 2 and 1 connections.
	if rates != 6*2 {
		t.Errorf("%d msg/s ratios, want 12: %+v", rates, rep.Ratios)
	}
	if rep.LoadAverage[0] <= 0 && rep.LoadAverage[1] <= 0 {
		t.Errorf("load average %v: want it read", rep.LoadAverage)
	}
}
