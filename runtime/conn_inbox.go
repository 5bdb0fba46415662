package runtime

import (
	"sync"
	"time"
)

// inMsg is a message read from the client and not yet handled.
type inMsg struct {
	typ  int // websocket.TextMessage or BinaryMessage
	data []byte
	at   time.Time // when it arrived
}

// putResult says what the caller of inbox.put does next.
type putResult int

const (
	putQueued  putResult = iota // a handler runs and takes it in turn
	putRun                      // nothing waited and nobody handled: the caller handles it itself, now
	putStart                    // queued: the caller starts a handler goroutine
	putDropped                  // the connection is closing
)

// inbox is a connection's messages read and not yet handled, oldest first,
// with one handler at a time, so that they are handled in order (SPEC
// It is bounded: while it holds maxMsgs messages or maxBytes bytes
// (0: no bound), put waits, so the reader stops reading and TCP pushes back
// on the client; an empty inbox takes any message.
type inbox struct {
	maxMsgs, maxBytes int

	mu       sync.Mutex
	msgs     []inMsg
	bytes    int
	handling bool          // someone holds the handler role
	closed   bool          // the connection is closing: messages are dropped
	space    chan struct{} // closed when there is room again (nil: nobody waits)
	handled  chan struct{} // closed when the handler role is released (nil: nobody waits)
}

// put adds m. With inline, a message that finds the inbox empty and nobody
// handling gives its caller the handler role (putRun) instead of being
// queued.
func (in *inbox) put(m inMsg, inline bool) putResult {
	in.mu.Lock()
	defer in.mu.Unlock()
	for !in.closed && in.full(len(m.data)) {
		if in.space == nil {
			in.space = make(chan struct{})
		}
		space := in.space
		in.mu.Unlock()
		<-space
		in.mu.Lock()
	}
	switch {
	case in.closed:
		return putDropped
	case inline && !in.handling:
		// Nothing waits: a handler would have taken it.
		in.handling = true
		return putRun
	}
	in.msgs = append(in.msgs, m)
	in.bytes += len(m.data)
	if in.handling {
		return putQueued
	}
	in.handling = true
	return putStart
}

// full reports whether a message of n bytes must wait. in.mu is held.
func (in *inbox) full(n int) bool {
	return len(in.msgs) > 0 && (in.maxMsgs > 0 && len(in.msgs) >= in.maxMsgs ||
		in.maxBytes > 0 && in.bytes+n > in.maxBytes)
}

// take gives the handler its next message. false: there is none, or the
// inbox closed, and the handler role is released (a handler goroutine ends
// as soon as it has caught up, so that the reader handles the next message
// itself again).
func (in *inbox) take() (inMsg, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.msgs) == 0 || in.closed {
		in.releaseLocked()
		return inMsg{}, false
	}
	m := in.msgs[0]
	in.msgs[0] = inMsg{}
	in.msgs = in.msgs[1:]
	in.bytes -= len(m.data)
	if len(in.msgs) == 0 {
		in.msgs = nil
	}
	in.wakeReader()
	return m, true
}

// release ends an inline handler's turn: true when messages came meanwhile
// and the caller starts a handler goroutine for them (the role is kept),
// else the role is released.
func (in *inbox) release() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.msgs) > 0 && !in.closed {
		return true
	}
	in.releaseLocked()
	return false
}

// releaseLocked releases the handler role. in.mu is held.
func (in *inbox) releaseLocked() {
	in.handling = false
	in.dropLocked()
	if in.handled != nil {
		close(in.handled)
		in.handled = nil
	}
}

// close drops the messages not yet handled and every later one: the
// connection is closing.
func (in *inbox) close() {
	in.mu.Lock()
	in.closed = true
	in.dropLocked()
	in.mu.Unlock()
}

// dropLocked drops the messages waiting and wakes the reader. in.mu is
// held.
func (in *inbox) dropLocked() {
	clear(in.msgs)
	in.msgs, in.bytes = nil, 0
	in.wakeReader()
}

// idle returns a channel closed once nobody holds the handler role (nil
// when nobody does).
func (in *inbox) idle() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.handling {
		return nil
	}
	if in.handled == nil {
		in.handled = make(chan struct{})
	}
	return in.handled
}

// wakeReader releases a reader waiting for room. in.mu is held.
func (in *inbox) wakeReader() {
	if in.space != nil {
		close(in.space)
		in.space = nil
	}
}
