package runtime

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// h1Server is a test backend that tracks its connections.
type h1Server struct {
	*httptest.Server
	mu     sync.Mutex
	conns  []net.Conn                 // in the order they were opened
	states map[net.Conn]chan struct{} // closed when the connection is
	idle   chan net.Conn              // connections gone idle after an answer
}

func newH1Server(t *testing.T, h http.HandlerFunc) *h1Server {
	t.Helper()
	s := &h1Server{states: map[net.Conn]chan struct{}{}, idle: make(chan net.Conn, 64)}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch st {
		case http.StateNew:
			s.conns = append(s.conns, c)
			s.states[c] = make(chan struct{})
		case http.StateIdle:
			select {
			case s.idle <- c:
			default:
			}
		case http.StateClosed, http.StateHijacked:
			close(s.states[c])
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// opened is how many connections the server was given.
func (s *h1Server) opened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// conn is the i-th connection the server was given.
func (s *h1Server) conn(i int) net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[i]
}

// waitClosed waits until the server saw c closed.
func (s *h1Server) waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	s.mu.Lock()
	ch := s.states[c]
	s.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the server's connection was not closed")
	}
}

// newTestH1 is the gateway's transport (newHTTPClient) with at most
// perHost connections kept to a backend.
func newTestH1(t *testing.T, perHost int) *h1Transport {
	t.Helper()
	tr, ok := newHTTPClient(&Options{MaxIdleConnsPerHost: perHost}).Transport.(*h1Transport)
	if !ok {
		t.Fatal("the gateway's client has no h1Transport")
	}
	if !h1Peekable {
		t.Skip("h1Transport hands every call to net/http on this system")
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// h1Call sends a POST of body to url through rt within ctx and reads the
// whole answer.
func h1Call(ctx context.Context, rt http.RoundTripper, url, body string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func echoH1(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	_, _ = w.Write(b)
}

// Calls one after the other share one kept-alive connection, whether the
// answer declares its length, is chunked or has no body (SPEC ).
func TestH1Reuse(t *testing.T) {
	srv := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			_, _ = w.Write([]byte("part one, "))
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte("part two"))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			echoH1(w, r)
		}
	})
	tr := newTestH1(t, 4)
	for i, tc := range []struct{ path, body, want string }{
		{"/", "hello", "hello"},
		{"/chunked", "x", "part one, part two"},
		{"/empty", "x", ""},
		{"/", "", ""},
		{"/", strings.Repeat("big ", 10_000), strings.Repeat("big ", 10_000)},
		{"/", "last", "last"},
	} {
		_, got, err := h1Call(context.Background(), tr, srv.URL+tc.path, tc.body)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got != tc.want {
			t.Fatalf("call %d: got %.40q, want %.40q", i, got, tc.want)
		}
	}
	if n := srv.opened(); n != 1 {
		t.Errorf("%d connections opened, want 1", n)
	}
}

// A kept connection the server has closed is not used: the call goes on a
// new one (without h1Peek, it would fail reading the answer).
func TestH1ServerClosedKeptConnection(t *testing.T) {
	srv := newH1Server(t, echoH1)
	tr := newTestH1(t, 4)
	if _, _, err := h1Call(context.Background(), tr, srv.URL, "one"); err != nil {
		t.Fatal(err)
	}
	c := <-srv.idle
	_ = c.Close()
	srv.waitClosed(t, c)
	_, got, err := h1Call(context.Background(), tr, srv.URL, "two")
	if err != nil || got != "two" {
		t.Fatalf("after the server closed the kept connection: %q, %v", got, err)
	}
	if n := srv.opened(); n != 2 {
		t.Errorf("%d connections opened, want 2", n)
	}
}

// Writing on a kept connection that fails is tried again on a new one: the
// server cannot have read a whole request.
func TestH1RetryWhenWritingFails(t *testing.T) {
	srv := newH1Server(t, echoH1)
	tr := newTestH1(t, 4)
	tr.peek = func(net.Conn) bool { return true } // as if the close came after the check
	if _, _, err := h1Call(context.Background(), tr, srv.URL, "one"); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	for _, cs := range tr.idle {
		for _, c := range cs {
			_ = c.nc.Close()
		}
	}
	tr.mu.Unlock()
	_, got, err := h1Call(context.Background(), tr, srv.URL, "two")
	if err != nil || got != "two" {
		t.Fatalf("after a failed write: %q, %v", got, err)
	}
}

// An answer with Connection: close, or one whose body is not read to its
// end, leaves its connection closed, not kept.
func TestH1NotKept(t *testing.T) {
	srv := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		_, _ = w.Write(bytes.Repeat([]byte("x"), 200_000))
	})
	tr := newTestH1(t, 4)
	if _, _, err := h1Call(context.Background(), tr, srv.URL+"/close", ""); err != nil {
		t.Fatal(err)
	}
	srv.waitClosed(t, srv.conn(0))

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/big", http.NoBody)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // most of the body unread: not waited for
	srv.waitClosed(t, srv.conn(1))
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.nidle != 0 {
		t.Errorf("kept %v, want nothing", tr.idle)
	}
}

