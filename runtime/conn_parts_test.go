package runtime

import (
	"net"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The lifecycle's one transition function: each cause from each state.
func TestLifecycleMove(t *testing.T) {
	tests := []struct {
		name      string
		from      connState
		cause     closeCause
		want      connState
		moved     bool
		code      int // close code afterwards
		byGateway bool
	}{
		{"accept while connecting", stateConnecting, causeAccept, stateOpen, true, 0, false},
		{"accept twice", stateOpen, causeAccept, stateOpen, false, 0, false},
		{"gateway closes an open connection", stateOpen, causeGateway, stateClosing, true, 1001, true},
		{"client closes an open connection", stateOpen, causePeer, stateClosing, true, 1001, false},
		{"gateway close during $connect", stateConnecting, causeGateway, stateConnecting, false, 0, false},
		{"gateway close while closing", stateClosing, causeGateway, stateClosing, false, 0, false},
		{"client close while closing", stateClosing, causePeer, stateClosing, false, 0, false},
		{"end of an open connection", stateOpen, causeEnd, stateClosed, true, websocket.CloseAbnormalClosure, false},
		{"end of a failed upgrade", stateConnecting, causeEnd, stateClosed, true, websocket.CloseAbnormalClosure, false},
		{"end after a close keeps its code", stateClosing, causeEnd, stateClosed, true, 0, false},
		{"end twice", stateClosed, causeEnd, stateClosed, false, 0, false},
		{"nothing after the end", stateClosed, causeGateway, stateClosed, false, 0, false},
		{"no reopening", stateClosed, causeAccept, stateClosed, false, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &lifecycle{state: tc.from, sent: tc.from == stateClosed}
			from, moved := l.move(tc.cause, 1001, "Going away")
			if from != tc.from || moved != tc.moved || l.current() != tc.want {
				t.Errorf("move from %s: got from=%s moved=%v now %s, want moved=%v now %s", tc.from, from, moved, l.current(), tc.moved, tc.want)
			}
			if code, _ := l.closedWith(); code != tc.code {
				t.Errorf("close code %d, want %d", code, tc.code)
			}
			if l.closedByGateway() != tc.byGateway {
				t.Errorf("closed by gateway %v, want %v", l.closedByGateway(), tc.byGateway)
			}
			// The close frame's waiters are released at the end at the latest.
			select {
			case <-l.sentCh():
				if l.current() != stateClosed {
					t.Error("close frame reported sent before it was written")
				}
			default:
				if l.current() == stateClosed {
					t.Error("closed, and the close frame's waiters still wait")
				}
			}
		})
	}
}

// A gateway close, then the client's answer: the first close's code stays.
func TestLifecycleFirstCloseWins(t *testing.T) {
	l := &lifecycle{state: stateOpen}
	l.move(causeGateway, 1008, "Slow consumer")
	l.move(causePeer, 1000, "bye")
	l.move(causeEnd, 0, "")
	if code, reason := l.closedWith(); code != 1008 || reason != "Slow consumer" || !l.closedByGateway() {
		t.Errorf("got %d %q by gateway %v, want 1008 \"Slow consumer\" by the gateway", code, reason, l.closedByGateway())
	}
	sent := l.sentCh()
	select {
	case <-sent:
	default:
		t.Error("sentCh not closed after the end")
	}
}

func textFrame(s string) outFrame { return outFrame{typ: websocket.TextMessage, data: []byte(s)} }

