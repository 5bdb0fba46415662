package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
)

// Fault scenarios (issue: prove wsgw under load and faults). Each one checks
// that the gateway answers as the SPEC says, keeps serving, and frees what
// the fault held: the connection, its $disconnect, its memory.

// faultPlan has $connect and $disconnect routes calling rec (/connect and
// /disconnect, with the connection id and the close code mapped) plus the
// routes given.
func faultPlan(rec *recorder, routes ...*compile.Route) *compile.Plan {
	all := append([]*compile.Route{
		route("$connect", httpInteg("Connect", rec.url+"/connect", header("X-Id", ctxVar("connectionId")))),
		route("$disconnect", httpInteg("Disconnect", rec.url+"/disconnect",
			header("X-Id", ctxVar("connectionId")), header("X-Code", ctxVar("disconnectStatusCode")))),
	}, routes...)
	return testPlan(actionSel, all...)
}

// isInternalError reports whether frame is the Internal server error frame (SPEC ).
func isInternalError(frame string) bool {
	return errorFrameRE("Internal server error").MatchString(frame)
}

// SPEC: a backend that is down is an integration error: the
// message gets Internal server error and the connection stays open; a
// $connect whose backend is down refuses the handshake with 502.
func TestFaultBackendDown(t *testing.T) {
	rec := newRecorder(t, nil)
	down := closedURL(t)
	up := newRecorder(t, echo)
	g := startGateway(t, faultPlan(rec,
		twoWay(route("down", httpInteg("Down", down))),
		route("downOneWay", httpInteg("DownOneWay", down)),
		twoWay(route("up", httpInteg("Up", up.url)))), nil)
	ws := dial(t, g, "/dev")
	for range 3 {
		for _, action := range []string{"down", "downOneWay"} {
			send(t, ws, `{"action":"`+action+`"}`)
			if got := recv(t, ws); !isInternalError(got) {
				t.Fatalf("%s: got %q, want Internal server error", action, got)
			}
		}
		send(t, ws, `{"action":"up"}`)
		if got := recv(t, ws); got != `{"action":"up"}` {
			t.Fatalf("after the errors: got %q, want the echo", got)
		}
	}

	t.Run("$connect", func(t *testing.T) {
		p := testPlan(actionSel, route("$connect", httpInteg("Connect", down)))
		g := startGateway(t, p, nil)
		_, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addrs()[0]+"/dev", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("dial: %v %v, want the handshake refused with 502", err, resp)
		}
	})
}

// SPEC: a backend slower than TimeoutInMillis is
// abandoned at the timeout; the client gets Endpoint request timed out then the
// answers to its next messages, in order, and the connection stays open.
func TestFaultBackendSlow(t *testing.T) {
	rec := newRecorder(t, nil)
	abandoned := make(chan struct{}, 10)
	slow := newRecorder(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
			abandoned <- struct{}{} // the gateway gave up the call
		}
	})
	fast := newRecorder(t, echo)
	in := httpInteg("Slow", slow.url)
	in.TimeoutMillis = 200
	g := startGateway(t, faultPlan(rec, twoWay(route("slow", in)), twoWay(route("fast", httpInteg("Fast", fast.url)))), nil)
	ws := dial(t, g, "/dev")

	start := time.Now()
	send(t, ws, `{"action":"slow"}`)
	send(t, ws, `{"action":"fast","n":1}`)
	send(t, ws, `{"action":"fast","n":2}`)
	if got := recv(t, ws); !errorFrameRE("Endpoint request timed out").MatchString(got) {
		t.Fatalf("got %q, want Endpoint request timed out", got)
	}
	// Not before the timeout (a lower bound a slow machine cannot break;
	// no upper bound: that the call was abandoned at all is checked below).
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("the error came after %s, before the 200 ms timeout", d)
	}
	for _, want := range []string{`{"action":"fast","n":1}`, `{"action":"fast","n":2}`} {
		if got := recv(t, ws); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	select {
	case <-abandoned:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend never saw the gateway abandon the call")
	}
}

