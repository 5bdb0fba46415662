package inspect

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/wsgw/wsgw/runtime"
)

// ReplayOptions says where and how to replay a recording.
type ReplayOptions struct {
	// To is the stage to replay against: ws://HOST:PORT/STAGE.
	To string
	// Timeout bounds the wait for each frame, handshake and close
	// (0: 5 seconds).
	Timeout time.Duration
	// Log, when set, receives one line per step.
	Log io.Writer
}

// ReplayResult is what a replay found.
type ReplayResult struct {
	Connections, Messages, Frames int
	// Diffs describes each difference from the recording, in order.
	Diffs []string
}

// ReadRecording reads a recording (JSON Lines of events).
func ReadRecording(r io.Reader) ([]EventJSON, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []EventJSON
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var ev EventJSON
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		out = append(out, ev)
	}
	return out, sc.Err()
}

// frameIn is a frame a replayed client received.
type frameIn struct {
	typ  int
	data []byte
}

// client is one replayed connection.
type client struct {
	n       int    // 1-based, in the order the recording opened them
	rec     string // recorded connection id
	connect *EventJSON
	ws      *websocket.Conn
	frames  chan frameIn
	// done is closed when the reader ends; closeErr is why.
	done     chan struct{}
	closeErr error
	gone     bool // closed, refused or never opened
}

func (c *client) name() string { return fmt.Sprintf("connection %d (recorded %s)", c.n, c.rec) }

// Replay plays the client side of a recording against a gateway (SPEC
// it opens the recorded connections (with their query string and
// headers), sends their messages in the recorded order and compares every
// frame the gateway answers, every refused handshake and every close the
// gateway starts with the recording, ignoring the ids and times it cannot
// know. The events a recording holds of the gateway's own work (routes,
// integration calls, @connections calls) are not compared: a replay tests
// what clients see.
func Replay(ctx context.Context, events []EventJSON, o ReplayOptions) (*ReplayResult, error) {
	base, err := url.Parse(o.To)
	if err != nil || (base.Scheme != "ws" && base.Scheme != "wss") || base.Host == "" {
		return nil, fmt.Errorf("--to %q: want ws://HOST:PORT/STAGE", o.To)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	res := &ReplayResult{}
	diff := func(format string, args ...any) {
		d := fmt.Sprintf(format, args...)
		res.Diffs = append(res.Diffs, d)
		logf("DIFF %s", d)
	}
	clients := map[string]*client{}
	var order []*client
	defer func() {
		for _, c := range order {
			if c.ws != nil {
				c.ws.Close()
			}
		}
	}()
	dialer := websocket.Dialer{HandshakeTimeout: timeout}

	for i := range events {
		ev := &events[i]
		c := clients[ev.ConnectionID]
		switch runtime.EventKind(ev.Type) {
		case runtime.KindConnect:
			c = &client{n: len(order) + 1, rec: ev.ConnectionID, connect: ev, frames: make(chan frameIn, 1024), done: make(chan struct{})}
			clients[ev.ConnectionID] = c
			order = append(order, c)
			res.Connections++
		case runtime.KindConnected:
			if c == nil {
				continue
			}
			u := *base
			if q := queryOf(c.connect.URL); q != "" {
				u.RawQuery = q
			}
			ws, resp, err := dialer.DialContext(ctx, u.String(), replayHeader(c.connect.Headers))
			got := 0
			if resp != nil {
				got = resp.StatusCode
			}
			switch {
			case ev.Status == http.StatusSwitchingProtocols && err != nil:
				diff("%s: the handshake was accepted (101) when recorded, now %s", c.name(), dialFailure(got, err))
				c.gone = true
			case ev.Status != http.StatusSwitchingProtocols && err == nil:
				diff("%s: the handshake was refused with %d when recorded, now accepted (101)", c.name(), ev.Status)
				c.ws = ws
				go read(c)
			case ev.Status != http.StatusSwitchingProtocols:
				if got != ev.Status {
					diff("%s: the handshake was refused with %d when recorded, now %s", c.name(), ev.Status, dialFailure(got, err))
				}
				c.gone = true
				logf("%s: refused with %d, as recorded", c.name(), got)
			default:
				c.ws = ws
				go read(c)
				logf("%s: open", c.name())
			}
		case runtime.KindMessage:
			if c == nil || c.ws == nil || c.gone {
				continue
			}
			body, ok := ev.BodyBytes()
			if !ok || ev.Truncated {
				return res, fmt.Errorf("event %d: a message without its whole body", ev.Seq)
			}
			typ := websocket.TextMessage
			if ev.BodyBase64 != "" {
				typ = websocket.BinaryMessage
			}
			res.Messages++
			_ = c.ws.SetWriteDeadline(time.Now().Add(timeout))
			if err := c.ws.WriteMessage(typ, body); err != nil {
				diff("%s: could not send message %s: %v", c.name(), short(body), err)
				c.gone = true
				continue
			}
			logf("%s: sent %s", c.name(), short(body))
		case runtime.KindFrame:
			if c == nil || c.ws == nil || c.gone {
				continue
			}
			want, _ := ev.BodyBytes()
			res.Frames++
			select {
			case f := <-c.frames:
				if a, b := Normalize(want), Normalize(f.data); a != b {
					diff("%s: frame %d differs:\n    want %s\n    got  %s", c.name(), res.Frames, a, b)
				} else {
					logf("%s: frame as recorded: %s", c.name(), short(f.data))
				}
			case <-c.done:
				diff("%s: closed (%v) where the recording has the frame %s", c.name(), c.closeErr, short(want))
				c.gone = true
			case <-time.After(timeout):
				diff("%s: no frame within %s where the recording has %s", c.name(), timeout, short(want))
			case <-ctx.Done():
				return res, ctx.Err()
			}
		case runtime.KindDisconnect:
			if c == nil || c.ws == nil || c.gone {
				continue
			}
			c.gone = true
			if ev.By == "gateway" {
				// The gateway closed it: so must it now, with the same code.
				select {
				case <-c.done:
					code := closeCode(c.closeErr)
					if code != ev.Code {
						diff("%s: the gateway closed it with %d when recorded, now %s", c.name(), ev.Code, closeText(c.closeErr))
					} else {
						logf("%s: closed by the gateway with %d, as recorded", c.name(), code)
					}
				case <-time.After(timeout):
					diff("%s: the gateway closed it with %d when recorded, now it stays open", c.name(), ev.Code)
				}
				extra(c, diff)
				continue
			}
			closeClient(c, ev.Code, ev.Reason, timeout)
			extra(c, diff)
			logf("%s: closed by the client with %d", c.name(), ev.Code)
		}
	}
	// Connections the recording left open: close them, then look for frames
	// the gateway sent that the recording does not have.
	for _, c := range order {
		if c.ws != nil && !c.gone {
			closeClient(c, websocket.CloseNormalClosure, "", timeout)
			extra(c, diff)
		}
	}
	return res, nil
}

// read reads c's frames until the connection ends.
func read(c *client) {
	defer close(c.done)
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.closeErr = err
			return
		}
		c.frames <- frameIn{typ: typ, data: data}
	}
}

