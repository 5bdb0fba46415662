package inspect

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime"
	"github.com/wsgw/wsgw/template"
)

// BenchmarkEcho measures a message through a two-way HTTP_PROXY route and
// back over 16 connections, without an observer (the cost of the hook is a
// nil check) and with the inspector keeping every event while nobody
// watches (SPEC ). Compare the two with -count and benchstat.
func BenchmarkEcho(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		b.Run("inspector="+mode, func(b *testing.B) {
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(w, r.Body)
			}))
			defer backend.Close()
			p, ds := compile.Build("t.yaml", []byte(testTemplate), template.Options{Params: map[string]string{"Backend": backend.URL}, RequireParams: true}, compile.Options{})
			if p == nil || ds.HasErrors() {
				b.Fatal(ds)
			}
			o := runtime.DefaultOptions()
			o.Addr, o.Throttling = "127.0.0.1:0", false
			var in *Inspector
			if mode == "on" {
				in = New(Options{})
				o.Observer = in
			}
			g, err := runtime.New(p, o)
			if err != nil {
				b.Fatal(err)
			}
			if err := g.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = g.Shutdown(ctx)
			}()
			const conns = 16
			clients := make([]*websocket.Conn, conns)
			for i := range clients {
				ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
				if err != nil {
					b.Fatal(err)
				}
				defer ws.Close()
				clients[i] = ws
			}
			msg := []byte(`{"action":"echo","n":12345,"text":"hello, world"}`)
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			var wg sync.WaitGroup
			for i, ws := range clients {
				n := b.N / conns
				if i == 0 {
					n += b.N % conns
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range n {
						if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
							b.Error(err)
							return
						}
						if _, _, err := ws.ReadMessage(); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			// CPU time of the whole process (clients, gateway, backend) per
			// message: steadier than wall time on a machine others share.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/msg")
		})
	}
}

// BenchmarkObserve measures what the inspector does per message of a
// two-way route (message, route, integration request and response, frame)
// while nobody watches, on 16 connections at once.
func BenchmarkObserve(b *testing.B) {
	in := New(Options{})
	body := []byte(`{"action":"echo","n":12345,"text":"hello, world"}`)
	h := http.Header{"Content-Type": {"application/json"}}
	now := time.Now()
	ids := make([]string, 16)
	for i := range ids {
		ids[i] = fmt.Sprintf("conn%011d=", i)
		in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: ids[i], Time: now})
	}
	var next sync.Mutex
	k := 0
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		next.Lock()
		id := ids[k%len(ids)]
		k++
		next.Unlock()
		for pb.Next() {
			in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: id, Time: now, Body: body})
			in.Observe(runtime.Event{Kind: runtime.KindRoute, ConnectionID: id, Time: now, Key: "echo", Expr: "$request.body.action", Route: "echo", Why: runtime.WhyMatched})
			in.Observe(runtime.Event{Kind: runtime.KindIntegrationRequest, ConnectionID: id, Time: now, Method: "POST", URL: "http://127.0.0.1:1/echo", Header: h, Body: body})
			in.Observe(runtime.Event{Kind: runtime.KindIntegrationResponse, ConnectionID: id, Time: now, Status: 200, Header: h, Body: body, Latency: time.Millisecond})
			in.Observe(runtime.Event{Kind: runtime.KindFrame, ConnectionID: id, Time: now, Body: body})
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/message")
}

