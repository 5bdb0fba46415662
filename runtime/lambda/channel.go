package lambda

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
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
//
// Who reads: until the loop is ready, a goroutine of the process
// (readStartup); from then on the goroutine that invokes reads the answer to
// its event itself, so that an answer reaches its caller without a hand-over
// between goroutines. Between invocations nobody reads: a loop writes
// nothing then (it waits for the next event).
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

// sendFrame writes the invocation frame of inv: its head, then the event as
// it is (one writev, no copy); the write gives up at the invocation's
// deadline (a loop that stopped reading).
func (p *process) sendFrame(inv *invocation, deadline time.Time) error {
	h := append(p.head[:0], 0, 0, 0, 0)
	h = append(h, inv.id...)
	h = append(h, '\n')
	h = strconv.AppendInt(h, deadline.UnixMilli(), 10)
	h = append(h, '\n')
	h = append(h, inv.arn...)
	h = append(h, '\n')
	h = append(h, inv.traceID...)
	h = append(h, '\n')
	binary.LittleEndian.PutUint32(h, uint32(len(h)-4+len(inv.payload)))
	p.head = h
	p.frames.SetWriteDeadline(deadline)
	bufs := net.Buffers{h, inv.payload}
	_, err := bufs.WriteTo(p.frames)
	return err
}

// frame is one frame of the loop.
type frame struct {
	kind byte
	id   []byte // R, E, F
	typ  string // E, F, I
	body []byte // R: the payload; E, F, I: the error document
	// tooLarge: an R, E or F frame over maxFrame, read past.
	tooLarge bool
}

// protocolViolation is a frame the protocol does not allow.
type protocolViolation string

func (v protocolViolation) Error() string { return string(v) }