// closeClient closes c from the client's side and waits for the reader to
// end (the gateway answers the close behind the frames it queued before).
func closeClient(c *client, code int, reason string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	switch code {
	case websocket.CloseAbnormalClosure, 0:
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
	case websocket.CloseNoStatusReceived:
		_ = c.ws.WriteControl(websocket.CloseMessage, []byte{}, deadline)
	default:
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	}
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.ws.Close()
		<-c.done
	}
}

// extra reports the frames c received that the recording does not have.
func extra(c *client, diff func(string, ...any)) {
	for {
		select {
		case f := <-c.frames:
			diff("%s: a frame the recording does not have: %s", c.name(), Normalize(f.data))
		default:
			return
		}
	}
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return websocket.CloseAbnormalClosure
}

func closeText(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return strconv.Itoa(ce.Code)
	}
	return fmt.Sprint(err)
}

func dialFailure(status int, err error) string {
	if status != 0 {
		return "refused with " + strconv.Itoa(status)
	}
	return "failed: " + err.Error()
}

// queryOf returns the raw query of a recorded request URI.
func queryOf(uri string) string {
	if u, err := url.Parse(uri); err == nil {
		return u.RawQuery
	}
	return ""
}

// replayHeader is the recorded handshake's headers without those the
// WebSocket client writes itself.
func replayHeader(h map[string][]string) http.Header {
	out := http.Header{}
	for k, vs := range h {
		switch strings.ToLower(k) {
		case "host", "upgrade", "connection", "content-length", "accept-encoding":
			continue
		}
		if strings.HasPrefix(strings.ToLower(k), "sec-websocket-") && !strings.EqualFold(k, "Sec-WebSocket-Protocol") {
			continue
		}
		for _, v := range vs {
			out.Add(k, v)
		}
	}
	return out
}

func short(b []byte) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("(binary, %d bytes)", len(b))
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

var (
	idPattern   = regexp.MustCompile(`\b[A-Za-z0-9]{15}=`)
	timePattern = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?` +
		`|\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}` +
		`|\b[12]\d{9}(\d{3})?\b`)
)

// Normalize is a frame as replay compares it: ids (15 letters and digits
// then "=", as API Gateway's connection, request and message ids) become
// <id>, times (ISO 8601, $context.requestTime, epoch seconds and
// milliseconds) become <time>; a binary frame is its bytes in hex.
func Normalize(b []byte) string {
	if !utf8.Valid(b) {
		return "(binary) " + fmt.Sprintf("%x", b)
	}
	s := idPattern.ReplaceAllString(string(b), "<id>")
	return timePattern.ReplaceAllString(s, "<time>")
}
