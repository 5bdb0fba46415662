package runtime

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Helpers of the fault tests (faults_test.go).

// call is a request a recorder backend got.
type call struct {
	path string
	id   string // X-Id: the connection id, when mapped
	code string // X-Code: disconnectStatusCode, when mapped
	body string
}

// recorder is a backend that records every call and answers with answer
// (200 and no body when nil). Unlike backend, it never blocks on a full
// channel: thousands of calls are fine.
type recorder struct {
	url    string
	mu     sync.Mutex
	calls  []call
	answer func(w http.ResponseWriter, r *http.Request, body []byte)
	signal chan struct{} // a call arrived (buffered, 1)
}

func newRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, body []byte)) *recorder {
	t.Helper()
	rec := &recorder{answer: answer, signal: make(chan struct{}, 1)}
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.calls = append(rec.calls, call{path: r.URL.Path, id: r.Header.Get("X-Id"), code: r.Header.Get("X-Code"), body: string(body)})
		rec.mu.Unlock()
		select {
		case rec.signal <- struct{}{}:
		default:
		}
		if rec.answer != nil {
			rec.answer(w, r, body)
		}
	}))
	rec.url = s
	return rec
}

// newServer serves h on 127.0.0.1 until the test ends; it returns the URL.
func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// on returns the calls to path.
func (r *recorder) on(path string) []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []call
	for _, c := range r.calls {
		if c.path == path {
			out = append(out, c)
		}
	}
	return out
}

// wait waits until path got n calls, failing after d; it returns them.
func (r *recorder) wait(t *testing.T, path string, n int, d time.Duration) []call {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		cs := r.on(path)
		if len(cs) >= n {
			return cs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s got %d calls within %s, want %d", path, len(cs), d, n)
		}
		select {
		case <-r.signal:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// rawDial opens a TCP connection to the gateway and performs the WebSocket
// handshake by hand, so a test can then send broken or partial frames, or
// nothing at all.
func rawDial(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr, base64.StdEncoding.EncodeToString(key))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake answered %s", resp.Status)
	}
	if br.Buffered() > 0 {
		t.Fatalf("%d bytes after the handshake response", br.Buffered())
	}
	_ = c.SetReadDeadline(time.Time{})
	return c
}

// clientFrame is a masked client frame (RFC 6455 §5.2) with payload length
// n, the header only; the mask key is zero, so the payload goes as is.
func clientFrame(fin bool, opcode byte, n int) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	var h []byte
	switch {
	case n < 126:
		h = []byte{b0, 0x80 | byte(n)}
	case n < 1<<16:
		h = []byte{b0, 0x80 | 126, 0, 0}
		binary.BigEndian.PutUint16(h[2:], uint16(n))
	default:
		h = make([]byte, 10)
		h[0], h[1] = b0, 0x80|127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
	}
	return append(h, 0, 0, 0, 0) // mask key
}

// queuedBytes returns the most bytes any connection of g has waiting in its
// send queue right now.
func queuedBytes(g *Gateway) int {
	g.mu.Lock()
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	most := 0
	for _, c := range conns {
		most = max(most, c.out.queuedBytes())
	}
	return most
}

// watchQueues samples queuedBytes every millisecond until stop is called,
// which returns the highest value seen.
func watchQueues(g *Gateway) (stop func() int) {
	done := make(chan struct{})
	result := make(chan int, 1)
	go func() {
		most := 0
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			most = max(most, queuedBytes(g))
			select {
			case <-done:
				result <- most
				return
			case <-tick.C:
			}
		}
	}()
	return func() int {
		close(done)
		return <-result
	}
}