// The send queue: who writes, what is refused, and its bounds.
func TestSendQueue(t *testing.T) {
	type step struct {
		op   string // tryWrite, push:DATA, next, more, seal, sealDiscard, drop, ready
		want any    // bool for tryWrite, next, more, ready; pushResult for push; int for seal (dropped frames)
	}
	tests := []struct {
		name      string
		maxFrames int
		maxBytes  int
		steps     []step
		queued    int // bytes queued at the end
	}{
		{name: "frames wait for the upgrade", steps: []step{
			{"tryWrite", false}, {"push:a", pushQueued}, {"push:b", pushQueued}, {"ready", true},
			{"next", true}, {"next", true}, {"next", false},
		}},
		{name: "an idle queue lets the sender write", steps: []step{
			{"ready", false}, {"tryWrite", true}, {"more", false}, {"tryWrite", true}, {"more", false},
		}},
		{name: "one writer at a time", steps: []step{
			{"ready", false}, {"tryWrite", true}, {"tryWrite", false}, {"push:a", pushQueued},
			{"more", true}, {"next", true}, {"next", false}, {"tryWrite", true},
		}},
		{name: "a queued frame goes first", steps: []step{
			{"ready", false}, {"tryWrite", true}, {"push:a", pushQueued}, {"more", true},
			{"tryWrite", false}, {"next", true}, {"next", false},
		}},
		{name: "a frame that finds nobody writing starts a writer", queued: 1, steps: []step{
			{"ready", false}, {"push:a", pushStart}, {"push:b", pushQueued}, {"next", true}, {"next", true}, {"next", false},
			{"push:c", pushStart},
		}},
		{name: "bounded by frames", maxFrames: 2, queued: 2, steps: []step{
			{"push:a", pushQueued}, {"push:b", pushQueued}, {"push:c", pushFull},
		}},
		{name: "bounded by bytes", maxBytes: 5, queued: 5, steps: []step{
			{"push:abcd", pushQueued}, {"push:ef", pushFull}, {"push:e", pushQueued}, {"push:f", pushFull},
		}},
		{name: "an empty queue takes any frame", maxBytes: 2, queued: 5, steps: []step{
			{"push:abcde", pushQueued},
		}},
		{name: "the close frame goes behind the frames and is the last", queued: 1, steps: []step{
			{"push:a", pushQueued}, {"seal", 0}, {"push:b", pushSealed}, {"tryWrite", false}, {"seal", 0},
		}},
		{name: "slow consumer: the close frame in place of the frames", queued: 0, steps: []step{
			{"push:a", pushQueued}, {"push:b", pushQueued}, {"sealDiscard", 2}, {"ready", true}, {"next", true}, {"next", false},
		}},
		{name: "the end drops everything", queued: 0, steps: []step{
			{"push:a", pushQueued}, {"drop", 1}, {"push:b", pushSealed}, {"ready", false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &sendQueue{maxFrames: tc.maxFrames, maxBytes: tc.maxBytes}
			for i, s := range tc.steps {
				var got any
				switch {
				case s.op == "tryWrite":
					got = q.tryWrite()
				case len(s.op) > 5 && s.op[:5] == "push:":
					got = q.push(textFrame(s.op[5:]))
				case s.op == "next":
					_, got = q.next()
				case s.op == "more":
					got = q.more()
				case s.op == "ready":
					got = q.setReady()
				case s.op == "seal", s.op == "sealDiscard":
					dropped, _ := q.seal(&outFrame{typ: websocket.CloseMessage, code: 1008}, s.op == "sealDiscard")
					got = len(dropped)
				case s.op == "drop":
					got = len(q.drop())
				}
				if got != s.want {
					t.Fatalf("step %d %s: got %v, want %v", i, s.op, got, s.want)
				}
			}
			if got := q.queuedBytes(); got != tc.queued {
				t.Errorf("%d bytes queued, want %d", got, tc.queued)
			}
		})
	}
}

// Frames leave the send queue in order, the close frame last.
func TestSendQueueOrder(t *testing.T) {
	q := &sendQueue{}
	q.setReady()
	for _, s := range []string{"1", "2", "3"} {
		q.push(textFrame(s))
	}
	q.seal(&outFrame{typ: websocket.CloseMessage}, false)
	var got []string
	for {
		f, ok := q.next()
		if !ok {
			break
		}
		if f.typ == websocket.CloseMessage {
			got = append(got, "close")
		} else {
			got = append(got, string(f.data))
		}
	}
	if want := "1 2 3 close"; join(got) != want {
		t.Errorf("got %q, want %q", join(got), want)
	}
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// The inbox: who handles, in which order, and what closing drops.
func TestInbox(t *testing.T) {
	type step struct {
		op   string // put:DATA (reader, inline), inject:DATA, take, release, close, idle
		want any    // putResult for put and inject; the data or "" for take; bool for release and idle (a wait)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the reader handles a message when nothing waits", []step{
			{"idle", false}, {"put:a", putRun}, {"idle", true}, {"release", false}, {"idle", false}, {"put:b", putRun},
		}},
		{"messages during an inline call wait for a handler", []step{
			{"put:a", putRun}, {"put:b", putQueued}, {"put:c", putQueued}, {"release", true},
			{"take", "b"}, {"take", "c"}, {"take", ""}, {"put:d", putRun},
		}},
		{"an injected message starts a handler", []step{
			{"inject:a", putStart}, {"inject:b", putQueued}, {"put:c", putQueued},
			{"take", "a"}, {"take", "b"}, {"take", "c"}, {"take", ""}, {"idle", false},
		}},
		{"closing drops what waits and every later message", []step{
			{"put:a", putRun}, {"put:b", putQueued}, {"close", nil}, {"release", false},
			{"put:c", putDropped}, {"inject:d", putDropped}, {"take", ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &inbox{}
			for i, s := range tc.steps {
				var got any
				switch {
				case len(s.op) > 4 && s.op[:4] == "put:":
					got = in.put(inMsg{data: []byte(s.op[4:])}, true)
				case len(s.op) > 7 && s.op[:7] == "inject:":
					got = in.put(inMsg{data: []byte(s.op[7:])}, false)
				case s.op == "take":
					m, ok := in.take()
					got = string(m.data)
					if !ok {
						got = ""
					}
				case s.op == "release":
					got = in.release()
				case s.op == "close":
					in.close()
				case s.op == "idle":
					got = in.idle() != nil
				}
				if got != s.want {
					t.Fatalf("step %d %s: got %v, want %v", i, s.op, got, s.want)
				}
			}
		})
	}
}

// A full inbox holds the reader until the handler takes a message, or the
// connection closes.
func TestInboxFullWaits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		free  func(in *inbox)
		wantR putResult
	}{
		{"the handler takes one", func(in *inbox) { in.take() }, putQueued},
		{"the connection closes", func(in *inbox) { in.close() }, putDropped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &inbox{maxMsgs: 1}
			in.put(inMsg{data: []byte("a")}, false) // a handler role, message a waits
			got := make(chan putResult)
			go func() { got <- in.put(inMsg{data: []byte("b")}, true) }()
			for !waiting(in) {
				select {
				case r := <-got:
					t.Fatalf("put into a full inbox returned %v", r)
				default:
					goruntime.Gosched()
				}
			}
			tc.free(in)
			if r := <-got; r != tc.wantR {
				t.Errorf("got %v, want %v", r, tc.wantR)
			}
		})
	}
}

