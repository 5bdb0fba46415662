package runtime

import (
	"encoding/binary"
	"errors"
	"net"
)

// errFrameTooLarge and errMessageTooLarge are returned by a frameLimiter once
// the client declared a data frame, or a message, longer than the limit.
var (
	errFrameTooLarge   = errors.New("frame exceeds the frame size limit")
	errMessageTooLarge = errors.New("message exceeds the message size limit")
)

// errInvalidUTF8 is the reader's error for a text message that is not UTF-8
// (RFC 6455 §8.1): the connection fails with 1007.
var errInvalidUTF8 = errors.New("text message is not valid UTF-8")

// errBinaryFrame is the reader's error for a binary message when
// Options.AllowBinary is off: the connection fails with 1003 (SPEC ).
var errBinaryFrame = errors.New("binary frames are not supported")

// frameLimiter is a net.Conn whose reads follow the client→gateway WebSocket
// byte stream frame by frame (RFC 6455 §5.2): it decodes each frame header
// and skips the payload by count, without copying it. When a data or
// continuation frame declares a payload longer than maxFrame, or makes its
// message (the frames up to FIN) longer than maxMessage, reads stop at that
// frame's first byte and then fail with errFrameTooLarge or
// errMessageTooLarge, so every earlier frame still reaches the WebSocket
// reader and nothing of the offending frame is buffered. Zero turns a limit
// off. Control frames (opcode ≥ 8) are left to the WebSocket reader, which
// limits them to 125 bytes. Writes pass through.
type frameLimiter struct {
	net.Conn
	maxFrame   int64
	maxMessage int64

	msgLen int64 // payload bytes of the current message so far

	hdr    [14]byte // the header being read
	hdrLen int      // bytes of hdr read so far
	skip   int64    // payload bytes still to pass before the next header
	err    error    // sticky errFrameTooLarge

	fins     int64 // final frames of data messages read (messages complete once their payload is)
	notAtEnd bool  // the last frame read is not the final frame of a data message
}

// atMessageEnd reports whether what was read so far ends exactly with the
// final frame of the msgs-th data message: once the WebSocket reader has
// returned msgs messages, it holds nothing read and not yet used.
func (f *frameLimiter) atMessageEnd(msgs int64) bool {
	return f.err == nil && f.skip == 0 && f.hdrLen == 0 && !f.notAtEnd && f.fins == msgs
}

// Read reads from the connection and inspects what it read.
func (f *frameLimiter) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.Conn.Read(p)
	if cut := f.scan(p[:n]); cut >= 0 {
		if cut == 0 {
			return 0, f.err
		}
		// Deliver what came before the offending frame; fail on the next read.
		return cut, nil
	}
	return n, err
}

// scan advances the frame parser over b. It returns -1 when every byte of b
// may be delivered, else the number of leading bytes that may (those before
// the header of a frame that is too large).
func (f *frameLimiter) scan(b []byte) int {
	i := 0
	for i < len(b) {
		if f.skip > 0 {
			step := min(int64(len(b)-i), f.skip)
			f.skip -= step
			i += int(step)
			continue
		}
		// Reading a header: where did it start in b (negative: in an earlier read)?
		start := i - f.hdrLen
		f.hdr[f.hdrLen] = b[i]
		f.hdrLen++
		i++
		need := headerLen(f.hdr[:f.hdrLen])
		if f.hdrLen < need {
			continue
		}
		opcode := f.hdr[0] & 0x0f
		length := payloadLen(f.hdr[:f.hdrLen])
		f.hdrLen = 0
		f.skip = length
		fin := f.hdr[0]&0x80 != 0
		f.notAtEnd = opcode >= 0x8 || !fin
		if opcode >= 0x8 {
			continue // control frame
		}
		if fin {
			f.fins++
		}
		// Data (0x1, 0x2) or continuation (0x0) frame.
		if opcode != 0 {
			f.msgLen = 0
		}
		if length > 1<<62 {
			length = 1 << 62 // invalid anyway; keep the sum from overflowing
		}
		f.msgLen += length
		switch {
		case f.maxFrame > 0 && length > f.maxFrame:
			f.err = errFrameTooLarge
		case f.maxMessage > 0 && f.msgLen > f.maxMessage:
			f.err = errMessageTooLarge
		default:
			continue
		}
		return max(start, 0)
	}
	return -1
}

// headerLen returns the full header length implied by the header bytes read
// so far (at least 2; it grows as the length and mask bits become known).
func headerLen(h []byte) int {
	if len(h) < 2 {
		return 2
	}
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4 // masking key
	}
	return n
}

// payloadLen decodes the payload length of a complete header. A 64-bit length
// with the top bit set (invalid) is reported as the largest int64.
func payloadLen(h []byte) int64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return int64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		v := binary.BigEndian.Uint64(h[2:10])
		if v > 1<<63-1 {
			return 1<<63 - 1
		}
		return int64(v)
	default:
		return int64(l)
	}
}
