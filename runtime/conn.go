package runtime

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// connState is where a connection is in its life.
type connState int

const (
	stateConnecting connState = iota // $connect running; @connections answers 410
	stateOpen                        // messages flow
	stateClosing                     // close frame sent or received
	stateClosed                      // TCP connection closed
)

// Close codes and reasons the gateway sends (RFC 6455 §7.4).
const (
	reasonGoingAway    = "Going away"
	reasonDeleted      = "Connection Closed Normally"
	reasonSlowConsumer = "Slow consumer"
	reasonFrameTooBig  = "Frame too big"
	reasonMsgTooBig    = "Message too big"
	reasonInvalidUTF8  = "Invalid UTF-8 in text frame"
	reasonBinary       = "Binary frames are not supported"
)

// outFrame is a frame waiting in a connection's send queue.
type outFrame struct {
	typ    int // websocket.TextMessage, BinaryMessage or CloseMessage
	data   []byte
	code   int        // CloseMessage only
	reason string     // CloseMessage only
	done   chan error // nil when nobody waits
}

// inMsg is a message read from the client and not yet handled.
type inMsg struct {
	typ  int // websocket.TextMessage or BinaryMessage
	data []byte
	at   time.Time // when it arrived
}

// conn is one client connection. Its reader goroutine (serve) only reads
// frames, so that pings, pongs and close frames are answered at once, and
// hands messages to the inbox; a handler goroutine (handle) runs while
// messages are pending and handles them one at a time, in order; a writer
// goroutine (drain) runs while frames are queued. Everything under mu is the
// inbox, the send queue and the close state.
type conn struct {
	g   *Gateway
	srv *apiServer
	// meta is fixed once the handshake starts.
	meta    connMeta
	stageID string // the stage's path segment
	ws      *websocket.Conn
	tcp     net.Conn // the hijacked connection, under the frameLimiter
	maxAt   time.Time

	// stage is the connection's stage as compiled by the latest plan that
	// had it: $disconnect runs from it once a plan has dropped the stage.
	stage atomic.Pointer[stageState]

	lastActive atomic.Int64 // unix nanoseconds

	mu            sync.Mutex
	state         connState
	queue         []outFrame
	queued        int  // bytes in queue
	writing       bool // the writer goroutine runs
	ready         bool // ws is set: the writer may run
	closeCode     int
	closeReason   string
	closeSent     chan struct{} // closed once the close frame is written (or failed)
	sentClosed    bool          // closeSent is closed
	closeDeadline time.Time     // the read deadline while closing
	cut           bool          // Shutdown cut the connection (during the upgrade: once upgraded)
	byGateway     bool          // the gateway started the close (for the inspector)

	inbox      []inMsg       // messages waiting for the handler, oldest first
	inboxBytes int           // bytes in inbox
	handling   bool          // the handler goroutine runs
	lingering  bool          // the handler waits a little for the next message
	wake       chan struct{} // wakes a lingering handler (buffered, 1)
	space      chan struct{} // closed when the inbox has room again (nil: nobody waits)
	handled    chan struct{} // closed when the handler ends (nil: nobody waits)
}

var _ Peer = (*conn)(nil)

// ID returns the connection id.
func (c *conn) ID() string { return c.meta.id }

// Info describes the connection; ErrGone unless it is open.
func (c *conn) Info() (ConnInfo, error) {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st != stateOpen {
		return ConnInfo{}, ErrGone
	}
	return ConnInfo{
		ID:           c.meta.id,
		ApiID:        c.meta.apiID,
		Stage:        c.stageName(),
		ConnectedAt:  c.meta.connectedAt,
		LastActiveAt: time.Unix(0, c.lastActive.Load()),
		SourceIP:     c.meta.sourceIP,
		UserAgent:    c.meta.userAgent,
	}, nil
}

func (c *conn) stageName() string {
	if st := c.currentStage(); st != nil {
		return st.stage.Name
	}
	return ""
}

