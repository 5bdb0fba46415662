package main

import (
	"bytes"
	"fmt"
	"strconv"
)

// minSize is the smallest -size: a message header with room for large
// connection and sequence numbers.
const minSize = 64

// maxSize is the largest -size: API Gateway's 128 KB message limit (SPEC ).
const maxSize = 128 << 10

// padAlphabet is repeated to pad messages; the padding starts at an offset
// that depends on the sequence number, so that a reply carrying another
// message's padding, or a stale copy, does not compare equal.
const padAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// messages builds the bench's messages: JSON objects of exactly size bytes,
//
//	{"action":"A","conn":C,"seq":S,"pad":"..."}
//
// ("action" only when set), where conn is the sending worker and seq counts
// that worker's messages from 1. The echo must return them byte for byte.
type messages struct {
	action string
	size   int
	pad    string // padAlphabet repeated to size+len(padAlphabet)
}

func newMessages(action string, size int) *messages {
	n := size + len(padAlphabet)
	b := bytes.Repeat([]byte(padAlphabet), n/len(padAlphabet)+1)
	return &messages{action: action, size: size, pad: string(b[:n])}
}

// build returns message seq of worker conn. It is exactly m.size bytes long
// unless the header alone is longer.
func (m *messages) build(conn, seq int) []byte {
	b := make([]byte, 0, m.size)
	b = append(b, '{')
	if m.action != "" {
		b = append(b, `"action":`...)
		b = strconv.AppendQuote(b, m.action)
		b = append(b, ',')
	}
	b = append(b, `"conn":`...)
	b = strconv.AppendInt(b, int64(conn), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"pad":"`...)
	n := max(0, m.size-len(b)-2)
	off := seq % len(padAlphabet)
	b = append(b, m.pad[off:off+n]...)
	b = append(b, `"}`...)
	return b
}

// verify checks that reply is the echo of sent, message seq of worker conn,
// and says how it differs when it is not.
func verify(sent, reply []byte, conn, seq int) error {
	if bytes.Equal(sent, reply) {
		return nil
	}
	gc, gs, ok := ids(reply)
	switch {
	case ok && (gc != conn || gs != seq):
		return fmt.Errorf("reply is message conn %d seq %d, want conn %d seq %d", gc, gs, conn, seq)
	case !ok:
		// Not one of the bench's messages: an error frame, say.
		const show = 120
		if len(reply) > show {
			return fmt.Errorf("reply to conn %d seq %d is not the message: %q... (%d bytes)", conn, seq, reply[:show], len(reply))
		}
		return fmt.Errorf("reply to conn %d seq %d is not the message: %q", conn, seq, reply)
	case len(reply) != len(sent):
		return fmt.Errorf("reply to conn %d seq %d has %d bytes, want %d", conn, seq, len(reply), len(sent))
	}
	i := 0
	for i < len(sent) && sent[i] == reply[i] {
		i++
	}
	return fmt.Errorf("reply to conn %d seq %d differs from the message at byte %d", conn, seq, i)
}

// ids reads the conn and seq numbers of a message build wrote; ok is false
// when it cannot find them.
func ids(msg []byte) (conn, seq int, ok bool) {
	conn, ok1 := intField(msg, `"conn":`)
	seq, ok2 := intField(msg, `"seq":`)
	return conn, seq, ok1 && ok2
}

func intField(msg []byte, key string) (int, bool) {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(key):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(string(rest[:j]))
	return n, err == nil
}
