package lambda

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"time"
)

// The frame channel: the Node.js and Python loops wsgw writes itself
// (bootstrap/) talk to it over a Unix socket pair, the child's end being its
// file descriptor 3 (named by _WSGW_RUNTIME_FD), instead of two HTTP
// exchanges per invocation on the Runtime API. Custom runtimes (provided.*,
// go1.x) keep the Runtime API. Only the function's process holds its end of
// the pair: no other local process can take or answer its invocations.
//
// Every frame is a 4-byte little-endian length, then that many bytes.
//
// wsgw to the loop, one frame per invocation:
//
//	requestId \n deadlineMs \n invokedFunctionArn \n traceId \n event
//
// The loop to wsgw, a kind byte then:
//
//	N                                 ready: the handler is loaded (the first /next poll)
//	R requestId \n payload            the response
//	E requestId \n errorType \n doc   the handler's error (the /error post)
//	F requestId \n errorType \n doc   the same, and the loop exits (an uncaught exception)
//	I errorType \n doc                an init error (/init/error)
const (
	frameReady     = 'N'
	frameResponse  = 'R'
	frameError     = 'E'
	frameFatal     = 'F'
	frameInitError = 'I'
)

// maxFrame bounds a frame read whole; a larger response is read past and
// answered as too large, as Lambda does.
const maxFrame = maxPayload + 64<<10

// channelFD is the child's descriptor of the frame channel: the first of
// exec.Cmd.ExtraFiles.
const channelFD = "3"

// sendFrame writes the invocation frame of inv; the write gives up at the
// invocation's deadline (a loop that stopped reading).
func (p *process) sendFrame(inv *invocation, deadline time.Time) error {
	n := len(inv.id) + len(inv.arn) + len(inv.traceID) + len(inv.payload) + 24
	b := make([]byte, 4, 4+n)
	b = append(b, inv.id...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, deadline.UnixMilli(), 10)
	b = append(b, '\n')
	b = append(b, inv.arn...)
	b = append(b, '\n')
	b = append(b, inv.traceID...)
	b = append(b, '\n')
	b = append(b, inv.payload...)
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	p.frames.SetWriteDeadline(deadline)
	_, err := p.frames.Write(b)
	return err
}

// readFrames reads the loop's frames until the channel closes (the process
// exited or was killed).
func (p *process) readFrames() {
	defer close(p.framesRead)
	r := bufio.NewReaderSize(p.frames, 64<<10)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int64(binary.LittleEndian.Uint32(hdr[:]))
		if n == 0 {
			p.protocolError("empty frame")
			p.kill()
			return
		}
		if n > maxFrame {
			if !p.tooLarge(r, n) {
				p.kill()
				return
			}
			continue
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if !p.handleFrame(body) {
			p.kill() // a loop that lost track of the protocol
			return
		}
	}
}

// tooLarge reads past a frame of n bytes over maxFrame: a response or error
// that large fails the invocation as Lambda does, and the process stays.
func (p *process) tooLarge(r *bufio.Reader, n int64) bool {
	head, _ := r.Peek(min(int(n), 128))
	kind, rest := head[0], head[1:]
	idBytes, _, found := bytes.Cut(rest, []byte{'\n'})
	if (kind != frameResponse && kind != frameError && kind != frameFatal) || !found {
		p.protocolError(fmt.Sprintf("frame of %d bytes", n))
		return false
	}
	id := string(idBytes) // before Discard reuses the buffer
	if _, err := r.Discard(int(n)); err != nil {
		return false
	}
	inv, cur := p.take(id)
	if inv == nil {
		p.unknownID(id, cur)
		return false
	}
	inv.result <- outcome{healthy: kind != frameFatal, err: responseTooLarge()}
	return true
}

func responseTooLarge() *FunctionError {
	return &FunctionError{
		Type:    "Function.ResponseSizeTooLarge",
		Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxPayload),
	}
}

// handleFrame acts on one frame of the loop; false means the channel is done
// with (a protocol error killed the process).
func (p *process) handleFrame(b []byte) bool {
	kind, rest := b[0], b[1:]
	switch kind {
	case frameReady:
		p.markReady()
		return true
	case frameInitError:
		typ, doc, _ := bytes.Cut(rest, []byte{'\n'})
		p.initFailure(parseFunctionError(doc, string(typ)))
		return true
	case frameResponse, frameError, frameFatal:
		id, rest, ok := bytes.Cut(rest, []byte{'\n'})
		if !ok {
			p.protocolError("frame without a request id")
			return false
		}
		inv, cur := p.take(string(id))
		if inv == nil {
			p.unknownID(string(id), cur)
			return false
		}
		if kind != frameResponse {
			// After F the process exits: it takes no further event.
			typ, doc, _ := bytes.Cut(rest, []byte{'\n'})
			inv.result <- outcome{healthy: kind == frameError, err: parseFunctionError(doc, string(typ))}
			return true
		}
		if len(rest) > maxPayload {
			inv.result <- outcome{healthy: true, err: responseTooLarge()}
			return true
		}
		inv.result <- outcome{healthy: true, payload: rest}
		return true
	}
	p.protocolError(fmt.Sprintf("unknown frame kind %q", kind))
	return false
}

// unknownID is a protocol error: an answer to a request not in flight.
func (p *process) unknownID(id, cur string) {
	what := "unknown request id " + strconv.Quote(id)
	if cur != "" {
		what += " (the invocation in flight is " + cur + ")"
	}
	p.protocolError(what)
}
