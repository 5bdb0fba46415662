package runtime

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
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

// conn is one client connection, made of three parts with a lock each:
//
//   - life, its state (connecting → open → closing → closed), changed only
//     by move;
//   - in, the inbox: messages read and not yet handled, handled one at a
//     time, in order (SPEC );
//   - out, the send queue: frames to write, one writer at a time, bounded.
//
// Its goroutines exist only while there is work. The reader (read) reads
// frames, so that gorilla answers pings and close frames as they come. A
// message that finds nothing waiting is handled by the reader itself, and
// its answer written by it too when nothing else is being written: a
// message then costs no goroutine hand-off. When a call takes longer than
// readerTakeover, a new goroutine takes over the reading (takeOver), so
// pings and closes are still answered while a backend call runs; messages
// then queue in the inbox for a handler goroutine, and frames that wait
// behind a write in the send queue for a writer goroutine.
type conn struct {
	g   *Gateway
	srv *apiServer
	// meta is fixed once the handshake starts.
	meta    connMeta
	stageID string // the stage's path segment
	maxAt   time.Time
	// ws is set once upgraded, before out is ready and the reader starts.
	ws *websocket.Conn

	// stage is the connection's stage as compiled by the latest plan that
	// had it: $disconnect runs from it once a plan has dropped the stage.
	stage atomic.Pointer[stageState]

	lastActive atomic.Int64 // unix nanoseconds

	life lifecycle
	in   inbox
	out  sendQueue

	tcp atomic.Pointer[wire] // the hijacked connection, once upgraded
	cut atomic.Bool          // Shutdown cut the connection (during the upgrade: once upgraded)

	// inline is the reader's turn: readerReading, readerHandling (the reader
	// handles a message itself) or readerHandedOver (takeOver made another
	// goroutine the reader while it did).
	inline   atomic.Int32
	takeover *time.Timer // the reader's; made on first use
	msgs     int64       // the reader's: messages read
	lastRead time.Time   // the reader's: when the last message came
	sparse   bool        // the reader's: the last two messages came more than sparseGap apart
}

// sparseGap is the gap between messages past which the reader waits for the
// next one in waitReadable (a system call per message, which a busy
// connection is spared): a connection that sends nothing, or seldom, keeps
// the smallest stack while idle.
const sparseGap = 100 * time.Millisecond

// Reader turns (conn.inline).
const (
	readerReading int32 = iota
	readerHandling
	readerHandedOver
)

// readerTakeover is how long the reader handles a message itself before a
// new goroutine takes over the reading: the longest a ping or a close frame
// waits for an answer while a backend call runs.
const readerTakeover = 20 * time.Millisecond

var _ Peer = (*conn)(nil)

func newConn(g *Gateway, s *apiServer, st *stageState) *conn {
	o := &g.opts
	c := &conn{g: g, srv: s, stageID: stageSegment(st.stage)}
	c.in.maxMsgs, c.in.maxBytes = o.MessageQueue, o.MessageQueueBytes
	c.out.maxFrames, c.out.maxBytes = o.SendQueue, o.SendQueueBytes
	c.stage.Store(st)
	return c
}

// ID returns the connection id.
func (c *conn) ID() string { return c.meta.id }