// resetting answers the way a crashing backend does: how says what it
// writes before the TCP connection is reset (RST, not FIN).
func resetting(t *testing.T, how string) string {
	return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		switch how {
		case "mid-body":
			_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"partial\":")
		case "mid-headers":
			_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Ty")
		case "mid-chunk":
			_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\nabc")
		}
		_ = brw.Flush()
		time.Sleep(10 * time.Millisecond)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		c.Close()
	}))
}

// SPEC: a backend that resets the connection before or during its
// response is an integration error; the connection stays open.
func TestFaultBackendReset(t *testing.T) {
	rec := newRecorder(t, nil)
	ok := newRecorder(t, echo)
	var routes []*compile.Route
	hows := []string{"before-response", "mid-headers", "mid-body", "mid-chunk"}
	for _, how := range hows {
		routes = append(routes, twoWay(route(how, httpInteg("Reset"+strings.ReplaceAll(how, "-", ""), resetting(t, how)))))
	}
	routes = append(routes, route("oneway", httpInteg("ResetOneWay", resetting(t, "before-response"))),
		twoWay(route("ok", httpInteg("Ok", ok.url))))
	g := startGateway(t, faultPlan(rec, routes...), nil)
	ws := dial(t, g, "/dev")
	for _, how := range append(hows, "oneway") {
		t.Run(how, func(t *testing.T) {
			send(t, ws, `{"action":"`+how+`"}`)
			if got := recv(t, ws); !isInternalError(got) {
				t.Fatalf("got %q, want Internal server error", got)
			}
			send(t, ws, `{"action":"ok"}`)
			if got := recv(t, ws); got != `{"action":"ok"}` {
				t.Fatalf("after the reset: got %q, want the echo", got)
			}
		})
	}
}

// A backend answering 5 MB: on a two-way route the gateway reads at most
// Options.MaxResponseBytes (+1) and answers Internal server error (SPEC,
// our choice in doc.go); on a one-way route it reads a little and sends
// nothing. Either way it does not hold the 5 MB: the bytes allocated while
// handling several such answers stay far below one of them.
func TestFaultBackendHuge(t *testing.T) {
	const huge = 5 << 20
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	var written atomic.Int64
	big := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for sent := 0; sent < huge; sent += len(chunk) {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return // the gateway hung up
			}
		}
	}))
	rec := newRecorder(t, nil)
	ok := newRecorder(t, echo)
	g := startGateway(t, faultPlan(rec,
		twoWay(route("big", httpInteg("Big", big))),
		route("bigOneWay", httpInteg("BigOneWay", big)),
		twoWay(route("ok", httpInteg("Ok", ok.url)))), nil)
	ws := dial(t, g, "/dev")

	const rounds = 4
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	for range rounds {
		send(t, ws, `{"action":"big"}`)
		if got := recv(t, ws); !isInternalError(got) {
			t.Fatalf("got %.80q, want Internal server error", got)
		}
		send(t, ws, `{"action":"bigOneWay"}`)
		send(t, ws, `{"action":"ok"}`)
		if got := recv(t, ws); got != `{"action":"ok"}` {
			t.Fatalf("got %.80q, want the echo (nothing for the one-way route)", got)
		}
	}
	goruntime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d answers of 5 MB: %d KB allocated, backend wrote %d KB", 2*rounds, alloc>>10, written.Load()>>10)
	if alloc > huge {
		t.Errorf("%d KB allocated while handling %d answers of 5 MB: the gateway read them whole", alloc>>10, 2*rounds)
	}
}

