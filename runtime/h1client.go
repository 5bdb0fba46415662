package runtime

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// h1Transport is the gateway's transport for the integrations' calls (SPEC
// A plain-http call is made by the goroutine that asks for it: it
// takes a kept-alive connection from the pool, writes the request, reads
// the answer and puts the connection back, with no other goroutine woken
// (net/http's Transport hands every call to a writer and a reader
// goroutine of the connection, two wake-ups each way per call). What goes on
// the wire is what net/http's Transport sends: the request as
// http.Request.Write writes it, with "Accept-Encoding: gzip" when the
// request names no encoding, and a gzip answer to it decompressed.
// https calls, and every call on a system without h1Peek, go to std.
type h1Transport struct {
	std    *http.Transport
	dialer *net.Dialer
	// peek reports whether a kept connection is still open (h1Peek; tests
	// change it).
	peek func(net.Conn) bool

	// maxIdle and maxIdlePerHost bound the connections kept; idleTimeout is
	// how long one is kept unused.
	maxIdle, maxIdlePerHost int
	idleTimeout             time.Duration

	mu    sync.Mutex
	idle  map[string][]*h1Conn // by host:port, the latest kept last
	nidle int
	sweep *time.Timer // closes the connections kept past idleTimeout
}

// h1Conn is a kept-alive connection to a backend.
type h1Conn struct {
	nc     net.Conn
	br     *bufio.Reader
	wb     []byte // the request written last, whose room the next one uses
	addr   string
	idleAt time.Time
	reused bool // it carried a call before
}

func newH1Transport(std *http.Transport, dialer *net.Dialer) *h1Transport {
	return &h1Transport{std: std, dialer: dialer, peek: h1Peek, maxIdle: std.MaxIdleConns,
		maxIdlePerHost: std.MaxIdleConnsPerHost, idleTimeout: std.IdleConnTimeout, idle: map[string][]*h1Conn{}}
}

// h1MaxBody is the largest request body h1Transport writes itself: one a
// backend that answers without reading it (401, 413) cannot block, as it
// fits the sockets' buffers. Larger ones go to std, which reads the answer
// while it writes.
const h1MaxBody = 64 << 10

// direct reports whether h1Transport makes the call req itself.
func (t *h1Transport) direct(req *http.Request) bool {
	if req.URL.Scheme != "http" || !h1Peekable || req.ContentLength > h1MaxBody ||
		req.ContentLength < 0 || (req.ContentLength == 0 && req.Body != nil && req.Body != http.NoBody) {
		return false
	}
	// Host names that are not ASCII go to std, which converts them (IDNA).
	return isASCII(req.URL.Host) && isASCII(req.Host)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// RoundTrip sends req and returns the answer, whose Body the caller reads
// and closes; the connection goes back to the pool once the body was read
// to its end, and is closed otherwise. req is not changed; its body is
// closed.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.direct(req) {
		return t.std.RoundTrip(req)
	}
	if err := checkHeader(req.Header); err != nil {
		closeBody(req)
		return nil, err
	}
	addr := dialAddr(req.URL)
	gz := req.Method != http.MethodHead && req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == ""
	ctx := req.Context()
	for {
		c, err := t.get(ctx, addr)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, retry, err := t.exchange(ctx, c, req, gz)
		if err == nil {
			return resp, nil
		}
		if !retry {
			return nil, err
		}
		// The kept connection was closed by the server before it could
		// have acted on the request: send it again on another, as net/http
		// does.
		if req, err = rewound(req); err != nil {
			return nil, err
		}
	}
}

// dialAddr is host:port of an http URL, port 80 when it names none.
func dialAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// closeBody closes the body of a request that will not be sent.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// replayable reports whether req may be sent again whatever became of it
// (net/http's rule): an idempotent method whose body can be made again.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return rewindable(req)
	}
	return false
}

// rewindable reports whether req's body can be made again for a second
// attempt.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewound is a copy of req (rewindable) with its body made again.
func rewound(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := *req
	r.Body = body
	return &r, nil
}

// acceptGzip is the header line h1Transport adds to a request that names
// no encoding, where net/http's Transport adds it: last, after the request's
// own (req.Header, which the trace shares, is not changed).
var acceptGzip = []byte("Accept-Encoding: gzip\r\n")

// aLongTimeAgo is a deadline in the past: a connection given it fails its
// reads and writes at once.
var aLongTimeAgo = time.Unix(1, 0)

// earlyAnswerWait is how long a call whose request could not be written
// waits for an answer the server may have sent before it stopped reading
// (net/http waits as long).
const earlyAnswerWait = 50 * time.Millisecond

