package runtime

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/compile"
)

// blockingBackend answers "done <body>" once release is closed; until then
// its requests hang, and a request whose context ends (the gateway gave up
// on it) is reported on cancelled.
type blockingBackend struct {
	*backend
	release   chan struct{}
	cancelled chan string
	completed chan string
}

func newBlockingBackend(t *testing.T) *blockingBackend {
	bb := &blockingBackend{release: make(chan struct{}), cancelled: make(chan string, 100), completed: make(chan string, 100)}
	release := bb.release
	bb.backend = newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-release:
			_, _ = w.Write(append([]byte("done "), body...))
			bb.completed <- string(body)
		case <-r.Context().Done():
			bb.cancelled <- string(body)
		}
	})
	return bb
}

// slowInteg is an integration with API Gateway's default timeout, 29 s, so
// that nothing in these tests ends by timing out.
func slowInteg(id, url string, steps ...compile.Step) *compile.Integration {
	in := httpInteg(id, url, steps...)
	in.TimeoutMillis = 29000
	return in
}

// clientReader reads a client connection in the background, as a browser
// does: control frames are handled (pongs reported on pongs) and messages
// forwarded on msgs until the connection ends (its error on done).
type clientReader struct {
	pongs chan string
	msgs  chan string
	done  chan error
}

func readClient(ws *websocket.Conn) *clientReader {
	cr := &clientReader{pongs: make(chan string, 10), msgs: make(chan string, 100), done: make(chan error, 1)}
	ws.SetPongHandler(func(data string) error { cr.pongs <- data; return nil })
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				cr.done <- err
				return
			}
			cr.msgs <- string(data)
		}
	}()
	return cr
}

