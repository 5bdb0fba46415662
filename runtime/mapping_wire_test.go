package runtime

import (
	"bufio"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// wireBackend is a raw TCP HTTP backend: it reads each request's head as
// the bytes came on the wire (Go's HTTP server would canonicalise the header
// names) and answers 200 with an empty body.
type wireBackend struct {
	url   string
	heads chan string
}

func newWireBackend(t *testing.T) *wireBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	b := &wireBackend{url: "http://" + ln.Addr().String(), heads: make(chan string, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b
}

func (b *wireBackend) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		var head strings.Builder
		n := int64(0)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
				n, _ = strconv.ParseInt(textproto.TrimString(v), 10, 64)
			}
			if line == "\r\n" {
				break
			}
		}
		if _, err := io.CopyN(io.Discard, br, n); err != nil {
			return
		}
		b.heads <- head.String()
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); err != nil {
			return
		}
	}
}

func (b *wireBackend) next(t *testing.T) string {
	t.Helper()
	select {
	case h := <-b.heads:
		return h
	case <-time.After(5 * time.Second):
		t.Fatal("the backend got no request")
		return ""
	}
}

// SPEC, issue 13: a mapped integration request header goes out under
// the name written in RequestParameters (integration.request.header.ConnectionId
// sends "ConnectionId: ...", not Go's canonical "Connectionid"), on $connect
// and on a message route, and replaces a header wsgw sets under another
// spelling.
func TestMappedHeaderNamesOnTheWire(t *testing.T) {
	b := newWireBackend(t)
	lit := func(v string) compile.Source {
		return compile.Source{Kind: compile.SourceLiteral, Literal: v, Expr: "'" + v + "'"}
	}
	steps := []compile.Step{
		header("ConnectionId", ctxVar("connectionId")),
		header("x-lower-case", lit("a")),
		header("X-API-KEY", lit("b")),
		header("user-agent", lit("mine")),
	}
	p := testPlan(actionSel,
		route("$connect", httpInteg("ConnectInteg", b.url+"/connect", steps...)),
		route("$default", httpInteg("DefaultInteg", b.url+"/default", steps...)),
	)
	g := startGateway(t, p, nil)
	ws := dial(t, g, "/dev")
	connHead := b.next(t)
	send(t, ws, `{"action":"x"}`)
	msgHead := b.next(t)
	for name, head := range map[string]string{"$connect": connHead, "$default": msgHead} {
		lines := strings.Split(head, "\r\n")
		var id string
		for _, l := range lines {
			if v, ok := strings.CutPrefix(l, "ConnectionId: "); ok {
				id = v
			}
		}
		if !idPattern.MatchString(id) {
			t.Errorf("%s: no \"ConnectionId: <id>\" line on the wire:\n%s", name, head)
		}
		// User-Agent, which net/http writes itself, stays canonical.
		for _, want := range []string{"x-lower-case: a", "X-API-KEY: b", "User-Agent: mine"} {
			if !strings.Contains(head, "\r\n"+want+"\r\n") {
				t.Errorf("%s: no %q line on the wire:\n%s", name, want, head)
			}
		}
		for _, not := range []string{"Connectionid:", "X-Lower-Case:", "X-Api-Key:", "user-agent:", "User-Agent: Go"} {
			if strings.Contains(head, "\r\n"+not) {
				t.Errorf("%s: %q on the wire:\n%s", name, not, head)
			}
		}
	}
}
