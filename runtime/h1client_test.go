package runtime

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
