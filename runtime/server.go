package runtime

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// apiServer is the HTTP server of one Api: WebSocket handshakes on the stage
// paths and the @connections API.
type apiServer struct {
	g            *Gateway
	apiLogicalID string
	ln           net.Listener
	addr         string // HOST:PORT listened on
	domainName   string // $context.domainName: the --addr host and the port
	http         *http.Server
	upgrader     websocket.Upgrader
}

func newAPIServer(g *Gateway, apiLogicalID string, ln net.Listener, host string) *apiServer {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &apiServer{
		g:            g,
		apiLogicalID: apiLogicalID,
		ln:           ln,
		addr:         net.JoinHostPort(host, port),
		domainName:   net.JoinHostPort(host, port),
		upgrader: websocket.Upgrader{
			HandshakeTimeout: 10 * time.Second,
			// API Gateway does not check Origin.
			CheckOrigin: func(*http.Request) bool { return true },
			// A small read buffer of its own (gorilla would otherwise keep
			// net/http's 4 KB one): an idle connection holds it for its
			// whole life, and larger frames are read past it (a payload
			// read that finds it empty goes straight into the message).
			ReadBufferSize: 512,
			// Frames of up to 32 KB, from buffers held only while writing.
			WriteBufferSize: 32 << 10,
			WriteBufferPool: writeBufferPool,
		},
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnContext:       withHeadConn,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
	return s
}

// writeBufferPool shares write buffers between connections, so an idle
// connection holds none.
var writeBufferPool = &sync.Pool{}

// ServeHTTP routes a request: /<stage> (or / for $default) is a WebSocket
// handshake, /<stage>/@connections/<id> the @connections API (SPEC ).
// Each path segment is percent-decoded on its own.
func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok {
		writeAWSError(w, http.StatusBadRequest, "BadRequestException", "Invalid path")
		return
	}
	if i := indexConnections(segs); i >= 0 {
		dropHead(r) // only a handshake reads it
		s.serveConnections(w, r, strings.Join(segs[:i], "/"), segs[i+1])
		return
	}
	stageSeg := strings.Join(segs, "/")
	var st *stageState
	if len(segs) <= 1 {
		st = s.g.snap.Load().stage(s.apiLogicalID, stageSeg)
	}
	if st == nil {
		s.noStage(w, r, stageSeg)
		return
	}
	s.handshake(w, r, st)
}

// noStage refuses a request for a stage the Api does not have with 403
// (ForbiddenException, as API Gateway answers; SPEC ), and says in the
// body and in a warning which stages there are.
func (s *apiServer) noStage(w http.ResponseWriter, r *http.Request, stageSeg string) {
	var paths []string
	if as := s.g.snap.Load().apis[s.apiLogicalID]; as != nil {
		for _, st := range as.api.Stages {
			if as.stages[stageSegment(st)] != nil {
				paths = append(paths, "/"+stageSegment(st))
			}
		}
	}
	served := strings.Join(paths, ", ")
	if served == "" {
		served = "none"
	}
	what := fmt.Sprintf("stage %q", stageSeg)
	if stageSeg == "" {
		what = "$default stage"
	}
	msg := fmt.Sprintf("no %s at %s; stages: %s", what, r.URL.EscapedPath(), served)
	s.g.log.Warn(msg, "api", s.apiLogicalID, "method", r.Method)
	writeAWSError(w, http.StatusForbidden, "ForbiddenException", msg)
}

// splitPath splits an escaped path into decoded segments, dropping the
// leading slash and one trailing slash ("/" gives none).
func splitPath(p string) ([]string, bool) {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil, true
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		segs[i] = d
	}
	return segs, true
}

// indexConnections finds "@connections" as the next-to-last of one or two
// stage segments plus an id; -1 when the path is not the @connections API.
func indexConnections(segs []string) int {
	switch {
	case len(segs) == 2 && segs[0] == "@connections":
		return 0
	case len(segs) == 3 && segs[1] == "@connections":
		return 1
	}
	return -1
}