// Like net/http's Transport, the call asks for gzip when the request names
// no encoding and decompresses a gzip answer; a request that names one gets
// the answer as it is.
func TestH1Gzip(t *testing.T) {
	srv := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Accept-Encoding", r.Header.Get("Accept-Encoding"))
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			_, _ = w.Write([]byte("plain"))
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write([]byte("zipped"))
		_ = zw.Close()
	})
	tr := newTestH1(t, 4)
	resp, got, err := h1Call(context.Background(), tr, srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if got != "zipped" || !resp.Uncompressed || resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("X-Accept-Encoding") != "gzip" {
		t.Errorf("got %q, uncompressed %v, headers %v", got, resp.Uncompressed, resp.Header)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, http.NoBody)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(b) != "plain" || resp.Uncompressed {
		t.Errorf("Accept-Encoding: identity: got %q, uncompressed %v", b, resp.Uncompressed)
	}
	if n := srv.opened(); n != 1 {
		t.Errorf("%d connections opened, want 1", n)
	}
}

// What a backend receives from h1Transport is, byte for byte, what it
// receives from net/http's Transport, for the requests integrations make.
func TestH1SendsWhatNetHTTPSends(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				rec := &recordingReader{r: c}
				br := bufio.NewReader(rec)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, r.Body)
					// The client sends nothing more before the answer:
					// what was read is the request.
					got <- rec.take()
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}()
		}
	}()
	base := "http://" + ln.Addr().String()
	tr := newTestH1(t, 4)
	requests := []func() *http.Request{
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, base+"/echo?a=1&b=2", strings.NewReader(`{"action":"echo"}`))
			r.Header["User-Agent"] = []string{"AmazonAPIGateway_abc"}
			r.Header["Content-Type"] = jsonType
			r.Header["X-Connection-Id"] = []string{"id="}
			r.Header["X-Many"] = []string{"one", "two"}
			r.Header["X-Spaced"] = []string{" a\tb "}
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, base+"/disconnect", http.NoBody)
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, base+"/get", http.NoBody)
			r.Host = "backend.example"
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPut, base+"/put", bytes.NewReader([]byte{0, 1, 2, 0xff}))
			r.Header.Set("Accept-Encoding", "br")
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodDelete, base+"/range", http.NoBody)
			r.Header.Set("Range", "bytes=0-1")
			return r
		},
	}
	for i, mk := range requests {
		var seen [2][]byte
		for j, rt := range []http.RoundTripper{tr.std, tr} {
			resp, err := rt.RoundTrip(mk())
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			_, _ = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			seen[j] = <-got
		}
		if !bytes.Equal(seen[0], seen[1]) {
			t.Errorf("request %d: h1Transport sent\n%q\nnet/http\n%q", i, seen[1], seen[0])
		}
	}
	// What net/http refuses to send, h1Transport refuses with the same
	// error.
	for _, h := range []http.Header{{"X-Line": {"a\nb"}}, {"X-Nul": {"\x00"}}, {"X-Del": {"\x7f"}}, {"Bad Name": {"v"}}, {"X-Ünicode": {"v"}}} {
		var errs [2]string
		for j, rt := range []http.RoundTripper{tr.std, tr} {
			r, _ := http.NewRequest(http.MethodPost, base+"/bad", http.NoBody)
			maps.Copy(r.Header, h)
			_, err := rt.RoundTrip(r)
			if err == nil {
				t.Fatalf("header %q sent", h)
			}
			errs[j] = err.Error()
		}
		if errs[0] != errs[1] {
			t.Errorf("header %q: h1Transport says %q, net/http %q", h, errs[1], errs[0])
		}
	}
}

// recordingReader keeps what is read through it.
type recordingReader struct {
	r   io.Reader
	mu  sync.Mutex
	buf []byte
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.mu.Lock()
	r.buf = append(r.buf, p[:n]...)
	r.mu.Unlock()
	return n, err
}

// take returns what was read since the last take.
func (r *recordingReader) take() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buf
	r.buf = nil
	return b
}