// Info describes the connection; ErrGone unless it is open.
func (c *conn) Info() (ConnInfo, error) {
	if c.life.current() != stateOpen {
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

func (c *conn) touch(t time.Time) { c.lastActive.Store(t.UnixNano()) }

// move is the one transition function: it moves the connection's state
// (lifecycle.move) and makes the rest follow. Leaving open, the connection
// leaves the registry (so @connections answers 410), the inbox drops what
// waits and takes nothing more, and the send queue takes nothing more: with
// causeGateway it ends with a close frame behind the accepted frames (or in
// their place, with discard). At the end, the frames not written fail and
// the TCP connection is closed. false: nothing changed.
func (c *conn) move(cause closeCause, code int, reason string, discard bool) bool {
	from, ok := c.life.move(cause, code, reason)
	if !ok {
		return false
	}
	switch cause {
	case causeAccept:
		return true
	case causeGateway:
		dropped, start := c.out.seal(&outFrame{typ: websocket.CloseMessage, code: code, reason: reason}, discard)
		failFrames(dropped)
		if start {
			c.startWriter()
		}
	case causePeer:
		c.out.seal(nil, false)
	case causeEnd:
		failFrames(c.out.drop())
		if w := c.tcp.Load(); w != nil {
			w.Close()
		}
	}
	c.in.close()
	if from == stateOpen {
		c.g.reg.Unregister(c.meta.id)
	}
	return true
}

// Send queues data (a text frame when it is UTF-8, else binary) and waits
// until it is written.
func (c *conn) Send(ctx context.Context, data []byte) error {
	typ := websocket.TextMessage
	if !utf8.Valid(data) {
		typ = websocket.BinaryMessage
	}
	if c.tryWrite(len(data)) {
		if c.writeNow(outFrame{typ: typ, data: data}) != nil {
			return ErrGone
		}
		return nil
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

// answer sends a frame nobody waits for (a message's answer): written at
// once when nothing else is, else queued.
func (c *conn) answer(typ int, data []byte) {
	f := outFrame{typ: typ, data: data}
	if c.tryWrite(len(data)) {
		_ = c.writeNow(f)
		return
	}
	_ = c.enqueue(f)
}

// tryWrite takes the writer role for a frame of n bytes that may be written
// at once: nothing waits before it, and the client reads (wire.backlogged).
func (c *conn) tryWrite(n int) bool {
	if !c.out.tryWrite() {
		return false
	}
	if !c.tcp.Load().backlogged(n) {
		return true
	}
	if c.out.more() {
		c.startWriter()
	}
	return false
}

// enqueue adds a frame to the send queue. A queue past its bounds means the
// client does not read: its frames are dropped and the connection is closed
// with 1008 (policy violation) "Slow consumer".
func (c *conn) enqueue(f outFrame) error {
	switch c.out.push(f) {
	case pushStart:
		c.startWriter()
	case pushSealed:
		return ErrGone
	case pushFull:
		o := &c.g.opts
		c.g.log.Warn("send queue full, closing", "connection", c.meta.id, "frames", o.SendQueue, "bytes", o.SendQueueBytes)
		c.startClose(websocket.ClosePolicyViolation, reasonSlowConsumer, true)
		return ErrGone
	}
	return nil
}

// writeNow writes f for a sender that holds the writer role (tryWrite), and
// hands the role to a writer goroutine when frames queued meanwhile.
func (c *conn) writeNow(f outFrame) error {
	err := c.write(f)
	if c.out.more() {
		c.startWriter()
	}
	return err
}

// startWriter starts a writer goroutine for the role the caller was given.
func (c *conn) startWriter() { go c.drain() }

// drain writes queued frames in order and exits when the queue is empty.
func (c *conn) drain() {
	for {
		f, ok := c.out.next()
		if !ok {
			return
		}
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
	w := c.tcp.Load()
	if f.typ == websocket.CloseMessage {
		err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(f.code, f.reason), deadline)
		c.life.closeFrameSent()
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			w.Close()
			return err
		}
		// Wait a little for the client's close frame, then let the reader end.
		_ = w.pinRead(c.g.now().Add(c.g.opts.CloseGrace))
		return nil
	}
	// The frame is reported before it is written, so that whatever a client
	// does after receiving it (closing, say) is reported after it: a
	// recording (--record) never misses a frame its client saw.
	if c.meta.tr != nil {
		c.traceFrame(&f)
	}
	_ = c.ws.SetWriteDeadline(deadline)
	if err := c.ws.WriteMessage(f.typ, f.data); err != nil {
		w.Close()
		return err
	}
	c.touch(c.g.now())
	return nil
}

// startClose begins the closing handshake from the gateway's side (see
// move). It returns a channel closed once the close frame is written, and
// false when the connection was not open.
func (c *conn) startClose(code int, reason string, discard bool) (<-chan struct{}, bool) {
	if !c.move(causeGateway, code, reason, discard) {
		return nil, false
	}
	return c.life.sentCh(), true
}

// cutTCP closes the TCP connection, which ends the reader; during the
// upgrade, the handshake closes it once upgraded.
func (c *conn) cutTCP() {
	c.cut.Store(true)
	if w := c.tcp.Load(); w != nil {
		w.Close()
	}
}

// armRead sets the read deadline for the next frame: the idle timeout capped
// by the maximum connection duration (while closing the wire keeps the close
// grace).
func (c *conn) armRead() {
	var d time.Time
	if t := c.g.opts.IdleTimeout; t > 0 {
		d = c.g.now().Add(t)
	}
	if !c.maxAt.IsZero() && (d.IsZero() || c.maxAt.Before(d)) {
		d = c.maxAt
	}
	_ = c.tcp.Load().SetReadDeadline(d)
}

// serve starts the reader on a goroutine of the connection's own.
func (c *conn) serve() {
	c.ws.SetPongHandler(func(string) error { c.armRead(); return nil })
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
	// The first deadline is set here, so that an idle connection's reader
	// goes no deeper than waitReadable: its stack stays the smallest.
	c.armRead()
	go c.read()
}

// read is the reader: it reads frames until the connection ends, then
// closes it and runs $disconnect (once), unless it hands the reading over
// while handling a message (takeOver). gorilla answers pings and close
// frames while reading. The read deadline is set before read starts, then
// after each message.
func (c *conn) read() {
	for {
		if c.msgs == 0 || c.sparse {
			c.tcp.Load().waitReadable(c.msgs)
		}
		typ, data, err := c.ws.ReadMessage()
		if err == nil {
			c.msgs++
		}
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
			c.finish()
			return
		}
		now := c.g.now()
		c.touch(now)
		c.sparse = now.Sub(c.lastRead) > sparseGap
		c.lastRead = now
		m := inMsg{typ: typ, data: data, at: now}
		switch c.in.put(m, true) {
		case putRun:
			if !c.handleInline(m) {
				return // another goroutine reads now
			}
		case putStart:
			c.startHandler()
		}
		c.armRead()
	}
}

// handleInline handles m on the reader, which holds the handler role. If
// the call outlasts readerTakeover, takeOver makes a new goroutine the
// reader, and this one stays the handler until the inbox is empty (false).
func (c *conn) handleInline(m inMsg) bool {
	c.inline.Store(readerHandling)
	if c.takeover == nil {
		c.takeover = time.AfterFunc(readerTakeover, c.takeOver)
	} else {
		c.takeover.Reset(readerTakeover)
	}
	c.srv.handleMessage(c, m.typ, m.data, m.at)
	if c.inline.CompareAndSwap(readerHandling, readerReading) {
		c.takeover.Stop()
		if c.in.release() {
			c.startHandler() // injected meanwhile (Gateway.Inject)
		}
		return true
	}
	defer c.g.wg.Done() // counted by takeOver
	c.handleQueued()
	return false
}

// takeOver runs when the reader has handled one message for
// readerTakeover: unless it is done, this goroutine becomes the reader.
func (c *conn) takeOver() {
	if !c.inline.CompareAndSwap(readerHandling, readerHandedOver) {
		return
	}
	c.g.wg.Add(1) // the handler the old reader becomes; the connection holds the group above zero
	c.armRead()
	c.read()
}

// deliver hands m to the handler (Gateway.Inject): it waits in the inbox,
// behind the messages already there. A message arriving while the
// connection closes is dropped.
func (c *conn) deliver(m inMsg) {
	if c.in.put(m, false) == putStart {
		c.startHandler()
	}
}

// startHandler starts a handler goroutine for the role the caller was
// given.
func (c *conn) startHandler() {
	c.g.wg.Add(1) // the connection holds the group above zero; Shutdown waits for the handler too
	go func() {
		defer c.g.wg.Done()
		c.handleQueued()
	}()
}

// handleQueued handles the inbox's messages one at a time, in order (SPEC
// ), and returns when the inbox is empty or the connection is no
// longer open. A call in flight when the connection closes
// runs to its end (or its timeout), as on AWS, where the integration request
// does not depend on the client's connection; its answer reaches no one.
func (c *conn) handleQueued() {
	for {
		m, ok := c.in.take()
		if !ok {
			return
		}
		c.srv.handleMessage(c, m.typ, m.data, m.at)
	}
}

// waitHandled waits until the handler has handled every message read so far.
func (c *conn) waitHandled() {
	if done := c.in.idle(); done != nil {
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
		c.move(causePeer, ce.Code, ce.Text, false)
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
		c.move(causePeer, websocket.CloseAbnormalClosure, "", false)
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
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-sent:
	case <-t.C:
		return
	}
	raw := c.tcp.Load().raw()
	_ = raw.SetReadDeadline(c.g.now().Add(c.g.opts.CloseGrace))
	_, _ = io.Copy(io.Discard, raw)
}

// finish closes the connection and runs $disconnect (SPEC ): the
// messages not yet handled are dropped and $disconnect runs at once, without
// waiting for a call in flight, which goes on to its end (our choice: on AWS
// the $disconnect and message integration requests are independent).
func (c *conn) finish() {
	c.move(causeEnd, 0, "", false)
	c.g.untrack(c)
	code, reason := c.life.closedWith()
	c.srv.disconnect(c, code, reason)
	c.g.wg.Done()
}