// A client that sends but never reads: its two-way answers pile up once the
// TCP buffers are full. The gateway bounds the queue (Options.SendQueueBytes),
// closes the connection (1008 "Slow consumer", or by the write deadline when
// even the close frame cannot be written) and runs $disconnect; the queue
// never holds more than its bound.
func TestFaultClientNeverReads(t *testing.T) {
	const bound = 256 << 10
	rec := newRecorder(t, nil)
	ok := newRecorder(t, echo)
	var logs syncBuffer
	g := startGateway(t, faultPlan(rec, twoWay(route("echo", httpInteg("Echo", ok.url)))), func(o *Options) {
		o.SendQueueBytes = bound
		o.WriteTimeout = 500 * time.Millisecond
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	stop := watchQueues(g)
	ws := dial(t, g, "/dev") // never reads
	id := rec.wait(t, "/connect", 1, 5*time.Second)[0].id
	msg := `{"action":"echo","pad":"` + strings.Repeat("x", 16<<10) + `"}`
	sent := 0
	for sent < 4000 { // 64 MB: far more than the socket buffers take
		_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			break // the gateway closed the connection
		}
		sent++
		if len(rec.on("/disconnect")) > 0 {
			break
		}
	}
	disc := rec.wait(t, "/disconnect", 1, 10*time.Second)
	most := stop()
	t.Logf("sent %d messages of 16 KB; most queued %d KB; $disconnect code %s", sent, most>>10, disc[0].code)
	if disc[0].id != id {
		t.Errorf("$disconnect for %q, want %q", disc[0].id, id)
	}
	if most > bound {
		t.Errorf("%d bytes queued, bound %d", most, bound)
	}
	if !strings.Contains(logs.String(), "send queue full") {
		t.Errorf("no 'send queue full' warning in the log:\n%s", logs.String())
	}
	if _, err := g.reg.Lookup(context.Background(), "", id); !errors.Is(err, ErrGone) {
		t.Errorf("connection still registered: %v", err)
	}
}

// @connections posts to a client that never reads: each post waits for its
// frame to be written, so concurrent posters fill the queue; past its bound
// the connection closes and every post still waiting, and every later one,
// answers 410 (SPEC ).
func TestFaultPostsToClientNeverReading(t *testing.T) {
	const bound = 512 << 10
	rec := newRecorder(t, nil)
	g := startGateway(t, faultPlan(rec), func(o *Options) {
		o.SendQueueBytes = bound
		o.WriteTimeout = 500 * time.Millisecond
	})
	stop := watchQueues(g)
	_ = dial(t, g, "/dev") // never reads
	id := rec.wait(t, "/connect", 1, 5*time.Second)[0].id
	url := "http://" + g.Addrs()[0] + "/dev/@connections/" + id
	payload := strings.Repeat("y", 100<<10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 { // 16 posters × 200 × 100 KB = 320 MB if nothing stopped them
				resp, err := http.Post(url, "text/plain", strings.NewReader(payload))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
				if resp.StatusCode == http.StatusGone {
					return
				}
			}
		}()
	}
	wg.Wait()
	most := stop()
	rec.wait(t, "/disconnect", 1, 10*time.Second)
	t.Logf("post statuses %v; most queued %d KB", codes, most>>10)
	if codes[http.StatusGone] != 16 {
		t.Errorf("statuses %v: want every poster to end with 410", codes)
	}
	if most > bound {
		t.Errorf("%d bytes queued, bound %d", most, bound)
	}
}

// Clients that disconnect in the middle of a message (a partial frame, or a
// message whose last fragment never comes, then a TCP close): nothing reaches
// the message route, $disconnect runs once with 1006 (SPEC ), and the
// gateway keeps serving.
func TestFaultClientDisconnectsMidMessage(t *testing.T) {
	tests := []struct {
		name  string
		bytes []byte
	}{
		{"one byte of a header", []byte{0x81}},
		{"header without its mask", clientFrame(true, 1, 100)[:2]},
		{"part of the payload", append(clientFrame(true, 1, 100), `{"action":"msg","x":"`...)},
		{"first fragment only", append(append(clientFrame(false, 1, 14), `{"action":"msg`...), clientFrame(false, 0, 4)...)},
		{"part of a 64 KB frame", append(clientFrame(true, 2, 64<<10), make([]byte, 30<<10)...)},
	}
	rec := newRecorder(t, nil)
	g := startGateway(t, faultPlan(rec, route("$default", httpInteg("Msg", rec.url+"/msg"))), func(o *Options) {
		o.MaxFrameBytes = 0 // let the 64 KB frame start
	})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, g.Addrs()[0], "/dev")
			id := rec.wait(t, "/connect", i+1, 5*time.Second)[i].id
			if _, err := c.Write(tt.bytes); err != nil {
				t.Fatal(err)
			}
			// TCP delivers the bytes before the FIN: the gateway reads
			// them, then the end of the stream.
			c.Close()
			discs := rec.wait(t, "/disconnect", i+1, 5*time.Second)
			if d := discs[i]; d.id != id || d.code != "1006" {
				t.Errorf("$disconnect %+v, want connection %s with 1006", d, id)
			}
		})
	}
	if n := len(rec.on("/disconnect")); n != len(tests) {
		t.Errorf("%d $disconnect calls, want %d", n, len(tests))
	}
	// The gateway keeps serving, and the one message that reaches the route
	// is this one: a message is routed only once whole, and every connection
	// above has ended (its $disconnect ran) without completing one.
	ws := dial(t, g, "/dev")
	send(t, ws, `{"action":"msg","n":"last"}`)
	if msgs := rec.wait(t, "/msg", 1, 5*time.Second); len(msgs) != 1 || !strings.Contains(msgs[0].body, `"last"`) {
		t.Errorf("the message route got %+v, want only the last message", msgs)
	}
}

