package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// BenchmarkClusterPost measures @connections POSTs to a connection of node
// a, sent through a itself (local) or through node b (cross-node: NATS
// request to a, frame written, reply), with a NATS server in the process:
// one sender at a time (p50 and p99 of each POST until its 200) and 16 at
// once (throughput).
func BenchmarkClusterPost(b *testing.B) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats-server did not start")
	}
	defer ns.Shutdown()
	ids := make(chan string, 64)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ids <- r.Header.Get("X-Id") }))
	defer be.Close()
	p := testPlan(actionSel, route("$connect", httpInteg("C", be.URL, header("X-Id", ctxVar("connectionId")))))
	var nodes []*Gateway
	for _, name := range []string{"a", "b"} {
		o := testOptions()
		o.Throttling, o.Cluster, o.NodeName = false, ns.ClientURL(), name
		g, err := New(p, o)
		if err != nil {
			b.Fatal(err)
		}
		if err := g.Start(); err != nil {
			b.Fatal(err)
		}
		defer g.Shutdown(b.Context())
		nodes = append(nodes, g)
	}
	const senders = 16
	var conns []string
	for range senders {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+nodes[0].Addrs()[0]+"/dev", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		go func() { // read every frame
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
		conns = append(conns, <-ids)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	body := bytes.Repeat([]byte("x"), 128)
	post := func(via *Gateway, id string) error {
		resp, err := client.Post("http://"+via.Addrs()[0]+"/dev/@connections/"+id, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST answered %d", resp.StatusCode)
		}
		return nil
	}
	for _, tc := range []struct {
		name string
		via  *Gateway
	}{{"local", nodes[0]}, {"cross-node", nodes[1]}} {
		b.Run(tc.name+"/sequential", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				if err := post(tc.via, conns[0]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
		b.Run(fmt.Sprintf("%s/senders=%d", tc.name, senders), func(b *testing.B) {
			var wg sync.WaitGroup
			start := time.Now()
			per := b.N/senders + 1
			for _, id := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						if err := post(tc.via, id); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(per*senders)/time.Since(start).Seconds(), "posts/s")
		})
	}
}

// BenchmarkIdleConnMemoryCluster is BenchmarkIdleConnMemory for a cluster
// node: heap-B/conn with clustering off and on (the NATS server runs in this
// process too, so "on" includes the server's share of each subscription).
// Run it with -benchtime=1x.
func BenchmarkIdleConnMemoryCluster(b *testing.B) {
	const idleConns = 2000
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats-server did not start")
	}
	defer ns.Shutdown()
	gateway := func(cluster string) func() (string, func()) {
		return func() (string, func()) {
			o := testOptions()
			o.Cluster = cluster
			g, err := New(testPlan(actionSel), o)
			if err != nil {
				b.Fatal(err)
			}
			if err := g.Start(); err != nil {
				b.Fatal(err)
			}
			return g.Addrs()[0], func() { _ = g.Shutdown(context.Background()) }
		}
	}
	for b.Loop() {
		off, _ := measureIdle(b, idleConns, gateway(""), true)
		on, _ := measureIdle(b, idleConns, gateway(ns.ClientURL()), true)
		b.ReportMetric(off, "off-heap-B/conn")
		b.ReportMetric(on, "on-heap-B/conn")
	}
}
