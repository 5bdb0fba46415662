package runtime

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// serverFrame reads one unmasked frame the gateway sent: its opcode and payload.
func serverFrame(t *testing.T, br *bufio.Reader) (byte, []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, _ = io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, _ = io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatalf("reading a frame's payload: %v", err)
	}
	return h[0] & 0x0f, p
}

// fragments writes a text message as fragments (clientFrame: a zero mask key
// sends payloads as they are).
func fragments(t *testing.T, c net.Conn, parts ...string) {
	t.Helper()
	var b []byte
	for i, p := range parts {
		op := byte(0)
		if i == 0 {
			op = 1
		}
		b = append(append(b, clientFrame(i == len(parts)-1, op, len(p))...), p...)
	}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// RFC 6455 §8.1 (issue 12): a text message that is not UTF-8, whole or split
// over fragments, fails the connection with 1007, after the messages before
// it are handled, and its $disconnect runs with 1007; it never reaches a
// route. A multi-byte character split across two fragments is UTF-8 as a
// whole and is routed. Other connections go on.
func TestInvalidUTF8(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		valid bool
	}{
		{"whole", []string{"{\"action\":\"msg\",\"x\":\"\xff\"}"}, false},
		{"truncated character at the end", []string{"{\"action\":\"msg\"}\xc3"}, false},
		{"surrogate half", []string{"{\"action\":\"msg\",\"x\":\"\xed\xa0\x80\"}"}, false},
		{"second fragment", []string{`{"action":"msg",`, "\"x\":\"\xc0\xaf\"}"}, false},
		{"character split and never finished", []string{"{\"action\":\"msg\",\"x\":\"\xe2\x82", "\"}"}, false},
		{"character split over fragments", []string{"{\"action\":\"msg\",\"x\":\"\xc3", "\xa9\"}"}, true},
		{"character split over three fragments", []string{"{\"action\":\"msg\",\"x\":\"\xf0\x9f", "\x98", "\x80\"}"}, true},
	}
	rec := newRecorder(t, nil)
	g := startGateway(t, faultPlan(rec, route("$default", httpInteg("Msg", rec.url+"/msg"))), nil)
	neighbour := dial(t, g, "/dev")
	rec.wait(t, "/connect", 1, 5*time.Second)
	msgs, conns, discs := 0, 1, 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, g.Addrs()[0], "/dev")
			conns++
			id := rec.wait(t, "/connect", conns, 5*time.Second)[conns-1].id
			// A good message first: it is handled before the connection fails.
			fragments(t, c, `{"action":"before"}`)
			fragments(t, c, tt.parts...)
			msgs++
			if tt.valid {
				msgs++
			}
			got := rec.wait(t, "/msg", msgs, 5*time.Second)
			if tt.valid {
				if want := []byte(tt.parts[0] + tt.parts[1]); got[msgs-1].body[:len(want)] != string(want) {
					t.Errorf("routed %q", got[msgs-1].body)
				}
				return
			}
			if got[msgs-1].body != `{"action":"before"}` {
				t.Errorf("the route got %q", got[msgs-1].body)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			op, p := serverFrame(t, bufio.NewReader(c))
			if op != 8 || len(p) < 2 || binary.BigEndian.Uint16(p) != 1007 {
				t.Fatalf("got opcode %d payload %q, want a close frame with 1007", op, p)
			}
			c.Close()
			discs++
			if d := rec.wait(t, "/disconnect", discs, 5*time.Second)[discs-1]; d.id != id || d.code != "1007" {
				t.Errorf("$disconnect %+v, want connection %s with 1007", d, id)
			}
		})
	}
	if n := len(rec.on("/msg")); n != msgs {
		t.Errorf("the message route got %d calls, want %d", n, msgs)
	}
	send(t, neighbour, `{"action":"neighbour"}`)
	if got := rec.wait(t, "/msg", msgs+1, 5*time.Second); got[msgs].body != `{"action":"neighbour"}` {
		t.Errorf("the neighbour's message: %q", got[msgs].body)
	}
}