// currentStage is the connection's stage in the current plan, else as the
// last plan that had it compiled it (nil only before the handshake).
func (c *conn) currentStage() *stageState {
	if st := c.g.snap.Load().stage(c.srv.apiLogicalID, c.stageID); st != nil {
		return st
	}
	return c.stage.Load()
}

// Send queues data (a text frame when it is UTF-8, else binary) and waits
// until it is written.
func (c *conn) Send(ctx context.Context, data []byte) error {
	typ := websocket.TextMessage
	if !utf8.Valid(data) {
		typ = websocket.BinaryMessage
	}
	done := make(chan error, 1)
	if err := c.enqueue(outFrame{typ: typ, data: data, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		if err != nil {
			return ErrGone
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close sends a close frame behind the frames already accepted and waits
// until it is written; $disconnect runs afterwards, on the reader goroutine,
// once the connection is closed.
func (c *conn) Close(ctx context.Context, code int, reason string) error {
	sent, ok := c.startClose(code, reason, false)
	if !ok {
		return ErrGone
	}
	select {
	case <-sent:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *conn) touch(t time.Time) { c.lastActive.Store(t.UnixNano()) }

// enqueue adds a frame to the send queue. A queue past its bounds means the
// client does not read: its frames are dropped and the connection is closed
// with 1008 (policy violation) "Slow consumer".
func (c *conn) enqueue(f outFrame) error {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrGone
	}
	o := &c.g.opts
	if len(c.queue) > 0 && (o.SendQueue > 0 && len(c.queue) >= o.SendQueue ||
		o.SendQueueBytes > 0 && c.queued+len(f.data) > o.SendQueueBytes) {
		c.mu.Unlock()
		c.g.log.Warn("send queue full, closing", "connection", c.meta.id, "frames", o.SendQueue, "bytes", o.SendQueueBytes)
		c.startClose(websocket.ClosePolicyViolation, reasonSlowConsumer, true)
		return ErrGone
	}
	c.queue = append(c.queue, f)
	c.queued += len(f.data)
	c.startWriter()
	c.mu.Unlock()
	return nil
}

// startWriter starts the writer goroutine unless it runs or the upgrade is
// not done. c.mu is held.
func (c *conn) startWriter() {
	if c.ready && !c.writing && len(c.queue) > 0 {
		c.writing = true
		go c.drain()
	}
}

// drain writes queued frames in order and exits when the queue is empty.
func (c *conn) drain() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.writing = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		f := c.queue[0]
		c.queue[0] = outFrame{}
		c.queue = c.queue[1:]
		c.queued -= len(f.data)
		c.mu.Unlock()

		err := c.write(f)
		if f.done != nil {
			f.done <- err
		}
	}
}

// write writes one frame. A failed write leaves the connection unusable: the
// TCP connection is closed, which ends the reader.
func (c *conn) write(f outFrame) error {
	deadline := time.Time{}
	if t := c.g.opts.WriteTimeout; t > 0 {
		deadline = c.g.now().Add(t)
	}
	if f.typ == websocket.CloseMessage {
		err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(f.code, f.reason), deadline)
		c.mu.Lock()
		c.markCloseSent()
		c.mu.Unlock()
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			c.tcp.Close()
			return err
		}
		// Wait a little for the client's close frame, then let the reader end.
		c.setCloseDeadline(c.g.now().Add(c.g.opts.CloseGrace))
		return nil
	}
	// The frame is reported before it is written, so that whatever a client
	// does after receiving it (closing, say) is reported after it: a
	// recording (--record) never misses a frame its client saw.
	if c.meta.tr != nil {
		c.traceFrame(&f)
	}
	_ = c.ws.SetWriteDeadline(deadline)
	err := c.ws.WriteMessage(f.typ, f.data)
	if err != nil {
		c.tcp.Close()
		return err
	}
	c.touch(c.g.now())
	return nil
}