// 1,000 connections open at the same time: every handshake succeeds, each
// gets its $connect with its own id (SPEC ), none is lost;
// closing them all runs 1,000 $disconnects (SPEC ).
//
// The clients arrive as a crowd would, up to inFlight handshakes at a time
// (each dialer opens its next connection once its last one is up), not all
// 1,000 in the same instant: with 1,000 in flight, every handshake lasts
// about as long as all of them together, which on a loaded 2-core machine
// (-race, other packages' tests running) went past the client's handshake
// timeout. The failures were "i/o timeout" reading the handshake response,
// the gateway logging each $connect call cancelled with its request; not
// the listen backlog (net.Listen uses net.core.somaxconn, 4096 here). The
// waits below are bounds for a starved machine, not speed assertions.
func TestFaultThousandConnects(t *testing.T) {
	const (
		n        = 1000
		inFlight = 100
	)
	rec := newRecorder(t, nil)
	var logs syncBuffer
	p := faultPlan(rec)
	for _, r := range p.Apis[0].Stages[0].Routes {
		// API Gateway's default; the helpers' 2 s is short for a busy machine.
		r.Integration.TimeoutMillis = 29000
	}
	g := startGateway(t, p, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	t.Cleanup(func() {
		if t.Failed() {
			l := logs.String()
			t.Logf("gateway warnings (%d bytes): %.3000s", len(l), l)
		}
	})
	url := "ws://" + g.Addrs()[0] + "/dev"
	clients := make([]*websocket.Conn, n)
	errs := make([]error, n)
	start := make(chan struct{})
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	began := time.Now()
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// A timeout for the whole dial (TCP, request, response), as long
			// as the $connect integration's plus a margin.
			d := websocket.Dialer{HandshakeTimeout: 60 * time.Second}
			for i := range next {
				var resp *http.Response
				clients[i], resp, errs[i] = d.Dial(url, nil)
				if errs[i] != nil && resp != nil {
					errs[i] = fmt.Errorf("%w: %s", errs[i], resp.Status)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	t.Cleanup(func() {
		for _, ws := range clients {
			if ws != nil {
				ws.Close()
			}
		}
	})
	t.Logf("%d handshakes, %d in flight at most, in %v", n, inFlight, time.Since(began).Round(time.Millisecond))
	failed := 0
	kinds := map[string]int{} // error text without addresses: count
	for _, err := range errs {
		if err != nil {
			failed++
			kinds[addrRE.ReplaceAllString(err.Error(), "ADDR")]++
		}
	}
	if failed > 0 {
		for k, c := range kinds {
			t.Errorf("%d× dial: %s", c, k)
		}
		t.Fatalf("%d of %d handshakes failed", failed, n)
	}
	connects := rec.wait(t, "/connect", n, 60*time.Second)
	ids := map[string]bool{}
	for _, c := range connects {
		ids[c.id] = true
	}
	if len(ids) != n || len(connects) != n {
		t.Errorf("%d $connect calls with %d distinct ids, want %d", len(connects), len(ids), n)
	}
	for _, ws := range clients {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
		ws.Close()
	}
	discs := rec.wait(t, "/disconnect", n, 60*time.Second)
	for _, d := range discs {
		if !ids[d.id] {
			t.Errorf("$disconnect for %q, which never connected", d.id)
		}
		delete(ids, d.id)
	}
	if len(ids) != 0 {
		t.Errorf("%d connections got no $disconnect", len(ids))
	}
}

// addrRE matches a HOST:PORT, so that errors differing only in their
// addresses count as one kind.
var addrRE = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)

// Half-open TCP connections: a client that vanishes without a FIN (here, a
// socket that stops reading and writing) is reclaimed by the idle timeout
// when nothing is sent to it (1001, SPEC ), and by the write deadline
// when something is (1006).
func TestFaultHalfOpen(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		rec := newRecorder(t, nil)
		g := startGateway(t, faultPlan(rec), func(o *Options) { o.IdleTimeout = 300 * time.Millisecond })
		start := time.Now()
		_ = rawDial(t, g.Addrs()[0], "/dev") // then silence, never closed
		d := rec.wait(t, "/disconnect", 1, 5*time.Second)[0]
		took := time.Since(start)
		if d.code != "1001" {
			t.Errorf("disconnectStatusCode %s, want 1001", d.code)
		}
		// Idle timeout, then the close grace for the client's close frame.
		if took < 300*time.Millisecond || took > 3*time.Second {
			t.Errorf("reclaimed after %s, want about 300 ms + 500 ms", took)
		}
	})
	t.Run("posted to", func(t *testing.T) {
		rec := newRecorder(t, nil)
		g := startGateway(t, faultPlan(rec), func(o *Options) {
			o.IdleTimeout = 0
			o.WriteTimeout = 300 * time.Millisecond
		})
		_ = rawDial(t, g.Addrs()[0], "/dev")
		id := rec.wait(t, "/connect", 1, 5*time.Second)[0].id
		url := "http://" + g.Addrs()[0] + "/dev/@connections/" + id
		payload := strings.Repeat("z", 128<<10)
		start := time.Now()
		posts := 0
		for time.Since(start) < 20*time.Second {
			resp, err := http.Post(url, "text/plain", strings.NewReader(payload))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			posts++
			if resp.StatusCode == http.StatusGone {
				break
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("post answered %d", resp.StatusCode)
			}
		}
		d := rec.wait(t, "/disconnect", 1, 5*time.Second)[0]
		t.Logf("%d posts of 128 KB until 410, after %s", posts, time.Since(start))
		if d.code != "1006" {
			t.Errorf("disconnectStatusCode %s, want 1006 (the write deadline cut the connection)", d.code)
		}
	})
}

