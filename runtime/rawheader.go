package runtime

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Go's HTTP server canonicalises header names as it reads them
// (HeaderAuth1 becomes Headerauth1), and API Gateway's events give them as
// the client sent them. headConn keeps the bytes of a connection's first
// request head, which is a WebSocket client's handshake, so the $connect
// event and the authorizer event can give each name as it was on the wire.

// maxRawHead bounds the bytes kept of a request head; a longer head keeps
// Go's canonical names.
const maxRawHead = 64 << 10

// headListener wraps each accepted connection in a headConn.
type headListener struct {
	net.Listener
	tls bool // the connections are TLS ones (http.Server sees them as plain)
}

func (l headListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	hc := &headConn{Conn: c, tls: l.tls}
	hc.recording.Store(true)
	return hc, nil
}

// headConn records what is read from it until the end of the first request
// head (an empty line) or maxRawHead bytes.
type headConn struct {
	net.Conn
	tls bool

	recording atomic.Bool
	mu        sync.Mutex
	head      []byte // the first request head, once complete
	taken     bool
}

func (c *headConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.recording.Load() {
		c.record(p[:n])
	}
	return n, err
}

func (c *headConn) record(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	from := max(len(c.head)-3, 0)
	c.head = append(c.head, b...)
	if i := bytes.Index(c.head[from:], []byte("\r\n\r\n")); i >= 0 {
		c.head = c.head[:from+i+4]
		c.recording.Store(false)
	} else if i := bytes.Index(c.head[from:], []byte("\n\n")); i >= 0 {
		c.head = c.head[:from+i+2]
		c.recording.Store(false)
	} else if len(c.head) > maxRawHead {
		c.head = nil
		c.recording.Store(false)
	}
}

// takeHead returns the first request head once (nil if it is not complete,
// or was taken), and lets go of it.
func (c *headConn) takeHead() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recording.Load() || c.taken {
		return nil
	}
	h := c.head
	c.head, c.taken = nil, true
	return h
}

// dropHead lets go of the head of r's connection unread (r is not a
// handshake, so nothing will ask for it).
func dropHead(r *http.Request) {
	if hc, _ := r.Context().Value(headConnKey{}).(*headConn); hc != nil {
		hc.takeHead()
	}
}

type headConnKey struct{}

// withHeadConn is http.Server.ConnContext: it puts the headConn in the
// requests' context.
func withHeadConn(ctx context.Context, c net.Conn) context.Context {
	if hc, ok := c.(*headConn); ok {
		return context.WithValue(ctx, headConnKey{}, hc)
	}
	return ctx
}

// rawHeaderNames maps each header name of r, canonical, to the spelling the
// client first sent it in, when r is the first request of its connection;
// otherwise nil (the names stay canonical).
func rawHeaderNames(r *http.Request) map[string]string {
	hc, _ := r.Context().Value(headConnKey{}).(*headConn)
	if hc == nil {
		return nil
	}
	head := hc.takeHead()
	if head == nil {
		return nil
	}
	lines := bytes.Split(head, []byte("\n"))
	// The head must be r's: same request line.
	if want := r.Method + " " + r.RequestURI + " "; !bytes.HasPrefix(lines[0], []byte(want)) {
		return nil
	}
	names := make(map[string]string, len(r.Header))
	for _, l := range lines[1:] {
		name, _, ok := bytes.Cut(l, []byte(":"))
		if !ok || len(name) == 0 || name[0] == ' ' || name[0] == '\t' {
			continue
		}
		raw := string(name)
		canon := http.CanonicalHeaderKey(raw)
		if _, seen := names[canon]; !seen && raw != canon {
			names[canon] = raw
		}
	}
	// Every name must be one of r's (Host is not in r.Header).
	for canon := range names {
		if _, ok := r.Header[canon]; !ok && canon != "Host" {
			return nil
		}
	}
	return names
}
