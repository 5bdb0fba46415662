package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

// BenchmarkRoundTrip measures a message through a two-way HTTP_PROXY route
// and back, over conns connections at once (b.N messages in all).
func BenchmarkRoundTrip(b *testing.B) {
	for _, conns := range []int{1, 16, 128} {
		b.Run("conns="+strconv.Itoa(conns), func(b *testing.B) {
			be := newBenchBackend(b)
			p := testPlan(actionSel, twoWay(route("echo", httpInteg("Echo", be,
				header("X-Id", ctxVar("connectionId")),
				header("X-N", compile.Source{Kind: compile.SourceBody, Path: []string{"n"}})))))
			benchRoundTrips(b, p, conns, []byte(`{"action":"echo","n":12345,"text":"hello, world"}`), "")
		})
	}
}

// BenchmarkRoundTripHTTP measures a message through a two-way non-proxy
// HTTP route (httpAPI's send: a template chosen by a selection expression,
// a header and a query string mapped, an integration response's template
// rendering the answer), over conns connections at once.
func BenchmarkRoundTripHTTP(b *testing.B) {
	for _, conns := range []int{1, 16} {
		b.Run("conns="+strconv.Itoa(conns), func(b *testing.B) {
			be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				_, _ = w.Write([]byte(`{"count": 2}`))
			}))
			b.Cleanup(be.Close)
			p, ds := compile.Build("template.yaml", []byte(httpAPI), template.Options{}, compile.Options{Integrations: map[string]string{
				"ConnectHttp": be.URL + "/connect", "SendHttp": be.URL + "/send"}})
			if p == nil {
				b.Fatalf("template does not compile:\n%v", ds)
			}
			benchRoundTrips(b, p, conns, []byte(`{"action": "send", "kind": "chat", "to": ["a", "b"], "text": "hello"}`),
				`{"delivered": 2, "status": "ok"}`)
		})
	}
}

// benchRoundTrips serves p and sends msg b.N times over conns connections at
// once, each waiting for the answer to one message before sending the next;
// want, when set, is the answer each must be.
func benchRoundTrips(b *testing.B, p *compile.Plan, conns int, msg []byte, want string) {
	o := testOptions()
	o.Throttling = false
	g, err := New(p, o)
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Start(); err != nil {
		b.Fatal(err)
	}
	defer g.Shutdown(b.Context())
	clients := make([]*websocket.Conn, conns)
	for i := range clients {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		clients[i] = ws
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / conns
	for i, ws := range clients {
		n := per
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
				_, got, err := ws.ReadMessage()
				if err != nil {
					b.Error(err)
					return
				}
				if want != "" && string(got) != want {
					b.Errorf("got %q, want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// newBenchBackend is an echo backend without the test backend's recording.
func newBenchBackend(b *testing.B) string {
	s := newEchoServer()
	b.Cleanup(s.Close)
	return s.URL
}

// BenchmarkSelect measures route selection on a typical message.
func BenchmarkSelect(b *testing.B) {
	sel := newRouteSelection(compile.Selection{Parts: []compile.SelectionPart{bodyPath("service"), text("/"), bodyPath("action")}})
	msg := []byte(`{"service":"chat","action":"send","data":{"text":"hello","to":["a","b"]},"n":1.5}`)
	b.ReportAllocs()
	for b.Loop() {
		if !jsonValid(msg) || selectRouteKey(sel, msg) != "chat/send" {
			b.Fatal("bad selection")
		}
	}
}

// BenchmarkIdleConnMemory reports what an idle connection holds in the
// gateway: idleConns raw clients complete the handshake and stay silent, and
// the growth of HeapInuse and StackInuse after a GC is divided by their
// number. The same measure for bare TCP connection pairs (a listener that
// only accepts) is reported beside it, so heap-B/conn minus tcp-heap-B/conn
// is the gateway's own share. Run it with -benchtime=1x; each iteration
// measures anew.
func BenchmarkIdleConnMemory(b *testing.B) {
	const idleConns = 2000
	for b.Loop() {
		tcpHeap, tcpStack := measureIdle(b, idleConns, func() (string, func()) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var held []net.Conn
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					held = append(held, c)
				}
			}()
			return ln.Addr().String(), func() {
				ln.Close()
				<-done
				for _, c := range held {
					c.Close()
				}
			}
		}, false)
		heap, stack := measureIdle(b, idleConns, func() (string, func()) {
			o := testOptions()
			g, err := New(testPlan(actionSel), o)
			if err != nil {
				b.Fatal(err)
			}
			if err := g.Start(); err != nil {
				b.Fatal(err)
			}
			return g.Addrs()[0], func() { _ = g.Shutdown(context.Background()) }
		}, true)
		b.ReportMetric(heap, "heap-B/conn")
		b.ReportMetric(stack, "stack-B/conn")
		b.ReportMetric(tcpHeap, "tcp-heap-B/conn")
		b.ReportMetric(tcpStack, "tcp-stack-B/conn")
	}
}

// measureIdle starts a server, opens n connections to it (WebSocket
// handshakes when handshake is set) and returns the heap and stack in use
// per connection once they are established and idle.
func measureIdle(b *testing.B, n int, start func() (addr string, stop func()), handshake bool) (heap, stack float64) {
	addr, stop := start()
	defer stop()
	before := memInUse()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		if handshake {
			if err := rawHandshake(c, addr, "/dev"); err != nil {
				b.Fatal(err)
			}
		}
	}
	time.Sleep(200 * time.Millisecond) // let the accept loops settle
	after := memInUse()
	return float64(after.heap-before.heap) / float64(n), float64(after.stack-before.stack) / float64(n)
}

type memUse struct{ heap, stack int64 }

func memInUse() memUse {
	goruntime.GC()
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return memUse{heap: int64(ms.HeapInuse), stack: int64(ms.StackInuse)}
}

// rawHandshake opens a WebSocket on c by hand, so the client side holds
// nothing but the socket.
func rawHandshake(c net.Conn, host, path string) error {
	_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if err != nil {
		return err
	}
	var resp []byte
	var one [1]byte
	for !bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
		if _, err := c.Read(one[:]); err != nil {
			return err
		}
		resp = append(resp, one[0])
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 101 ")) {
		return fmt.Errorf("handshake: %q", resp)
	}
	return nil
}
