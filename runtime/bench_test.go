package runtime

import (
	"strconv"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
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
			msg := []byte(`{"action":"echo","n":12345,"text":"hello, world"}`)
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
						if _, _, err := ws.ReadMessage(); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// newBenchBackend is an echo backend without the test backend's recording.
func newBenchBackend(b *testing.B) string {
	s := newEchoServer()
	b.Cleanup(s.Close)
	return s.URL
}

// BenchmarkSelect measures route selection on a typical message.
func BenchmarkSelect(b *testing.B) {
	sel := compile.Selection{Parts: []compile.SelectionPart{bodyPath("service"), text("/"), bodyPath("action")}}
	msg := []byte(`{"service":"chat","action":"send","data":{"text":"hello","to":["a","b"]},"n":1.5}`)
	b.ReportAllocs()
	for b.Loop() {
		doc, ok := parseBody(msg)
		if !ok || selectRouteKey(sel, doc) != "chat/send" {
			b.Fatal("bad selection")
		}
	}
}