// A call past its context's deadline fails with the context's error, and
// one whose context is cancelled stops at once; the next call is answered.
func TestH1DeadlineAndCancel(t *testing.T) {
	arrived := make(chan struct{}, 4)
	srv := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			// Read the body, so that the server notices the call
			// abandoned.
			_, _ = io.Copy(io.Discard, r.Body)
			arrived <- struct{}{}
			<-r.Context().Done()
			return
		}
		echoH1(w, r)
	})
	tr := newTestH1(t, 4)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := h1Call(ctx, tr, srv.URL+"/hang", "x")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("past the deadline: %v (context: %v), want context.DeadlineExceeded", err, ctx.Err())
	}
	<-arrived

	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := h1Call(ctx, tr, srv.URL+"/hang", "x")
		errc <- err
	}()
	<-arrived
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled call did not return")
	}
	if _, got, err := h1Call(context.Background(), tr, srv.URL, "after"); err != nil || got != "after" {
		t.Fatalf("after: %q, %v", got, err)
	}
}

// Informational answers (1xx) before the answer are skipped, as net/http
// does.
func TestH1Informational(t *testing.T) {
	srv := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("final"))
	})
	tr := newTestH1(t, 4)
	resp, got, err := h1Call(context.Background(), tr, srv.URL, "")
	if err != nil || resp.StatusCode != http.StatusAccepted || got != "final" {
		t.Fatalf("got %v %q, %v; want 202 final", resp, got, err)
	}
}

// At most MaxIdleConnsPerHost connections are kept to a backend; kept ones
// unused for the idle timeout are closed.
func TestH1KeptBounds(t *testing.T) {
	var both sync.WaitGroup
	both.Add(2)
	srv := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/together" {
			both.Done()
			both.Wait()
		}
		echoH1(w, r)
	})
	tr := newTestH1(t, 2)
	tr.maxIdlePerHost = 1
	var calls sync.WaitGroup
	for range 2 {
		calls.Add(1)
		go func() {
			defer calls.Done()
			if _, _, err := h1Call(context.Background(), tr, srv.URL+"/together", "x"); err != nil {
				t.Error(err)
			}
		}()
	}
	calls.Wait()
	tr.mu.Lock()
	kept := tr.nidle
	tr.mu.Unlock()
	if n := srv.opened(); n != 2 || kept != 1 {
		t.Fatalf("%d connections opened and %d kept, want 2 and 1", n, kept)
	}

	tr.mu.Lock()
	tr.idleTimeout = time.Millisecond
	tr.mu.Unlock()
	tr.sweepIdle()
	srv.waitClosed(t, srv.conn(0))
	srv.waitClosed(t, srv.conn(1))
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.nidle != 0 || len(tr.idle) != 0 {
		t.Errorf("after the idle timeout: %d kept", tr.nidle)
	}
}

// rawH1Server runs handle on every connection accepted (n counts them from
// 1) and returns its base URL.
func rawH1Server(t *testing.T, handle func(c net.Conn, n int)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c, int(n.Add(1)))
		}
	}()
	return "http://" + ln.Addr().String()
}

// rawH1Answer is a rawH1Server that reads one request of each connection,
// its body drained, and lets answer write what it wants.
func rawH1Answer(t *testing.T, answer func(c net.Conn, br *bufio.Reader, r *http.Request, n int)) string {
	return rawH1Server(t, func(c net.Conn, n int) {
		defer c.Close()
		br := bufio.NewReader(c)
		r, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		answer(c, br, r, n)
	})
}

// transports returns net/http's Transport and h1Transport, named.
func transports(t *testing.T) map[string]http.RoundTripper {
	tr := newTestH1(t, 4)
	return map[string]http.RoundTripper{"net/http": tr.std, "h1Transport": tr}
}

// A request without a body whose write fails on a kept connection is sent
// again on a new one (it has no GetBody to call).
func TestH1RetryWithoutBody(t *testing.T) {
	srv := newH1Server(t, echoH1)
	tr := newTestH1(t, 4)
	tr.peek = func(net.Conn) bool { return true }
	for i := range 2 {
		if i == 1 {
			tr.mu.Lock()
			for _, cs := range tr.idle {
				for _, c := range cs {
					_ = c.nc.Close()
				}
			}
			tr.mu.Unlock()
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, http.NoBody)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		_, _ = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
	}
}

// A POST the backend answered from its head before resetting the connection
// reaches the backend once, however large its body, as with net/http.
func TestH1PostNotDuplicated(t *testing.T) {
	for _, size := range []int{60 << 10, 8 << 20} {
		for name, rt := range transports(t) {
			var seen atomic.Int32
			base := rawH1Server(t, func(c net.Conn, _ int) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					if r.URL.Path != "/pay" {
						_, _ = io.Copy(io.Discard, r.Body)
						_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
						continue
					}
					seen.Add(1)
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npaid")
					_ = c.(*net.TCPConn).SetLinger(0) // reset, the body unread
					return
				}
			})
			if _, _, err := h1Call(context.Background(), rt, base+"/warm", "x"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _, _ = h1Call(ctx, rt, base+"/pay", strings.Repeat("x", size))
			cancel()
			if n := seen.Load(); n != 1 {
				t.Errorf("%s, %d-byte body: the backend saw the POST %d times, want 1", name, size, n)
			}
		}
	}
}