// exchange writes req on c and reads the answer's head. retry says that the
// call failed on a kept connection in a way that lets it be sent again:
// nothing of it was written, or it is replayable and no answer came.
func (t *h1Transport) exchange(ctx context.Context, c *h1Conn, req *http.Request, gz bool) (*http.Response, bool, error) {
	dl, _ := ctx.Deadline()
	_ = c.nc.SetDeadline(dl)
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
	}
	fail := func(err error) error {
		if stop != nil {
			stop()
		}
		_ = c.nc.Close()
		return ctxErr(ctx, dl, err)
	}
	n, werr := c.write(req, gz)
	var bad *badRequest
	if errors.As(werr, &bad) {
		return nil, false, fail(bad.err) // nothing was sent
	}
	if werr != nil {
		if c.reused && n == 0 && rewindable(req) && ctx.Err() == nil {
			return nil, true, fail(werr)
		}
		// The server may have answered before it stopped reading.
		if early := time.Now().Add(earlyAnswerWait); dl.IsZero() || early.Before(dl) {
			_ = c.nc.SetReadDeadline(early)
		}
	}
	resp, err := readResponse(c.br, req)
	if err != nil {
		if werr != nil {
			return nil, false, fail(werr)
		}
		return nil, c.reused && replayable(req) && ctx.Err() == nil, fail(err)
	}
	keep := werr == nil && !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	b := &h1Body{t: t, c: c, rc: resp.Body, ctx: ctx, dl: dl, stop: stop, keep: keep}
	resp.Body = b
	if gz && b.rc != http.NoBody && resp.ContentLength != 0 && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
		resp.Body = &gunzipBody{body: b}
	}
	return resp, false, nil
}

// badRequest is a request http.Request.Write refused to write (a body
// shorter than its ContentLength, one that failed to read): nothing of it
// was sent.
type badRequest struct{ err error }

func (e *badRequest) Error() string { return e.err.Error() }

// checkHeader refuses a header net/http's Transport refuses (a mapped value
// may come from a message): a name that is not a token, a value with a
// control character other than a tab. The errors are the Transport's.
func checkHeader(h http.Header) error {
	for k, vv := range h {
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return r >= utf8.RuneSelf || !isTokenByte(byte(r)) }) >= 0 {
			return fmt.Errorf("net/http: invalid header field name %q", k)
		}
		for _, v := range vv {
			for i := 0; i < len(v); i++ {
				if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
					return fmt.Errorf("net/http: invalid header field value for %q", k)
				}
			}
		}
	}
	return nil
}

// isTokenByte reports whether b may be in an HTTP token (RFC 9110 5.6.2).
func isTokenByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// ctxErr is the error of a call that failed with err: the context's when it
// ended, or once the deadline dl, the context's own, has passed and failed
// the call (the context's timer may fire a moment after the connection's),
// else err.
func ctxErr(ctx context.Context, dl time.Time, err error) error {
	if !dl.IsZero() && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		<-ctx.Done()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// write writes req on c in one writev: its head and body as
// http.Request.Write gives them, with acceptGzip before the head's end when
// gz is set. It returns how many bytes went out; a request Write refuses is
// a *badRequest.
func (c *h1Conn) write(req *http.Request, gz bool) (int64, error) {
	w := appendWriter{b: c.wb[:0]}
	if err := req.Write(&w); err != nil {
		return 0, &badRequest{err}
	}
	bufs := net.Buffers{w.b}
	if gz {
		end := bytes.Index(w.b, crlf2)
		if end < 0 {
			return 0, &badRequest{errors.New("net/http wrote a request without a head")}
		}
		bufs = net.Buffers{w.b[:end+2], acceptGzip, w.b[end+2:]}
	}
	n, err := bufs.WriteTo(c.nc)
	if cap(w.b) <= 16<<10 {
		c.wb = w.b[:0] // kept for the next call; a large one is not kept
	}
	return n, err
}

var crlf2 = []byte("\r\n\r\n")

// appendWriter is an io.Writer appending to b; it is an io.ByteWriter so
// that http.Request.Write writes to it without a bufio.Writer of its own.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *appendWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}

func (w *appendWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

// readResponse reads an answer's head, skipping the informational (1xx)
// answers before it as net/http does.
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
}

// get returns a kept connection to addr that the server has not closed, or
// a new one.
func (t *h1Transport) get(ctx context.Context, addr string) (*h1Conn, error) {
	for {
		t.mu.Lock()
		cs := t.idle[addr]
		if len(cs) == 0 {
			t.mu.Unlock()
			break
		}
		c := cs[len(cs)-1]
		cs[len(cs)-1] = nil
		t.idle[addr] = cs[:len(cs)-1]
		t.nidle--
		t.mu.Unlock()
		if c.br.Buffered() == 0 && t.peek(c.nc) {
			return c, nil
		}
		_ = c.nc.Close() // closed by the server, or it sent what nobody asked for
	}
	nc, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &h1Conn{nc: nc, br: bufio.NewReaderSize(nc, 4<<10), addr: addr}, nil
}

// put keeps c for the next call to its address, or closes it when the pool
// is full or closed.
func (t *h1Transport) put(c *h1Conn) {
	c.reused = true
	c.idleAt = time.Now()
	t.mu.Lock()
	cs := t.idle[c.addr]
	if len(cs) >= t.maxIdlePerHost || t.nidle >= t.maxIdle {
		t.mu.Unlock()
		_ = c.nc.Close()
		return
	}
	t.idle[c.addr] = append(cs, c)
	t.nidle++
	if t.sweep == nil {
		t.sweep = time.AfterFunc(t.idleTimeout, t.sweepIdle)
	}
	t.mu.Unlock()
}

// sweepIdle closes the connections kept unused for idleTimeout, and comes
// back while any is kept.
func (t *h1Transport) sweepIdle() {
	var old []*h1Conn
	t.mu.Lock()
	cutoff := time.Now().Add(-t.idleTimeout)
	for addr, cs := range t.idle {
		n := 0
		for n < len(cs) && !cs[n].idleAt.After(cutoff) {
			n++ // kept in order: the oldest first
		}
		old = append(old, cs[:n]...)
		t.idle[addr] = append(cs[:0], cs[n:]...)
		clear(cs[len(cs)-n:])
		if len(t.idle[addr]) == 0 {
			delete(t.idle, addr)
		}
		t.nidle -= n
	}
	t.sweep = nil
	if t.nidle > 0 {
		t.sweep = time.AfterFunc(t.idleTimeout/2, t.sweepIdle)
	}
	t.mu.Unlock()
	for _, c := range old {
		_ = c.nc.Close()
	}
}

// CloseIdleConnections closes the kept connections, and those of std.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle, t.nidle = map[string][]*h1Conn{}, 0
	if t.sweep != nil {
		t.sweep.Stop()
		t.sweep = nil
	}
	t.mu.Unlock()
	for _, cs := range idle {
		for _, c := range cs {
			_ = c.nc.Close()
		}
	}
	t.std.CloseIdleConnections()
}

