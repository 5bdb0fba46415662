package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// badReply is a reply that came back but is not the echo expected (wrong
// status or frame type): an error of kind "mismatch", after which the
// session goes on.
type badReply struct{ msg string }

func (e *badReply) Error() string { return e.msg }

// wsTarget is a WebSocket stage: each session is one connection; a message
// is a text frame and its reply the next frame received.
type wsTarget struct {
	url     string
	timeout time.Duration // the handshake, and each message's write and reply
}

var _ target = (*wsTarget)(nil)

func (t *wsTarget) open(ctx context.Context, _ int) (session, error) {
	d := websocket.Dialer{HandshakeTimeout: t.timeout, Proxy: nil}
	ws, resp, err := d.DialContext(ctx, t.url, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%s: handshake answered %s", t.url, resp.Status)
		}
		return nil, fmt.Errorf("%s: %w", t.url, err)
	}
	s := &wsSession{ws: ws, timeout: t.timeout}
	// An interrupted run stops waiting for replies at once.
	s.stop = context.AfterFunc(ctx, func() { _ = ws.NetConn().Close() })
	return s, nil
}

type wsSession struct {
	ws      *websocket.Conn
	timeout time.Duration
	stop    func() bool
}

func (s *wsSession) roundTrip(_ context.Context, msg []byte) ([]byte, error) {
	deadline := time.Now().Add(s.timeout)
	_ = s.ws.SetWriteDeadline(deadline)
	if err := s.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	_ = s.ws.SetReadDeadline(deadline)
	typ, reply, err := s.ws.ReadMessage()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("no reply within %s", s.timeout)
		}
		return nil, fmt.Errorf("receive: %w", err)
	}
	if typ != websocket.TextMessage {
		return reply, &badReply{msg: fmt.Sprintf("reply is a binary frame of %d bytes, want a text frame", len(reply))}
	}
	return reply, nil
}

// close sends a close frame and closes the connection without waiting for
// the gateway's answer.
func (s *wsSession) close() error {
	s.stop()
	_ = s.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return s.ws.Close()
}

// httpTarget is the backend called directly: every session shares one
// keep-alive client, and a message is a POST whose reply is the response
// body.
type httpTarget struct {
	url    string
	client *http.Client
}

var _ target = (*httpTarget)(nil)

// newHTTPTarget returns a target whose client keeps up to conns connections
// to url open, and gives each request at most timeout.
func newHTTPTarget(url string, conns int, timeout time.Duration) *httpTarget {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
	return &httpTarget{url: url, client: &http.Client{Transport: tr, Timeout: timeout}}
}

func (t *httpTarget) open(context.Context, int) (session, error) { return t, nil }

func (t *httpTarget) roundTrip(ctx context.Context, msg []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 2*maxSize))
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return reply, &badReply{msg: fmt.Sprintf("backend answered %s", resp.Status)}
	}
	return reply, nil
}

// close does nothing: the client is shared; closeIdle ends its connections.
func (t *httpTarget) close() error { return nil }

func (t *httpTarget) closeIdle() { t.client.CloseIdleConnections() }
