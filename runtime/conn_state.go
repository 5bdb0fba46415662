package runtime

import (
	"sync"

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

func (s connState) String() string {
	switch s {
	case stateConnecting:
		return "connecting"
	case stateOpen:
		return "open"
	case stateClosing:
		return "closing"
	case stateClosed:
		return "closed"
	}
	return "unknown"
}

// closeCause is what moves a connection on: the gateway closing it, its
// client closing it (or the connection lost), or its reader ending.
type closeCause int

const (
	causeAccept  closeCause = iota // $connect accepted: connecting → open
	causeGateway                   // the gateway sends a close frame: open → closing
	causePeer                      // the client's close frame, or a lost connection: open → closing
	causeEnd                       // the TCP connection is closed: anything → closed
)

// lifecycle is a connection's state and how it closed, behind a lock of its
// own. Its one transition function, move, is the only place the state
// changes; the send queue and the inbox follow it (see conn.move).
type lifecycle struct {
	mu        sync.Mutex
	state     connState
	code      int    // close code (for $disconnect)
	reason    string // close reason
	byGateway bool   // the gateway started the close (for the inspector)
	// closeSent is closed once the close frame is written, or the connection
	// ended without it; made on first use.
	closeSent chan struct{}
	sent      bool
}

// move applies cause with a close code and reason (causeGateway, causePeer)
// and returns the state before and whether it changed. A connection closes
// once: a close after the first, or anything after the end, changes
// nothing. A connection that ends while open (or connecting) ends with 1006.
func (l *lifecycle) move(cause closeCause, code int, reason string) (from connState, moved bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	from = l.state
	switch {
	case cause == causeAccept && from == stateConnecting:
		l.state = stateOpen
	case (cause == causeGateway || cause == causePeer) && from == stateOpen:
		l.state = stateClosing
		l.code, l.reason = code, reason
		l.byGateway = cause == causeGateway
	case cause == causeEnd && from != stateClosed:
		if from != stateClosing {
			l.code, l.reason = websocket.CloseAbnormalClosure, ""
		}
		l.state = stateClosed
		l.markSent()
	default:
		return from, false
	}
	return from, true
}

// current returns the state.
func (l *lifecycle) current() connState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// closedWith returns the close code and reason.
func (l *lifecycle) closedWith() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.code, l.reason
}

// closedByGateway reports whether the gateway started the close.
func (l *lifecycle) closedByGateway() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byGateway
}

// sentCh returns the channel closed once the close frame is written.
func (l *lifecycle) sentCh() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closeSent == nil {
		l.closeSent = make(chan struct{})
		if l.sent {
			close(l.closeSent)
		}
	}
	return l.closeSent
}

// closeFrameSent releases those waiting for the close frame.
func (l *lifecycle) closeFrameSent() {
	l.mu.Lock()
	l.markSent()
	l.mu.Unlock()
}

// markSent: l.mu is held.
func (l *lifecycle) markSent() {
	if !l.sent {
		l.sent = true
		if l.closeSent != nil {
			close(l.closeSent)
		}
	}
}
