package runtime

import (
	"crypto/tls"
	"net"
	"sync"
	"syscall"
	"time"
)

// deadlineSlack is how much later than asked a connection's deadlines may
// fall. gorilla sets the write deadline before every frame and the reader
// moves the idle deadline on every frame; each is a trip through the
// runtime's timers. A deadline asked for at most deadlineSlack before the
// one in force is left as it is, and a new one is set deadlineSlack later
// than asked, so that a busy connection moves its deadlines about once per
// deadlineSlack instead of once per frame. A timeout may thus fire up to
// deadlineSlack late, never early.
const deadlineSlack = 10 * time.Millisecond

// directWriteMax bounds the bytes a sender writes itself (conn.answer,
// conn.Send): the frame and the socket's unacknowledged bytes together. A
// client that reads keeps its socket's queue near empty; one that does not
// fills it, and then frames go through the send queue, whose bound closes
// the connection ("Slow consumer") instead of blocking the sender. The
// initial TCP send buffer on Linux (tcp_wmem) is 16 KB.
const directWriteMax = 16 << 10

// wire is the hijacked connection of a WebSocket as the gateway uses it:
// deadlines set lazily (see deadlineSlack), a read deadline that, once
// pinned (the close grace), later calls do not move, and the depth of the
// socket's send queue (backlogged).
type wire struct {
	net.Conn

	rc      syscall.RawConn // the socket, for backlogged and waitReadable (nil: unknown)
	canWait bool            // no TLS over the socket: waitReadable may wait on it
	outqFn  func(fd uintptr)
	outq    int32 // the last depth read by outqFn

	mu     sync.Mutex
	read   time.Time // the read deadline in force
	write  time.Time // the write deadline in force
	pinned bool      // read is the close grace: SetReadDeadline leaves it
}

// SetReadDeadline moves the read deadline to t (or up to deadlineSlack
// after), unless it is pinned.
func (w *wire) SetReadDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pinned {
		return nil
	}
	return w.set(&w.read, t, w.Conn.SetReadDeadline)
}

// SetWriteDeadline moves the write deadline to t (or up to deadlineSlack
// after).
func (w *wire) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.set(&w.write, t, w.Conn.SetWriteDeadline)
}

// SetDeadline sets both.
func (w *wire) SetDeadline(t time.Time) error {
	if err := w.SetReadDeadline(t); err != nil {
		return err
	}
	return w.SetWriteDeadline(t)
}

// pinRead sets the read deadline to t exactly and keeps it there.
func (w *wire) pinRead(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pinned = true
	w.read = t
	return w.Conn.SetReadDeadline(t)
}

// set moves *cur to t through apply unless *cur already serves: no earlier
// than t and at most deadlineSlack later. w.mu is held.
func (w *wire) set(cur *time.Time, t time.Time, apply func(time.Time) error) error {
	if keepDeadline(*cur, t) {
		return nil
	}
	at := t
	if !t.IsZero() && t.After(time.Now()) {
		at = t.Add(deadlineSlack)
	}
	*cur = at
	return apply(at)
}

// keepDeadline reports whether the deadline in force, cur, serves for a
// deadline asked at t.
func keepDeadline(cur, t time.Time) bool {
	if cur.IsZero() || t.IsZero() {
		return cur.IsZero() && t.IsZero()
	}
	return !cur.Before(t) && cur.Sub(t) <= deadlineSlack
}

func newWire(nc net.Conn) *wire {
	w := &wire{Conn: nc}
	w.initBacklog()
	return w
}

// settled drops the wrappers whose work ends with the handshake: the head
// recorder (the request head is read) and the demultiplexer's peeked byte
// (given back). An idle connection then holds less, and each read and write
// goes through fewer layers.
func settled(c net.Conn) net.Conn {
	for {
		switch v := c.(type) {
		case *headConn:
			if v.recording.Load() {
				return c
			}
			c = v.Conn
		case *peekedConn:
			if v.has {
				return c
			}
			c = v.Conn
		default:
			return c
		}
	}
}

// socketOf finds the socket under the gateway's wrappers (frame limiter,
// head recorder, TLS), or nil, and whether TLS is among them.
func socketOf(c net.Conn) (sc syscall.Conn, isTLS bool) {
	for range 8 {
		switch v := c.(type) {
		case syscall.Conn:
			return v, isTLS
		case *frameLimiter:
			c = v.Conn
		case *headConn:
			c = v.Conn
		case *peekedConn:
			c = v.Conn
		case *tls.Conn:
			c, isTLS = v.NetConn(), true
		default:
			return nil, isTLS
		}
	}
	return nil, isTLS
}

// raw is the connection under the wire and the frame limiter.
func (w *wire) raw() net.Conn {
	if fl, ok := w.Conn.(*frameLimiter); ok {
		return fl.Conn
	}
	return w.Conn
}