// BenchmarkObserveFresh is BenchmarkObserve with what the gateway does
// around it: every message's bodies and header maps are new, as the
// gateway's are, so that what the inspector keeps of them (and the garbage
// collector then marks) counts; with 16 connections, and with 2,000 whose
// timelines fill TotalEvents. cpu-ns/message is the process's CPU time, the
// collector's included.
func BenchmarkObserveFresh(b *testing.B) {
	for _, conns := range []int{16, 2000} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			before := liveHeap()
			in := New(Options{})
			now := time.Now()
			ids := make([]string, conns)
			for i := range ids {
				ids[i] = fmt.Sprintf("conn%011d=", i)
				in.Observe(runtime.Event{Kind: runtime.KindConnect, ConnectionID: ids[i], Time: now})
			}
			message := func(id string) {
				body := []byte(`{"action":"echo","n":12345,"text":"hello, world"}`)
				in.Observe(runtime.Event{Kind: runtime.KindMessage, ConnectionID: id, Time: now, Body: body})
				in.Observe(runtime.Event{Kind: runtime.KindRoute, ConnectionID: id, Time: now, Key: "echo", Expr: "$request.body.action", Route: "echo", Why: runtime.WhyMatched})
				req := append([]byte(nil), body...)
				in.Observe(runtime.Event{Kind: runtime.KindIntegrationRequest, ConnectionID: id, Time: now, Method: "POST", URL: "http://127.0.0.1:1/echo",
					Header: http.Header{"Content-Type": {"application/json"}, "X-Connection-Id": {id}}, Body: req})
				resp := append([]byte(nil), body...)
				rh := http.Header{"Content-Type": {"application/json"}, "Content-Length": {"50"}, "Date": {"Sat, 05 Dec 2026 17:51:03 GMT"}}
				in.Observe(runtime.Event{Kind: runtime.KindIntegrationResponse, ConnectionID: id, Time: now, Status: 200, Header: rh, Body: resp, Latency: time.Millisecond})
				in.Observe(runtime.Event{Kind: runtime.KindFrame, ConnectionID: id, Time: now, Body: resp})
			}
			// Fill the timelines first: the inspector keeps what it keeps
			// of a busy gateway.
			for range DefaultTotalEvents / 5 / conns * 2 {
				for _, id := range ids {
					message(id)
				}
			}
			// What a full inspector holds (TotalEvents events).
			full := liveHeap() - before
			var next atomic.Int64
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					message(ids[next.Add(1)%int64(conns)])
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/message")
			b.ReportMetric(float64(full)/(1<<20), "MiB-kept")
		})
	}
}

// BenchmarkIdleConn measures what the inspector keeps of an idle
// connection of cmd/wsgw-bench/load.yaml: its handshake, the $connect
// integration's request and response, and connected (SPEC; issue
// 15's ≤ 10 KB per idle connection is the whole gateway's). What the
// gateway holds anyway (the id, source IP, user agent) is made before the
// heap is measured; b.N connections, B/conn is the live heap they add.
func BenchmarkIdleConn(b *testing.B) {
	in := New(Options{})
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("%015d=", i)
	}
	sourceIP, ua := "127.0.0.1", "Go-http-client/1.1"
	before := liveHeap()
	b.ResetTimer()
	for i, id := range ids {
		now := time.Now()
		req := fmt.Sprintf("%015dR", i) // the handshake's, which the gateway forgets
		in.Observe(runtime.Event{Kind: runtime.KindConnect, Time: now, ConnectionID: id, Api: "LoadApi", Stage: "load", RequestID: req,
			Route: "$connect", Method: "GET", URL: "/load", SourceIP: sourceIP, UserAgent: ua,
			Header: http.Header{"Connection": {"Upgrade"}, "Sec-Websocket-Key": {"nyZDWEdNJ/KsSglcc9a8mw=="}, "Sec-Websocket-Version": {"13"},
				"Upgrade": {"websocket"}, "User-Agent": {ua}}})
		in.Observe(runtime.Event{Kind: runtime.KindIntegrationRequest, Time: now.Add(60 * time.Microsecond), ConnectionID: id, Api: "LoadApi",
			Stage: "load", RequestID: req, Route: "$connect", Integration: "ConnectInteg", Method: "POST", URL: "http://127.0.0.1:9300/connect",
			Header: http.Header{"User-Agent": {"AmazonAPIGateway_igvcesqcwr"}, "X-Connection-Id": {id}}})
		in.Observe(runtime.Event{Kind: runtime.KindIntegrationResponse, Time: now.Add(900 * time.Microsecond), ConnectionID: id, Api: "LoadApi",
			Stage: "load", RequestID: req, Route: "$connect", Integration: "ConnectInteg", Status: 200, Latency: 832 * time.Microsecond,
			Header: http.Header{"Content-Length": {"0"}, "Date": {"Sat, 05 Dec 2026 17:51:03 GMT"}}})
		in.Observe(runtime.Event{Kind: runtime.KindConnected, Time: now.Add(time.Millisecond), ConnectionID: id, Api: "LoadApi", Stage: "load",
			RequestID: req, Route: "$connect", Integration: "ConnectInteg", Status: 101, Latency: time.Millisecond})
	}
	b.StopTimer()
	b.ReportMetric(float64(liveHeap()-before)/float64(b.N), "B/conn")
	goruntime.KeepAlive(ids)
	goruntime.KeepAlive(in)
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() int64 {
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