// isHandshake reports whether r is a WebSocket opening handshake that the
// upgrader will accept, so that $connect runs only for those.
func isHandshake(r *http.Request) bool {
	if r.Method != http.MethodGet || !websocket.IsWebSocketUpgrade(r) {
		return false
	}
	if r.Header.Get("Sec-Websocket-Version") != "13" {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-Websocket-Key"))
	return err == nil && len(key) == 16
}

// handshake runs $connect and upgrades (SPEC ).
func (s *apiServer) handshake(w http.ResponseWriter, r *http.Request, st *stageState) {
	if !isHandshake(r) {
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Sec-Websocket-Version", "13")
		http.Error(w, "Upgrade Required", http.StatusUpgradeRequired)
		return
	}
	if !s.g.enter() {
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	h := s.newHandshake(w, r, st)
	respHeader, ran, ok := s.connect(h, r, st)
	if !ok {
		return
	}
	h.open()
	s.upgrade(h, r, respHeader, ran)
}

// handshakeRun is a handshake under way: its connection (registered, so
// its id is reserved), its $connect event and the response to write.
type handshakeRun struct {
	s     *apiServer
	w     http.ResponseWriter
	c     *conn
	e     *event
	start time.Time
}

// newHandshake makes the connection and its $connect event, and reserves
// a unique id for it: the connection answers 410 until it is open.
func (s *apiServer) newHandshake(w http.ResponseWriter, r *http.Request, st *stageState) *handshakeRun {
	g := s.g
	start := g.now()
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	c := newConn(g, s, st)
	c.meta = connMeta{apiID: st.api.ID, domainName: s.domainName, connectedAt: start, sourceIP: ip, userAgent: r.UserAgent(), tr: g.tracer}
	for {
		c.meta.id = g.newConnID()
		if g.reg.Register(c) == nil {
			break
		}
	}
	e := &event{typ: eventConnect, conn: &c.meta, stage: st, routeKey: "$connect", requestID: newID(), time: start,
		header: r.Header, rawNames: rawHeaderNames(r), query: r.URL.Query(), host: r.Host, tls: r.TLS != nil}
	if hc, ok := r.Context().Value(headConnKey{}).(*headConn); ok && hc.tls {
		e.tls = true
	}
	if c.meta.tr != nil {
		s.traceStart(e, r, "")
	}
	return &handshakeRun{s: s, w: w, c: c, e: e, start: start}
}

// refuse answers the handshake with status, written by write (nil: the
// status text), and lets go of the connection.
func (h *handshakeRun) refuse(status int, write func()) {
	g := h.s.g
	g.reg.Unregister(h.c.meta.id)
	h.e.status = status
	if write != nil {
		write()
	} else {
		http.Error(h.w, http.StatusText(status), status)
	}
	h.s.logEvent(h.e, h.start)
	g.alog.write(h.e)
	g.wg.Done()
}

// connect checks the handshake (AWS_IAM, the authorizer, the models) and
// runs the $connect integration: the headers a Lambda $connect response adds
// to the handshake, and whether the integration answered 2xx (ran). false:
// the handshake was refused.
func (s *apiServer) connect(h *handshakeRun, r *http.Request, st *stageState) (respHeader http.Header, ran, ok bool) {
	c, e := h.c, h.e
	rs := st.routes["$connect"]
	// AWS_IAM: a SigV4-signed handshake, before any function runs.
	if rs != nil && rs.route.IAM {
		key, deny := sigV4AccessKey(r)
		if deny != nil {
			e.errMessage = deny.message
			h.refuse(deny.status, func() { writeAWSError(h.w, deny.status, deny.errType, deny.message) })
			return nil, false, false
		}
		c.meta.accessKey = key
	}
	if status := s.admit(r, c, e, rs, st.api); status != 0 {
		h.refuse(status, nil)
		return nil, false, false
	}
	if rs == nil || rs.integ == nil {
		return nil, false, true
	}
	g := s.g
	e.integration = rs.integ.plan().LogicalID
	t0 := g.now()
	res, err := rs.integ.call(r.Context(), e, false)
	e.integLatency = g.now().Sub(t0)
	switch {
	case err != nil:
		e.integErr, e.errMessage = err.Error(), err.Error()
		h.refuse(http.StatusBadGateway, nil)
		return nil, false, false
	case res.status < 200:
		e.integStatus = res.status
		h.refuse(http.StatusBadGateway, nil)
		return nil, false, false
	case res.status > 299:
		e.integStatus = res.status
		h.refuse(res.status, nil)
		return nil, false, false
	}
	e.integStatus = res.status
	return handshakeHeader(res.header), true, true
}

// open opens the connection before the handshake response leaves, so that
// the backend can post as soon as the client knows it is connected; frames
// wait in the send queue for the upgrade.
func (h *handshakeRun) open() {
	c, g := h.c, h.s.g
	c.move(causeAccept, 0, "", false)
	c.touch(g.now())
	// Join the set Swap and Shutdown walk before the handshake response
	// leaves, so that a swap from now on updates the connection's stage or,
	// when it drops the stage, closes it (SPEC ): the close frame waits
	// in the send queue until the upgrade is done. A stage that a swap during
	// $connect dropped, or a shutdown under way, closes it the same way.
	if !g.track(c) {
		c.startClose(websocket.CloseGoingAway, reasonGoingAway, false)
	}
	if g.beforeUpgrade != nil {
		g.beforeUpgrade()
	}
}

// upgrade writes the handshake response and starts the reader; when the
// upgrade fails (the upgrader answered the client), the connection ends, and
// a backend that saw its $connect (ran) sees its $disconnect.
func (s *apiServer) upgrade(h *handshakeRun, r *http.Request, respHeader http.Header, ran bool) {
	c, e, g := h.c, h.e, s.g
	o := &g.opts
	hw := &hijacker{ResponseWriter: h.w, maxFrame: int64(o.MaxFrameBytes), maxMessage: int64(o.MaxMessageBytes)}
	ws, err := s.upgrader.Upgrade(hw, r, respHeader)
	if err != nil {
		c.move(causeEnd, 0, "", false)
		g.untrack(c)
		e.status, e.errMessage = http.StatusBadRequest, err.Error()
		s.logEvent(e, h.start)
		if ran {
			s.disconnect(c, websocket.CloseAbnormalClosure, "")
		}
		g.wg.Done()
		return
	}
	if t := o.MaxConnDuration; t > 0 {
		c.maxAt = h.start.Add(t)
	}
	c.ws = ws
	c.tcp.Store(hw.conn)
	if c.out.setReady() {
		c.startWriter()
	}
	if c.cut.Load() {
		// Shutdown gave up waiting during the upgrade.
		hw.conn.Close()
	}
	e.status = http.StatusOK
	s.logEvent(e, h.start)
	g.alog.write(e)
	// The reader runs on a goroutine of its own and the HTTP handler returns,
	// so that net/http's per-request state (its 4 KB write buffer, the request,
	// the request context) and the handler's deep stack are not held for the
	// connection's life. Shutdown does not wait for hijacked connections.
	c.serve()
}

// hijacker lets the upgrader hijack the connection through a wire (over a
// frame limiter when a limit is set), and keeps it.
type hijacker struct {
	http.ResponseWriter
	maxFrame, maxMessage int64 // 0: no limit
	conn                 *wire
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response does not support hijacking")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The upgrader reads through brw.Reader after resetting it onto the
	// returned conn (it refuses a handshake with bytes buffered after it).
	nc = settled(nc)
	if h.maxFrame > 0 || h.maxMessage > 0 {
		nc = &frameLimiter{Conn: nc, maxFrame: h.maxFrame, maxMessage: h.maxMessage}
	}
	h.conn = newWire(nc)
	return h.conn, brw, nil
}

// errorFrame is the frame API Gateway sends for Forbidden, Internal server
// error, Endpoint request timed out and throttling (SPEC,
// ), spacing included.
func errorFrame(message, connID, requestID string) []byte {
	return []byte(`{"message": "` + message + `", "connectionId":"` + connID + `", "requestId":"` + requestID + `"}`)
}

// handleMessage routes one message and runs its integration (SPEC ).
// It runs in the connection's handler role (the reader itself, or a handler
// goroutine), so a connection's messages are handled in order and a slow
// backend delays only its own connection. The call's context is the
// gateway's: a call in flight when its connection closes runs to its end (or
// its timeout), as on AWS; Shutdown cancels it when it gives up waiting.
func (s *apiServer) handleMessage(c *conn, typ int, data []byte, start time.Time) {
	g := s.g
	st := g.snap.Load().stage(s.apiLogicalID, c.stageID)
	if st == nil {
		c.startClose(websocket.CloseGoingAway, reasonGoingAway, false)
		return
	}
	c.stage.Store(st)
	e := &event{typ: eventMessage, conn: &c.meta, stage: st, time: start, body: data, binary: typ == websocket.BinaryMessage}
	e.requestID, e.messageID = newIDPair()
	if c.meta.tr != nil {
		s.traceStart(e, nil, "")
	}
	key := ""
	if !e.binary {
		e.isJSON = jsonValid(data)
		if e.isJSON {
			key = selectRouteKey(st.sel, data)
		}
	}
	defer func() {
		s.logEvent(e, start)
		g.alog.write(e)
	}()
	rs := pickRoute(st.routes, key, e.isJSON)
	if c.meta.tr != nil {
		s.traceRoute(e, key, rs)
	}
	if rs == nil {
		e.routeKey, e.status, e.errMessage, e.noRoute = key, http.StatusForbidden, "Forbidden", true
		c.answer(websocket.TextMessage, errorFrame("Forbidden", c.meta.id, e.requestID))
		return
	}
	e.routeKey = rs.route.Key
	if g.opts.Throttling && rs.bucket != nil && !rs.bucket.take(g.now()) {
		e.status, e.errMessage = http.StatusTooManyRequests, "Too Many Requests"
		c.answer(websocket.TextMessage, errorFrame("Too Many Requests", c.meta.id, e.requestID))
		return
	}
	internalError := func(msg string) {
		e.status, e.errMessage, e.integErr = http.StatusInternalServerError, "Internal server error", msg
		c.answer(websocket.TextMessage, errorFrame("Internal server error", c.meta.id, e.requestID))
	}
	if !s.validateMessage(c, e, rs) {
		return
	}
	if rs.integ == nil {
		internalError("route " + rs.route.Key + " has no integration")
		return
	}
	e.integration = rs.integ.plan().LogicalID
	t0 := g.now()
	res, err := rs.integ.call(g.ctx, e, rs.route.TwoWay)
	e.integLatency = g.now().Sub(t0)
	if err != nil {
		if s.gatewayFrame(c, e, err) {
			return
		}
		if errors.Is(err, errTimedOut) {
			// SPEC: past TimeoutInMillis clients get API Gateway's
			// timeout frame; the status is that of its INTEGRATION_TIMEOUT.
			e.status, e.errMessage, e.integErr = http.StatusGatewayTimeout, timeoutMessage, err.Error()
			c.answer(websocket.TextMessage, errorFrame(timeoutMessage, c.meta.id, e.requestID))
			return
		}
		internalError(err.Error())
		return
	}
	e.status, e.integStatus = http.StatusOK, res.status
	if rs.route.TwoWay && len(res.body) > 0 {
		ft := websocket.TextMessage
		if !utf8.Valid(res.body) {
			ft = websocket.BinaryMessage
		}
		c.answer(ft, res.body)
	}
}

// disconnect runs the $disconnect route of a closed connection (SPEC)
// from its stage in the current plan, or, when the plan no longer has the
// stage (SPEC closed the connection for that), from the stage as the
// last plan that had it compiled it. Its result reaches no one.
func (s *apiServer) disconnect(c *conn, code int, reason string) {
	g := s.g
	st := c.currentStage()
	start := g.now()
	e := &event{typ: eventDisconnect, conn: &c.meta, stage: st, routeKey: "$disconnect", requestID: newID(), time: start,
		disconnectCode: code, disconnectReason: reason, status: http.StatusOK}
	if c.meta.tr != nil {
		s.traceStart(e, nil, c.closedBy())
	}
	if rs := st.routes["$disconnect"]; rs != nil && rs.integ != nil {
		e.integration = rs.integ.plan().LogicalID
		res, err := rs.integ.call(g.discCtx, e, false)
		e.integLatency = g.now().Sub(start)
		if err != nil {
			e.integErr = err.Error()
		} else {
			e.integStatus = res.status
		}
	}
	s.logEvent(e, start)
	g.alog.write(e)
}

// logEvent writes the one log line of an event (and traces its end).
func (s *apiServer) logEvent(e *event, start time.Time) {
	if e.conn.tr != nil {
		s.traceEnd(e, start)
	}
	level := slog.LevelInfo
	if e.integErr != "" {
		level = slog.LevelWarn
	}
	if !s.g.log.Enabled(context.Background(), level) {
		return
	}
	var buf [12]slog.Attr // no allocation for the attributes of a usual line
	attrs := append(buf[:0], slog.String("connection", e.conn.id))
	if !e.noRoute {
		// Without a matching route, the key goes in "key" below: a
		// route=KEY would name a route that does not exist.
		attrs = append(attrs, slog.String("route", e.routeKey))
	}
	if e.integration != "" {
		attrs = append(attrs, slog.String("integration", e.integration))
	}
	status := e.status
	if e.integStatus != 0 {
		status = e.integStatus
	}
	attrs = append(attrs, slog.Int("status", status), slog.Float64("latency_ms", millis(s.g.now().Sub(start))))
	if e.typ == eventDisconnect {
		attrs = append(attrs, slog.Int("code", e.disconnectCode))
	}
	msg := logMessage(e.typ)
	switch {
	case e.noRoute:
		// Say why, and what the expression gave (SPEC ).
		msg = "message: no route matched"
		attrs = append(attrs, slog.String("key", e.routeKey), slog.String("expression", e.stage.api.RouteSelectionExpression))
		attrs = append(attrs, slog.String("error", s.noRouteWhy(e)))
	case e.integErr != "":
		attrs = append(attrs, slog.String("error", e.integErr))
	case e.errMessage != "":
		attrs = append(attrs, slog.String("error", e.errMessage))
	}
	if tr := e.conn.tr; tr != nil && tr.logBodies > 0 {
		attrs = s.bodyAttrs(attrs, e, tr.logBodies)
	}
	attrs = append(attrs, slog.String("requestId", e.requestID))
	if w := s.g.textLog; w != nil && writeTextLine(w, level, msg, attrs) {
		return
	}
	s.g.log.LogAttrs(context.Background(), level, msg, attrs...)
}

// logMessage is the message of an event's log line: its type in lower case
// (without an allocation per line for the usual three).
func logMessage(t eventType) string {
	switch t {
	case eventConnect:
		return "connect"
	case eventMessage:
		return "message"
	case eventDisconnect:
		return "disconnect"
	}
	return strings.ToLower(string(t))
}

// millis is d in milliseconds, to the microsecond (0.957 for 957µs).
func millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
