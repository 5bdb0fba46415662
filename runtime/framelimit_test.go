package runtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
)

// frame builds a masked client frame with opcode and a payload of n bytes.
func frame(fin bool, opcode byte, n int) []byte {
	var b bytes.Buffer
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	b.WriteByte(b0)
	switch {
	case n < 126:
		b.WriteByte(0x80 | byte(n))
	case n < 1<<16:
		b.WriteByte(0x80 | 126)
		_ = binary.Write(&b, binary.BigEndian, uint16(n))
	default:
		b.WriteByte(0x80 | 127)
		_ = binary.Write(&b, binary.BigEndian, uint64(n))
	}
	b.Write([]byte{1, 2, 3, 4})
	b.Write(bytes.Repeat([]byte{'x'}, n))
	return b.Bytes()
}

// chunkConn is a net.Conn whose reads return at most chunk bytes of data.
type chunkConn struct {
	net.Conn
	r     io.Reader
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(p) > c.chunk {
		p = p[:c.chunk]
	}
	return c.r.Read(p)
}

// SPEC: the frame limiter lets everything before an oversized frame
// through, then fails, whatever the read boundaries.
func TestFrameLimiter(t *testing.T) {
	cat := func(fs ...[]byte) []byte { return bytes.Join(fs, nil) }
	tests := []struct {
		name      string
		stream    []byte
		maxFrame  int64
		maxMsg    int64
		wantBytes int   // bytes before the offending frame's header
		wantErr   error // nil: all delivered, then EOF
	}{
		{"small frames pass", cat(frame(true, 1, 10), frame(true, 2, 300), frame(true, 9, 4)), 1000, 0, 10 + 6 + 300 + 8 + 4 + 6, nil},
		{"frame at the limit passes", frame(true, 1, 1000), 1000, 0, 1000 + 8, nil},
		{"frame over the limit", cat(frame(true, 1, 10), frame(true, 1, 1001)), 1000, 0, 16, errFrameTooLarge},
		{"64-bit length", cat(frame(true, 1, 5), frame(true, 2, 70000)), 1000, 0, 11, errFrameTooLarge},
		{"large continuation frame", cat(frame(false, 1, 100), frame(true, 0, 2000)), 1000, 0, 106, errFrameTooLarge},
		{"control frames do not count", cat(frame(false, 1, 900), frame(true, 9, 100), frame(true, 0, 100)), 0, 1000, 908 + 106 + 106, nil},
		{"message over the limit across frames", cat(frame(false, 1, 600), frame(true, 0, 500)), 1000, 1000, 608, errMessageTooLarge},
		{"message limit resets per message", cat(frame(true, 1, 600), frame(true, 1, 600)), 0, 1000, 1216, nil},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 3, 7, 4096} {
			t.Run(tc.name, func(t *testing.T) {
				fl := &frameLimiter{Conn: nil, maxFrame: tc.maxFrame, maxMessage: tc.maxMsg}
				fl.Conn = &chunkConn{r: bytes.NewReader(tc.stream), chunk: chunk}
				got, err := io.ReadAll(fl)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("chunk %d: err %v, want %v", chunk, err, tc.wantErr)
				}
				// Header bytes of the offending frame read before it was
				// complete may have been delivered, never the whole header.
				if len(got) < tc.wantBytes || len(got) > tc.wantBytes && (tc.wantErr == nil || len(got) >= tc.wantBytes+14) {
					t.Fatalf("chunk %d: delivered %d bytes, want %d", chunk, len(got), tc.wantBytes)
				}
				if tc.wantErr == nil && !bytes.Equal(got, tc.stream) {
					t.Fatalf("chunk %d: stream changed", chunk)
				}
			})
		}
	}
}