func (cr *clientReader) msg(t *testing.T) string {
	t.Helper()
	select {
	case m := <-cr.msgs:
		return m
	case err := <-cr.done:
		t.Fatalf("connection ended: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	return ""
}

// SPEC and RFC 6455 §5.5.2: a ping sent while the connection's backend
// call is under way (with more messages queued behind it) is answered at
// once, not after the call; the messages are then handled in order.
func TestPingDuringSlowCall(t *testing.T) {
	slow := newBlockingBackend(t)
	released := false
	defer func() {
		if !released {
			close(slow.release)
		}
	}()
	p := testPlan(actionSel, twoWay(route("$default", slowInteg("Slow", slow.URL))))
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev")
	cr := readClient(ws)
	send(t, ws, "m0")
	if got := slow.next(t).Body; got != "m0" {
		t.Fatalf("backend got %q", got)
	}
	send(t, ws, "m1")
	send(t, ws, "m2")
	if err := ws.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-cr.pongs:
		if got != "are you there" {
			t.Errorf("pong %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong while the backend call runs")
	}
	slow.none(t, 50*time.Millisecond) // m1 waits for m0's call
	close(slow.release)
	released = true
	for i := range 3 {
		if got, want := cr.msg(t), "done m"+strconv.Itoa(i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// SPEC: a client that closes during a slow backend call gets the close
// reply at once and $disconnect runs without waiting for the call; the call
// in flight is not cancelled but runs to its end, as on AWS, where the
// message's integration request does not depend on the client's connection;
// the messages queued behind it are dropped (our choice).
func TestCloseDuringSlowCall(t *testing.T) {
	slow := newBlockingBackend(t)
	released := false
	defer func() {
		if !released {
			close(slow.release)
		}
	}()
	disc := newBackend(t, nil)
	p := testPlan(actionSel,
		twoWay(route("$default", slowInteg("Slow", slow.URL))),
		route("$disconnect", httpInteg("D", disc.URL, header("X-Code", ctxVar("disconnectStatusCode")))))
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev")
	send(t, ws, "m0")
	slow.next(t)
	send(t, ws, "m1") // queued behind m0, dropped on close
	if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "leaving")); err != nil {
		t.Fatal(err)
	}
	if ce := recvClose(t, ws); ce.Code != 4001 {
		t.Errorf("close reply %d %q", ce.Code, ce.Text)
	}
	if got := disc.next(t).Header.Get("X-Code"); got != "4001" {
		t.Errorf("disconnectStatusCode %q", got)
	}
	select {
	case got := <-slow.cancelled:
		t.Fatalf("the call in flight (%q) was cancelled", got)
	default:
	}
	close(slow.release)
	released = true
	select {
	case got := <-slow.completed:
		if got != "m0" {
			t.Errorf("completed %q", got)
		}
	case got := <-slow.cancelled:
		t.Fatalf("the call in flight (%q) was cancelled", got)
	case <-time.After(5 * time.Second):
		t.Fatal("the call in flight did not complete")
	}
	slow.none(t, 100*time.Millisecond) // m1 never ran
}

// SPEC: messages queued behind a slow call are handled one at a time,
// in order, also when the queue is full and the reader waits for room.
func TestQueuedMessagesOrder(t *testing.T) {
	tests := []struct {
		name string
		opt  func(*Options)
	}{
		{"default queue", nil},
		{"one message queued at most", func(o *Options) { o.MessageQueue = 1 }},
		{"a few bytes queued at most", func(o *Options) { o.MessageQueueBytes = 5 }},
		{"unbounded", func(o *Options) { o.MessageQueue, o.MessageQueueBytes = 0, 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slow := newBlockingBackend(t)
			p := testPlan(actionSel, twoWay(route("$default", slowInteg("Slow", slow.URL))))
			g := startGateway(t, p, tc.opt)
			ws := dial(t, g, "/dev")
			cr := readClient(ws)
			const n = 30
			for i := range n {
				send(t, ws, "m"+strconv.Itoa(i))
			}
			slow.next(t)
			slow.none(t, 50*time.Millisecond) // one call at a time
			close(slow.release)
			for i := range n {
				if got, want := cr.msg(t), "done m"+strconv.Itoa(i); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
			for i := 1; i < n; i++ {
				if got, want := slow.next(t).Body, "m"+strconv.Itoa(i); got != want {
					t.Fatalf("backend got %q, want %q", got, want)
				}
			}
		})
	}
}

// A full queue stops the reader: a ping then waits for room, which is the
// TCP backpressure Options.MessageQueue documents.
func TestFullQueueStopsReading(t *testing.T) {
	slow := newBlockingBackend(t)
	p := testPlan(actionSel, twoWay(route("$default", slowInteg("Slow", slow.URL))))
	g := startGateway(t, p, func(o *Options) { o.MessageQueue = 1 })
	ws := dial(t, g, "/dev")
	cr := readClient(ws)
	send(t, ws, "m0") // in flight
	slow.next(t)
	send(t, ws, "m1") // queued
	send(t, ws, "m2") // read; waits for room
	if err := ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cr.pongs:
		t.Fatal("pong while the queue is full: the reader did not wait")
	case <-time.After(200 * time.Millisecond):
	}
	close(slow.release)
	select {
	case <-cr.pongs:
	case <-time.After(5 * time.Second):
		t.Fatal("no pong once the queue had room")
	}
	for i := range 3 {
		if got, want := cr.msg(t), "done m"+strconv.Itoa(i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// SPEC: a connection whose stage a new plan no longer has is
// closed with 1001, and its $disconnect still runs, from the stage as the
// last plan that had it compiled it.
func TestDisconnectAfterStageRemoved(t *testing.T) {
	a := newBackend(t, nil)
	b := newBackend(t, nil)
	withDisc := func(url string) *compile.Plan {
		return testPlan(actionSel, route("$disconnect", httpInteg("D", url, header("X-Code", ctxVar("disconnectStatusCode")))))
	}
	noStage := func() *compile.Plan {
		p := testPlan(actionSel)
		p.Apis[0].Stages[0].Name, p.Apis[0].Stages[0].Path = "prod", "/prod"
		return p
	}
	t.Run("stage gone", func(t *testing.T) {
		g := startGateway(t, withDisc(a.URL), nil)
		ws := dial(t, g, "/dev")
		g.Swap(noStage())
		if ce := recvClose(t, ws); ce.Code != 1001 {
			t.Errorf("close %d", ce.Code)
		}
		if got := a.next(t).Header.Get("X-Code"); got != "1001" {
			t.Errorf("disconnectStatusCode %q", got)
		}
	})
	t.Run("stage changed then gone", func(t *testing.T) {
		g := startGateway(t, withDisc(a.URL), nil)
		ws := dial(t, g, "/dev")
		g.Swap(withDisc(b.URL))
		g.Swap(noStage())
		recvClose(t, ws)
		if got := b.next(t).Header.Get("X-Code"); got != "1001" {
			t.Errorf("disconnectStatusCode %q", got)
		}
		a.none(t, 100*time.Millisecond)
	})
	t.Run("stage still there", func(t *testing.T) {
		g := startGateway(t, withDisc(a.URL), nil)
		ws := dial(t, g, "/dev")
		g.Swap(withDisc(b.URL))
		_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
		recvClose(t, ws)
		if got := b.next(t).Header.Get("X-Code"); got != "1000" {
			t.Errorf("disconnectStatusCode %q", got)
		}
		a.none(t, 100*time.Millisecond)
	})
}

// SPEC: a swap that lands while a handshake is under way (after
// $connect accepted it, before the client has its 101) reaches the
// connection: a changed stage is the one its $disconnect later runs from, a
// dropped stage closes it with 1001 as soon as it is upgraded. The swap runs
// from the gateway's beforeUpgrade hook, so the interleaving is certain.
func TestSwapDuringHandshake(t *testing.T) {
	withDisc := func(url string) *compile.Plan {
		return testPlan(actionSel, route("$disconnect", httpInteg("D", url, header("X-Code", ctxVar("disconnectStatusCode")))))
	}
	noStage := func(string) *compile.Plan {
		p := testPlan(actionSel)
		p.Apis[0].Stages[0].Name, p.Apis[0].Stages[0].Path = "prod", "/prod"
		return p
	}
	for _, tc := range []struct {
		name string
		// swapTo is the plan swapped in during the handshake, given the
		// second backend's URL.
		swapTo func(url string) *compile.Plan
		// closedAtOnce: the swap closes the connection; else the test drops
		// the stage afterwards.
		closedAtOnce bool
		// secondGetsDisconnect: $disconnect runs on the second backend (the
		// swapped-in stage), else on the first (the stage the handshake saw).
		secondGetsDisconnect bool
	}{
		{"stage changed", withDisc, false, true},
		{"stage gone", noStage, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, second := newBackend(t, nil), newBackend(t, nil)
			o := testOptions()
			g, err := New(withDisc(first.URL), o)
			if err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			g.beforeUpgrade = func() { once.Do(func() { g.Swap(tc.swapTo(second.URL)) }) }
			if err := g.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := g.Shutdown(ctx); err != nil {
					t.Errorf("shutdown: %v", err)
				}
			})
			ws := dial(t, g, "/dev")
			if !tc.closedAtOnce {
				g.Swap(noStage(""))
			}
			if ce := recvClose(t, ws); ce.Code != websocket.CloseGoingAway {
				t.Errorf("close %d, want 1001", ce.Code)
			}
			got, other := first, second
			if tc.secondGetsDisconnect {
				got, other = second, first
			}
			if code := got.next(t).Header.Get("X-Code"); code != "1001" {
				t.Errorf("disconnectStatusCode %q", code)
			}
			other.none(t, 100*time.Millisecond)
		})
	}
}

// maskedFrame is a whole client frame with payload p (zero mask key).
func maskedFrame(fin bool, opcode byte, p string) []byte {
	return append(clientFrame(fin, opcode, len(p)), p...)
}

// readServerFrame reads one unmasked server frame of fewer than 126 bytes.
func readServerFrame(t *testing.T, c net.Conn) (byte, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	p := make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(c, p); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	return h[0] & 0x0f, string(p)
}

// However frames are cut into TCP segments, each is read and answered: an
// idle reader waits for the socket only when it holds nothing read and not
// yet used (several frames in one segment, a message in pieces, a ping
// behind a message). SPEC: answers in order.
func TestFramesAcrossSegments(t *testing.T) {
	b := newBackend(t, echo)
	g := startGateway(t, testPlan(actionSel, twoWay(route("$default", httpInteg("D", b.URL)))), nil)
	type answer struct {
		op   byte
		data string
	}
	tests := []struct {
		name   string
		writes [][]byte
		want   []answer
	}{
		{"two messages in one segment",
			[][]byte{append(maskedFrame(true, 1, "one"), maskedFrame(true, 1, "two")...)},
			[]answer{{1, "one"}, {1, "two"}}},
		{"a message then a ping in one segment",
			[][]byte{append(maskedFrame(true, 1, "one"), maskedFrame(true, 9, "p")...)},
			[]answer{{1, "one"}, {10, "p"}}},
		{"a message in two fragments, one per segment",
			[][]byte{maskedFrame(false, 1, "fr"), maskedFrame(true, 0, "ag")},
			[]answer{{1, "frag"}}},
		{"a frame cut in the middle",
			[][]byte{maskedFrame(true, 1, "split")[:8], maskedFrame(true, 1, "split")[8:]},
			[]answer{{1, "split"}}},
		{"a message, then one more later",
			[][]byte{maskedFrame(true, 1, "first"), maskedFrame(true, 1, "second")},
			[]answer{{1, "first"}, {1, "second"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := rawDial(t, g.Addrs()[0], "/dev")
			for _, w := range tc.writes {
				if _, err := c.Write(w); err != nil {
					t.Fatal(err)
				}
			}
			// The pong may come before or after the echo (the ping is
			// answered by the reader, the echo after a backend call).
			got := map[answer]bool{}
			for range tc.want {
				op, data := readServerFrame(t, c)
				got[answer{op, data}] = true
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("no frame %d %q among %v", w.op, w.data, got)
				}
			}
		})
	}
}