// Bytes a backend sent past the answer it declared are not read as the next
// call's answer: the connection is not kept.
func TestH1LeftoverNotKept(t *testing.T) {
	base := rawH1Server(t, func(c net.Conn, _ int) {
		defer c.Close()
		br := bufio.NewReader(c)
		for i := 1; ; i++ {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(r.Body)
			extra := ""
			if i == 1 {
				extra = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s%s", len(b), b, extra)
		}
	})
	tr := newTestH1(t, 4)
	for _, want := range []string{"one", "two"} {
		_, got, err := h1Call(context.Background(), tr, base, want)
		if err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
}

// A request http.Request.Write refuses (a body shorter than its length)
// fails at once, without waiting for an answer to what was never sent.
func TestH1RefusedRequestFailsAtOnce(t *testing.T) {
	srv := newH1Server(t, echoH1)
	tr := newTestH1(t, 4)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("x"))
	req.ContentLength = 5
	errc := make(chan error, 1)
	go func() {
		_, err := tr.RoundTrip(req)
		errc <- err
	}()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "ContentLength=5 with Body length 1") {
			t.Fatalf("got %v, want http.Request.Write's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call waits for an answer to a request never sent")
	}
}

// A kept connection stays usable after the deadline of the call it carried
// has passed.
func TestH1KeptPastDeadline(t *testing.T) {
	srv := newH1Server(t, echoH1)
	tr := newTestH1(t, 4)
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		if _, _, err := h1Call(ctx, tr, srv.URL, "x"); err != nil {
			t.Fatal(err)
		}
		<-ctx.Done() // the deadline that was on the connection has passed
		cancel()
	}
	if n := srv.opened(); n != 1 {
		t.Errorf("%d connections for 3 calls, want 1", n)
	}
}

// A 101 answer's connection speaks another protocol: it is not kept.
func TestH1SwitchingProtocolsNotKept(t *testing.T) {
	base := rawH1Answer(t, func(c net.Conn, br *bufio.Reader, _ *http.Request, n int) {
		if n == 1 {
			_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			// Now another protocol: whatever comes is answered in it.
			if _, err := br.ReadByte(); err == nil {
				_, _ = c.Write([]byte{0x88, 0x02, 0x03, 0xea})
			}
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	tr := newTestH1(t, 4)
	if resp, _, err := h1Call(context.Background(), tr, base, "a"); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("first: %v, %v", resp, err)
	}
	if _, got, err := h1Call(context.Background(), tr, base, "b"); err != nil || got != "ok" {
		t.Fatalf("second: %q, %v", got, err)
	}
}

// Closing a body whose rest is not buffered does not wait for the network.
func TestH1CloseDoesNotWait(t *testing.T) {
	done := make(chan struct{})
	base := rawH1Answer(t, func(c net.Conn, _ *bufio.Reader, _ *http.Request, _ int) {
		// A chunk, then a chunk header cut short.
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1")
		<-done
	})
	defer close(done)
	tr := newTestH1(t, 4)
	req, _ := http.NewRequest(http.MethodPost, base, strings.NewReader("x"))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		_ = resp.Body.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the rest of the body")
	}
}

// Any number of informational answers may come before the answer, and an
// empty answer declared gzip is left as it is: as with net/http.
func TestH1LikeNetHTTP(t *testing.T) {
	base := rawH1Answer(t, func(c net.Conn, _ *bufio.Reader, r *http.Request, _ int) {
		switch r.URL.Path {
		case "/hints":
			_, _ = io.WriteString(c, strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 8)+
				"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		case "/gzip-204":
			_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")
		case "/gzip-empty":
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		}
	})
	for _, path := range []string{"/hints", "/gzip-204", "/gzip-empty"} {
		var got [2]string
		for i, name := range []string{"net/http", "h1Transport"} {
			resp, body, err := h1Call(context.Background(), transports(t)[name], base+path, "x")
			if err != nil {
				t.Fatalf("%s %s: %v", name, path, err)
			}
			got[i] = fmt.Sprintf("%d %q length %d encoding %q uncompressed %v", resp.StatusCode, body, resp.ContentLength,
				resp.Header.Get("Content-Encoding"), resp.Uncompressed)
		}
		if got[0] != got[1] {
			t.Errorf("%s: h1Transport %s, net/http %s", path, got[1], got[0])
		}
	}
}

// The address dialled is the URL's host and port, 80 when it names none.
func TestH1DialAddr(t *testing.T) {
	for in, want := range map[string]string{
		"http://example.com/x": "example.com:80", "http://example.com:/x": "example.com:80",
		"http://127.0.0.1:9300": "127.0.0.1:9300", "http://[::1]/": "[::1]:80", "http://[::1]:/": "[::1]:80",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := dialAddr(u); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