// startClose begins the closing handshake from the gateway's side: the
// connection leaves the registry (so @connections answers 410), and a close
// frame is queued behind the accepted frames (or in their place, with
// discard). It returns a channel closed once the frame is written, and false
// when the connection was not open.
func (c *conn) startClose(code int, reason string, discard bool) (<-chan struct{}, bool) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return nil, false
	}
	c.state = stateClosing
	c.closeCode, c.closeReason = code, reason
	c.byGateway = true
	var dropped []outFrame
	if discard {
		dropped, c.queue, c.queued = c.queue, nil, 0
	}
	c.queue = append(c.queue, outFrame{typ: websocket.CloseMessage, code: code, reason: reason})
	c.startWriter()
	c.dropInbox()
	sent := c.closeSent
	c.mu.Unlock()
	failFrames(dropped)
	c.g.reg.Unregister(c.meta.id)
	return sent, true
}

// peerClosed records a close the client started (or a lost connection).
func (c *conn) peerClosed(code int, reason string) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	c.closeCode, c.closeReason = code, reason
	c.dropInbox()
	c.mu.Unlock()
	c.g.reg.Unregister(c.meta.id)
}

// markCloseSent releases those waiting for the close frame. c.mu is held.
func (c *conn) markCloseSent() {
	if !c.sentClosed {
		c.sentClosed = true
		close(c.closeSent)
	}
}

func failFrames(fs []outFrame) {
	for _, f := range fs {
		if f.done != nil {
			f.done <- ErrGone
		}
	}
}

// cutTCP closes the TCP connection, which ends the reader; during the
// upgrade, the handshake closes it once upgraded.
func (c *conn) cutTCP() {
	c.mu.Lock()
	c.cut = true
	tcp := c.tcp
	c.mu.Unlock()
	if tcp != nil {
		tcp.Close()
	}
}

// setCloseDeadline makes the reader give up at t.
func (c *conn) setCloseDeadline(t time.Time) {
	c.mu.Lock()
	c.closeDeadline = t
	_ = c.tcp.SetReadDeadline(t)
	c.mu.Unlock()
}

// armRead sets the read deadline for the next frame: the close grace while
// closing, else the idle timeout capped by the maximum connection duration.
func (c *conn) armRead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.closeDeadline
	if d.IsZero() {
		if t := c.g.opts.IdleTimeout; t > 0 {
			d = c.g.now().Add(t)
		}
		if !c.maxAt.IsZero() && (d.IsZero() || c.maxAt.Before(d)) {
			d = c.maxAt
		}
	}
	_ = c.tcp.SetReadDeadline(d)
}

// serve is the reader: it reads frames until the connection ends, hands
// messages to the inbox, then closes the connection and runs $disconnect
// (once). gorilla answers pings and close frames while reading, so they
// never wait for a backend call.
func (c *conn) serve() {
	defer c.finish()
	pong := func(string) error { c.armRead(); return nil }
	c.ws.SetPongHandler(pong)
	c.ws.SetPingHandler(func(data string) error {
		c.armRead()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), c.g.now().Add(time.Second))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
		}
		return nil
	})
	for {
		c.armRead()
		typ, data, err := c.ws.ReadMessage()
		if err == nil && typ == websocket.TextMessage && !utf8.Valid(data) {
			// RFC 6455 §8.1: a text message must be UTF-8 (its fragments
			// need not be, one by one); else fail the connection with 1007.
			err = errInvalidUTF8
		}
		if err == nil && typ == websocket.BinaryMessage && !c.g.opts.AllowBinary {
			// API Gateway takes no binary frames from clients: it rejects
			// the frame and closes with 1003 (SPEC ).
			err = errBinaryFrame
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		now := c.g.now()
		c.touch(now)
		c.deliver(inMsg{typ: typ, data: data, at: now})
	}
}