// h1Body is an answer's body on a pooled connection: read to its end, it
// gives the connection back; closed before, it closes the connection.
type h1Body struct {
	t    *h1Transport
	c    *h1Conn // nil once given back or closed
	rc   io.ReadCloser
	ctx  context.Context
	dl   time.Time   // the context's deadline, on the connection
	stop func() bool // undoes the context's hold on the connection
	keep bool        // the connection may carry another call
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.c == nil {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.release(true)
	} else if err != nil {
		b.release(false)
		err = ctxErr(b.ctx, b.dl, err)
	}
	return n, err
}

// Close gives the connection back when the body was read to its end, as
// it is when what is left of it is already buffered; else it closes it
// rather than wait for the rest.
func (b *h1Body) Close() error {
	if b.c == nil {
		return nil
	}
	if b.c.br.Buffered() > 0 || b.rc == http.NoBody {
		// Only what is buffered: a read that needs the network fails at once.
		_ = b.c.nc.SetReadDeadline(aLongTimeAgo)
		var scratch [64]byte
		if n, err := b.rc.Read(scratch[:]); n == 0 && err == io.EOF {
			b.release(true)
			return nil
		}
	}
	b.release(false)
	return nil
}

// release gives the connection back (ok) or closes it. A connection is
// given back only with nothing buffered past the answer (a backend that sent
// more than it declared would have it read as the next call's answer) and
// without the call's deadline.
func (b *h1Body) release(ok bool) {
	c := b.c
	b.c = nil
	if b.stop != nil && !b.stop() {
		ok = false // the context ended: its deadline is on the connection
	}
	if ok && b.keep && c.br.Buffered() == 0 && c.nc.SetDeadline(time.Time{}) == nil {
		b.t.put(c)
		return
	}
	_ = c.nc.Close()
}

// gunzipBody decompresses a gzip body as it is read.
type gunzipBody struct {
	body *h1Body
	zr   *gzip.Reader
	err  error
}

func (g *gunzipBody) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.zr == nil {
		g.zr, g.err = gzip.NewReader(g.body)
		if g.err != nil {
			return 0, g.err
		}
	}
	n, err := g.zr.Read(p)
	if err == io.EOF {
		// The stream ended: what the body holds after it is read, so the
		// connection can be given back.
		_, _ = io.CopyN(io.Discard, g.body, 64<<10)
	}
	if err != nil {
		g.err = err
	}
	return n, err
}

func (g *gunzipBody) Close() error { return g.body.Close() }