// waiting reports whether a put waits for room.
func waiting(in *inbox) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.space != nil
}

// deadlineConn records the deadlines set on it.
type deadlineConn struct {
	net.Conn
	reads, writes []time.Time
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error { c.reads = append(c.reads, t); return nil }
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.writes = append(c.writes, t)
	return nil
}

// The wire moves a deadline only when the one in force does not serve, and
// never makes a timeout fire early.
func TestWireDeadlines(t *testing.T) {
	base := time.Now().Add(time.Hour)
	tests := []struct {
		name    string
		asks    []time.Duration // after base; -1: no deadline
		applied int             // deadlines passed on
	}{
		{"a first deadline is set", []time.Duration{0}, 1},
		{"a later deadline within the slack is kept", []time.Duration{0, deadlineSlack / 2, deadlineSlack}, 1},
		{"a later deadline past the slack moves it", []time.Duration{0, 2 * deadlineSlack}, 2},
		{"an earlier deadline moves it", []time.Duration{deadlineSlack, 0}, 2},
		{"no deadline after one", []time.Duration{0, -1}, 2},
		{"no deadline at first is already so", []time.Duration{-1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dc := &deadlineConn{}
			w := &wire{Conn: dc}
			for _, d := range tc.asks {
				at := time.Time{}
				if d >= 0 {
					at = base.Add(d)
				}
				_ = w.SetWriteDeadline(at)
				_ = w.SetReadDeadline(at)
				if got := w.write; at.IsZero() != got.IsZero() || got.Before(at) || got.Sub(at) > deadlineSlack {
					t.Errorf("asked %v, in force %v", at, got)
				}
			}
			if len(dc.writes) != tc.applied || len(dc.reads) != tc.applied {
				t.Errorf("%d write and %d read deadlines set, want %d", len(dc.writes), len(dc.reads), tc.applied)
			}
		})
	}
}

// Once pinned (the close grace), the read deadline stays.
func TestWirePinnedRead(t *testing.T) {
	dc := &deadlineConn{}
	w := &wire{Conn: dc}
	grace := time.Now().Add(time.Second)
	_ = w.pinRead(grace)
	_ = w.SetReadDeadline(time.Now().Add(time.Hour))
	if len(dc.reads) != 1 || !dc.reads[0].Equal(grace) {
		t.Errorf("read deadlines set %v, want only %v", dc.reads, grace)
	}
}