// readFrame reads the next frame of the loop. Errors are those of the
// channel (io.EOF once the process has exited, os.ErrDeadlineExceeded) or a
// protocolViolation.
func (p *process) readFrame() (frame, error) {
	r := p.fr
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	n := int64(binary.LittleEndian.Uint32(hdr[:]))
	if n == 0 {
		return frame{}, protocolViolation("empty frame")
	}
	if n > maxFrame {
		return p.skipFrame(n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return frame{}, err
	}
	f := frame{kind: b[0]}
	rest := b[1:]
	switch f.kind {
	case frameReady:
	case frameInitError:
		typ, doc, _ := bytes.Cut(rest, []byte{'\n'})
		f.typ, f.body = string(typ), doc
	case frameResponse, frameError, frameFatal:
		id, rest, ok := bytes.Cut(rest, []byte{'\n'})
		if !ok {
			return frame{}, protocolViolation("frame without a request id")
		}
		f.id, f.body = id, rest
		if f.kind != frameResponse {
			typ, doc, _ := bytes.Cut(rest, []byte{'\n'})
			f.typ, f.body = string(typ), doc
		}
	default:
		return frame{}, protocolViolation(fmt.Sprintf("unknown frame kind %q", f.kind))
	}
	return f, nil
}

// skipFrame reads past a frame of n bytes over maxFrame: a response or error
// that large fails the invocation as Lambda does, and the process stays.
func (p *process) skipFrame(n int64) (frame, error) {
	head, err := p.fr.Peek(min(int(n), 128))
	if len(head) == 0 {
		return frame{}, err
	}
	kind, rest := head[0], head[1:]
	id, _, found := bytes.Cut(rest, []byte{'\n'})
	if (kind != frameResponse && kind != frameError && kind != frameFatal) || !found {
		return frame{}, protocolViolation(fmt.Sprintf("frame of %d bytes", n))
	}
	f := frame{kind: kind, id: bytes.Clone(id), tooLarge: true} // before Discard reuses the buffer
	if _, err := p.fr.Discard(int(n)); err != nil {
		return frame{}, err
	}
	return f, nil
}

// readStartup reads the loop's frames until it is ready (or failed to
// start, or exited); the invocations read their answers themselves.
func (p *process) readStartup() {
	defer close(p.framesRead)
	for {
		f, err := p.readFrame()
		var v protocolViolation
		if errors.As(err, &v) {
			p.protocolError(string(v))
			p.kill() // a loop that lost track of the protocol
			return
		}
		if err != nil {
			return
		}
		switch f.kind {
		case frameReady:
			p.markReady()
			return // the reader is now the invoking goroutine's
		case frameInitError:
			p.initFailure(parseFunctionError(f.body, f.typ))
		default:
			p.protocolError(unknownID(string(f.id), ""))
			p.kill()
			return
		}
	}
}

// aLongTimeAgo is a read deadline that ends a blocked read at once.
var aLongTimeAgo = time.Unix(1, 0)

// awaitFrame reads the loop's frames until the answer to inv, which the
// process took. When ctx (nil: none) ends first, it returns an outcome marked
// abandoned, and the channel is left for the next awaitFrame of inv.
func (p *process) awaitFrame(ctx context.Context, inv *invocation) outcome {
	p.frames.SetReadDeadline(inv.deadline)
	var kicked chan struct{} // closed once ctx's end has ended the read
	if ctx != nil && ctx.Done() != nil {
		kicked = make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			p.frames.SetReadDeadline(aLongTimeAgo)
			close(kicked)
		})
		defer func() {
			if !stop() {
				<-kicked // no read deadline set after this returns
			}
		}()
	}
	for {
		f, err := p.readFrame()
		var v protocolViolation
		switch {
		case errors.As(err, &v):
			return p.failProtocol(inv, string(v))
		case errors.Is(err, os.ErrDeadlineExceeded):
			if kicked != nil && ctx.Err() != nil && time.Now().Before(inv.deadline) {
				return outcome{abandoned: true}
			}
			p.kill()
			p.take(inv.id)
			return outcome{err: fmt.Errorf("function %s: %w after %.2f seconds", p.fn.LogicalID, ErrTimeout, inv.timeout.Seconds())}
		case err != nil:
			// The channel closed: the process exited (or was killed).
			var gaveUp <-chan struct{}
			if ctx != nil {
				gaveUp = ctx.Done()
			}
			select {
			case <-p.done:
			case <-gaveUp:
				return outcome{abandoned: true}
			}
			p.take(inv.id)
			return outcome{err: p.exitError("exited during the invocation")}
		}
		switch f.kind {
		case frameReady:
			continue
		case frameInitError:
			p.initFailure(parseFunctionError(f.body, f.typ))
			continue
		}
		if string(f.id) != inv.id {
			return p.failProtocol(inv, unknownID(string(f.id), inv.id))
		}
		p.take(inv.id)
		switch {
		case f.tooLarge:
			return outcome{healthy: f.kind != frameFatal, err: responseTooLarge()}
		case f.kind != frameResponse:
			// After F the process exits: it takes no further event.
			return outcome{healthy: f.kind == frameError, err: parseFunctionError(f.body, f.typ)}
		case len(f.body) > maxPayload:
			return outcome{healthy: true, err: responseTooLarge()}
		}
		return outcome{healthy: true, payload: f.body}
	}
}

// failProtocol fails inv, in flight, with ErrProtocol and kills the process.
func (p *process) failProtocol(inv *invocation, what string) outcome {
	p.take(inv.id)
	err := p.protocolFailure(what)
	p.kill()
	return outcome{err: err}
}

func responseTooLarge() *FunctionError {
	return &FunctionError{
		Type:    "Function.ResponseSizeTooLarge",
		Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxPayload),
	}
}

// unknownID words the protocol error of an answer to a request not in flight.
func unknownID(id, cur string) string {
	what := "unknown request id " + strconv.Quote(id)
	if cur != "" {
		what += " (the invocation in flight is " + cur + ")"
	}
	return what
}