// deliver adds a message to the inbox and starts the handler if it does not
// run. While the inbox is full (Options.MessageQueue messages or
// Options.MessageQueueBytes bytes) it waits, so the reader stops reading and
// TCP pushes back on the client. A message arriving while the connection
// closes is dropped.
func (c *conn) deliver(m inMsg) {
	c.mu.Lock()
	for c.state == stateOpen && c.inboxFull(len(m.data)) {
		if c.space == nil {
			c.space = make(chan struct{})
		}
		space := c.space
		c.mu.Unlock()
		<-space
		c.mu.Lock()
	}
	if c.state != stateOpen {
		c.mu.Unlock()
		return // closing: discard until the client's close frame
	}
	c.inbox = append(c.inbox, m)
	c.inboxBytes += len(m.data)
	if c.lingering {
		c.wakeHandler()
	} else if !c.handling {
		c.handling = true
		c.g.wg.Add(1) // the connection holds the group above zero; Shutdown waits for the handler too
		go func() {
			defer c.g.wg.Done()
			c.handle()
		}()
	}
	c.mu.Unlock()
}

// inboxFull reports whether a message of n bytes must wait. An empty inbox
// takes any message. c.mu is held.
func (c *conn) inboxFull(n int) bool {
	o := &c.g.opts
	return len(c.inbox) > 0 && (o.MessageQueue > 0 && len(c.inbox) >= o.MessageQueue ||
		o.MessageQueueBytes > 0 && c.inboxBytes+n > o.MessageQueueBytes)
}

// wakeReader releases a reader waiting for room in the inbox. c.mu is held.
func (c *conn) wakeReader() {
	if c.space != nil {
		close(c.space)
		c.space = nil
	}
}