// Shutdown while every connection is busy (a message being handled, more
// queued): every connection is closed with 1001 and every $disconnect runs
// before Shutdown returns (SPEC ).
func TestFaultShutdownUnderLoad(t *testing.T) {
	const n = 50
	rec := newRecorder(t, nil)
	slow := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		time.Sleep(20 * time.Millisecond)
		_, _ = w.Write(body)
	})
	g, err := New(faultPlan(rec, twoWay(route("$default", httpInteg("Echo", slow.url)))), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var closes sync.Map
	for i := range n {
		ws := dial(t, g, "/dev")
		wg.Add(2)
		go func() { // sends until the connection closes
			defer wg.Done()
			for {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"n":1}`)); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		go func() { // reads until the close frame
			defer wg.Done()
			_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					closes.Store(i, err)
					return
				}
			}
		}()
	}
	rec.wait(t, "/connect", n, 5*time.Second)
	slow.wait(t, "/", 2*n, 5*time.Second) // messages flow on every connection
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if got := len(rec.on("/disconnect")); got != n {
		t.Errorf("%d $disconnect calls when Shutdown returned, want %d", got, n)
	}
	wg.Wait()
	going := 0
	closes.Range(func(_, v any) bool {
		var ce *websocket.CloseError
		if errors.As(v.(error), &ce) && ce.Code == websocket.CloseGoingAway {
			going++
		}
		return true
	})
	if going != n {
		t.Errorf("%d clients got 1001, want %d", going, n)
	}
}