// wakeHandler ends the wait of a lingering handler. c.mu is held.
func (c *conn) wakeHandler() {
	if c.lingering {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// dropInbox drops the messages not yet handled: the connection is closing.
// c.mu is held.
func (c *conn) dropInbox() {
	clear(c.inbox)
	c.inbox, c.inboxBytes = nil, 0
	c.wakeReader()
	c.wakeHandler()
}

// handlerLinger is how long the handler goroutine waits for the next message
// before it ends. A connection that keeps sending keeps its handler, instead
// of starting a goroutine per message whose stack grows anew through the
// HTTP client each time (the top avoidable cost in wsgw-bench's CPU
// profile); an idle connection still holds no handler.
const handlerLinger = 20 * time.Millisecond

// handle is the handler goroutine: it handles the inbox's messages one at a
// time, in order (SPEC ), and ends when the inbox is empty or the
// connection is no longer open. A call in flight when the connection closes
// runs to its end (or its timeout), as on AWS, where the integration request
// does not depend on the client's connection; its answer reaches no one.
func (c *conn) handle() {
	ctx := c.g.ctx
	var linger *time.Timer
	defer func() {
		if linger != nil {
			linger.Stop()
		}
	}()
	for {
		c.mu.Lock()
		if len(c.inbox) == 0 && c.state == stateOpen {
			if c.wake == nil {
				c.wake = make(chan struct{}, 1)
			}
			if linger == nil {
				linger = time.NewTimer(handlerLinger)
			} else {
				linger.Reset(handlerLinger)
			}
			c.lingering = true
			c.mu.Unlock()
			select {
			case <-c.wake:
			case <-linger.C:
			}
			c.mu.Lock()
			c.lingering = false
			select {
			case <-c.wake: // a wake-up that lost the race with the timer
			default:
			}
		}
		if len(c.inbox) == 0 || c.state != stateOpen {
			c.handling = false
			c.dropInbox()
			if c.handled != nil {
				close(c.handled)
				c.handled = nil
			}
			c.mu.Unlock()
			return
		}
		m := c.inbox[0]
		c.inbox[0] = inMsg{}
		c.inbox = c.inbox[1:]
		c.inboxBytes -= len(m.data)
		if len(c.inbox) == 0 {
			c.inbox = nil
		}
		c.wakeReader()
		c.mu.Unlock()

		c.srv.handleMessage(ctx, c, m.typ, m.data, m.at)
	}
}

// handlerDone returns a channel closed when the handler goroutine ends, or
// nil when it does not run. c.mu is held.
func (c *conn) handlerDone() chan struct{} {
	if !c.handling {
		return nil
	}
	if c.handled == nil {
		c.handled = make(chan struct{})
	}
	return c.handled
}

// waitHandled waits until the handler has handled every message read so far.
func (c *conn) waitHandled() {
	c.mu.Lock()
	done := c.handlerDone()
	c.wakeHandler() // a lingering handler has handled everything: let it end now
	c.mu.Unlock()
	if done != nil {
		<-done
	}
}

// readFailed ends a connection whose reader stopped with err.
func (c *conn) readFailed(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		// The client's close frame (gorilla answered it), or its answer to ours.
		c.peerClosed(ce.Code, ce.Text)
		return
	case errors.Is(err, errFrameTooLarge):
		// The messages before the frame are still handled (the stream stopped
		// there, so nothing else can arrive meanwhile), then the close.
		c.waitHandled()
		c.closeAndLinger(websocket.CloseMessageTooBig, reasonFrameTooBig)
	case errors.Is(err, errMessageTooLarge):
		c.waitHandled()
		c.closeAndLinger(websocket.CloseMessageTooBig, reasonMsgTooBig)
	case errors.Is(err, errInvalidUTF8):
		c.waitHandled()
		c.closeAndLinger(websocket.CloseInvalidFramePayloadData, reasonInvalidUTF8)
	case errors.Is(err, errBinaryFrame):
		c.waitHandled()
		c.closeAndLinger(websocket.CloseUnsupportedData, reasonBinary)
	case errors.As(err, &ne) && ne.Timeout():
		// Idle, open too long, or the close grace ran out (then nothing changes).
		c.closeAndLinger(websocket.CloseGoingAway, reasonGoingAway)
	default:
		// EOF, reset, protocol error: the connection is lost.
		c.peerClosed(websocket.CloseAbnormalClosure, "")
	}
}

// closeAndLinger sends a close frame after the reader stopped (limits,
// timeouts), then reads and discards what the client still sends until it
// closes or the grace period ends, so the client receives the close frame
// rather than a TCP reset.
func (c *conn) closeAndLinger(code int, reason string) {
	sent, ok := c.startClose(code, reason, false)
	if !ok {
		return
	}
	wait := c.g.opts.WriteTimeout + time.Second
	if c.g.opts.WriteTimeout <= 0 {
		wait = 10 * time.Second
	}
	select {
	case <-sent:
	case <-time.After(wait):
		return
	}
	raw := c.tcp
	if fl, ok := raw.(*frameLimiter); ok {
		raw = fl.Conn
	}
	_ = raw.SetReadDeadline(c.g.now().Add(c.g.opts.CloseGrace))
	_, _ = io.Copy(io.Discard, raw)
}

// finish closes the TCP connection and runs $disconnect (SPEC ): the
// messages not yet handled are dropped and $disconnect runs at once, without
// waiting for a call in flight, which goes on to its end (our choice: on AWS
// the $disconnect and message integration requests are independent).
func (c *conn) finish() {
	c.mu.Lock()
	if c.state == stateOpen {
		c.state = stateClosing
		c.closeCode = websocket.CloseAbnormalClosure
	}
	dropped := c.queue
	c.queue, c.queued = nil, 0
	code, reason := c.closeCode, c.closeReason
	c.state = stateClosed
	c.markCloseSent()
	c.dropInbox()
	c.mu.Unlock()
	failFrames(dropped)
	c.g.reg.Unregister(c.meta.id)
	c.tcp.Close()
	c.g.untrack(c)
	c.srv.disconnect(c, code, reason)
	c.g.wg.Done()
}
