package runtime

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// EventKind says what an Event is (SPEC ).
type EventKind string

// The kinds of Event, in the order a connection's timeline has them.
const (
	// KindConnect is a handshake as it arrived: URL (path and query),
	// headers, source IP and user agent.
	KindConnect EventKind = "connect"
	// KindConnected is the handshake's answer: Status 101 when the
	// connection opened, else the refusal's status and Error.
	KindConnected EventKind = "connected"
	// KindMessage is a message from the client.
	KindMessage EventKind = "message"
	// KindRoute is the route chosen for a message: Key is what the route
	// selection expression (Expr) produced, Route the route ("-": none), Why
	// how it was chosen (one of the Why constants).
	KindRoute EventKind = "route"
	// KindIntegrationRequest is an integration request as sent, after
	// mapping and templates: Method, URL, Header, Body.
	KindIntegrationRequest EventKind = "integration.request"
	// KindIntegrationResponse is what the integration answered: Status,
	// Header, Body (nil when the route is one-way), Latency.
	KindIntegrationResponse EventKind = "integration.response"
	// KindFrame is a frame written to the client.
	KindFrame EventKind = "frame"
	// KindManagement is an @connections call naming the connection:
	// Method, URL, Status, Body (POST).
	KindManagement EventKind = "management"
	// KindError is what went wrong handling a message, a handshake or a
	// $disconnect: Status (what the client got) and Error.
	KindError EventKind = "error"
	// KindDisconnect is the end of a connection: Code and Reason, and By
	// ("client" or "gateway").
	KindDisconnect EventKind = "disconnect"
)

// Event is one thing that happened to a connection, as an Observer sees it.
// Header and Body are shared with the gateway: an Observer must not change
// them (it may keep them).
type Event struct {
	Kind         EventKind
	Time         time.Time
	ConnectionID string
	Api          string // logical ID
	Stage        string
	RequestID    string
	Route        string
	Integration  string

	Key  string // route: what the route selection expression produced
	Expr string // route: the route selection expression, as written
	Why  string // route: how the route was chosen, a Why constant

	Method string
	URL    string
	Header http.Header
	Status int
	Body   []byte
	Binary bool
	// Latency is the integration's (integration.response), the whole
	// handshake's (connected) or the whole message's (error).
	Latency time.Duration

	Code   int
	Reason string
	By     string
	Error  string

	SourceIP  string
	UserAgent string
}

// How a route event's route was chosen (Event.Why). They are constants so
// that tracing a message allocates no text; the inspector words them.
const (
	WhyMatched = "matched"  // the key named the route
	WhyNoSuch  = "no such"  // the key named no route
	WhyNotJSON = "not JSON" // the message is not JSON: no key
	WhyBinary  = "binary"   // the message is binary: no key
)

// Observer receives every event of a gateway (Options.Observer): the
// inspector, a recorder. Observe runs on the gateway's goroutines, while a
// connection waits: it must return quickly and never block.
type Observer interface {
	Observe(Event)
}

// Observers is an Observer that hands each event to every one of its own.
type Observers []Observer

// Observe hands ev to each observer in turn.
func (os Observers) Observe(ev Event) {
	for _, o := range os {
		o.Observe(ev)
	}
}

// tracer is what a connection's events report to beyond the log line: the
// observer and the body logging (SPEC ). A connection's tracer is nil
// when neither is on, so that the per-message cost is one nil check.
type tracer struct {
	obs Observer
	// logBodies is how many bytes of each body the log lines show (0: none).
	logBodies int
}

// newTracer returns the gateway's tracer, nil when nothing traces.
func newTracer(o *Options) *tracer {
	if o.Observer == nil && o.LogBodies <= 0 {
		return nil
	}
	return &tracer{obs: o.Observer, logBodies: o.LogBodies}
}

// trace is what the log line of an event shows of its integration call
// when bodies are logged.
type trace struct {
	reqAt                time.Time
	method, url, reqType string
	reqBody              []byte
	respStatus           int
	respBody             []byte
	responded            bool
}

// emit fills in what every event of e shares and hands ev to the observer
// (ev is a pointer so that the 376-byte Event is copied once, into the
// Observe call, not twice).
func (e *event) emit(ev *Event) {
	tr := e.conn.tr
	if tr == nil || tr.obs == nil {
		return
	}
	ev.ConnectionID = e.conn.id
	if e.stage != nil {
		ev.Api, ev.Stage = e.stage.api.LogicalID, e.stage.stage.Name
	}
	if ev.RequestID == "" {
		ev.RequestID = e.requestID
	}
	if ev.Route == "" {
		ev.Route = e.routeKey
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	tr.obs.Observe(*ev)
}

// traceRequest reports an integration request as sent, after mapping and
// templates. h and body must not change afterwards.
func (e *event) traceRequest(method, url string, h http.Header, body []byte) {
	tr := e.conn.tr
	if tr == nil {
		return
	}
	now := time.Now()
	if tr.logBodies > 0 {
		if e.trace == nil {
			e.trace = &trace{}
		}
		*e.trace = trace{reqAt: now, method: method, url: url, reqBody: body}
	}
	e.traceAt = now.UnixNano()
	e.emit(&Event{Kind: KindIntegrationRequest, Time: now, Integration: e.integration, Method: method, URL: url, Header: h, Body: body, Binary: !utf8.Valid(body)})
}

// traceResponse reports what the integration answered (body nil when it
// was not read).
func (e *event) traceResponse(status int, h http.Header, body []byte) {
	tr := e.conn.tr
	if tr == nil {
		return
	}
	now := time.Now()
	if t := e.trace; t != nil {
		t.respStatus, t.respBody, t.responded = status, body, true
	}
	var lat time.Duration
	if e.traceAt != 0 {
		lat = time.Duration(now.UnixNano() - e.traceAt)
	}
	e.emit(&Event{Kind: KindIntegrationResponse, Time: now, Integration: e.integration, Status: status, Header: h, Body: body, Binary: !utf8.Valid(body), Latency: lat})
}

// traceAs runs f with the event's integration named name (an
// authorizer's call is traced under the authorizer's logical ID).
func (e *event) traceAs(name string, f func()) {
	old := e.integration
	e.integration = name
	f()
	e.integration = old
}

// traceStart reports a handshake, a message or a $disconnect as it begins.
func (s *apiServer) traceStart(e *event, r *http.Request, by string) {
	switch e.typ {
	case eventConnect:
		e.emit(&Event{Kind: KindConnect, Time: e.time, Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header,
			SourceIP: e.conn.sourceIP, UserAgent: e.conn.userAgent})
	case eventMessage:
		e.emit(&Event{Kind: KindMessage, Time: e.time, Route: "-", Body: e.body, Binary: e.binary})
	case eventDisconnect:
		e.emit(&Event{Kind: KindDisconnect, Time: e.time, Code: e.disconnectCode, Reason: e.disconnectReason, By: by})
	}
}

// traceRoute reports the route chosen for a message and why (nil: none).
func (s *apiServer) traceRoute(e *event, key string, rs *routeState) {
	if e.conn.tr == nil || e.conn.tr.obs == nil {
		return
	}
	why, route := WhyMatched, "-"
	switch {
	case e.binary:
		why = WhyBinary
	case !e.isJSON:
		why = WhyNotJSON
	case rs == nil || rs.route.Key != key:
		why = WhyNoSuch
	}
	if rs != nil {
		route = rs.route.Key
	}
	e.emit(&Event{Kind: KindRoute, Key: key, Expr: e.stage.api.RouteSelectionExpression, Route: route, Why: why})
}

// traceEnd reports how a handshake ended, or what went wrong with a
// message or a $disconnect.
func (s *apiServer) traceEnd(e *event, start time.Time) {
	if e.conn.tr == nil || e.conn.tr.obs == nil {
		return
	}
	now := time.Now()
	errText := e.integErr
	if errText == "" {
		errText = e.errMessage
	}
	switch {
	case e.typ == eventConnect:
		st := e.status
		if st == http.StatusOK {
			st = http.StatusSwitchingProtocols
		}
		e.emit(&Event{Kind: KindConnected, Time: now, Status: st, Integration: e.integration, Latency: now.Sub(start), Error: errText})
	case errText != "":
		e.emit(&Event{Kind: KindError, Time: now, Status: e.status, Integration: e.integration, Latency: now.Sub(start), Error: errText})
	}
}

// traceFrame reports a frame written to the client.
func (c *conn) traceFrame(f *outFrame) {
	tr := c.meta.tr
	if tr == nil || tr.obs == nil {
		return
	}
	ev := Event{Kind: KindFrame, Time: time.Now(), ConnectionID: c.meta.id, Api: c.srv.apiLogicalID, Body: f.data,
		Binary: f.typ == websocket.BinaryMessage}
	if st := c.stage.Load(); st != nil {
		ev.Stage = st.stage.Name
	}
	tr.obs.Observe(ev)
}

// traceManagement reports an @connections call about connection id.
func (s *apiServer) traceManagement(st *stageState, r *http.Request, id string, status int, body []byte) {
	tr := s.g.tracer
	if tr == nil || tr.obs == nil {
		return
	}
	tr.obs.Observe(Event{Kind: KindManagement, Time: time.Now(), ConnectionID: id, Api: s.apiLogicalID, Stage: st.stage.Name,
		Method: r.Method, URL: r.URL.Path, Status: status, Body: body, Binary: !utf8.Valid(body)})
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logBody is a body as a log line shows it: at most n bytes of it, then
// its size (SPEC ).
func logBody(b []byte, n int) string {
	if !utf8.Valid(b) {
		return "(binary, " + strconv.Itoa(len(b)) + " bytes)"
	}
	if len(b) <= n {
		return string(b)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "… (" + strconv.Itoa(len(b)) + " bytes)"
}

// ConnDetail describes an open connection for the inspector (SPEC ).
type ConnDetail struct {
	ConnInfo
	// Api is the Api's logical ID.
	Api string
	// Authorizer is what the $connect authorizer answered: principalId and
	// its context (nil: no authorizer).
	Authorizer map[string]string
}

// Connections describes the open connections, oldest first.
func (g *Gateway) Connections() []ConnDetail {
	g.mu.Lock()
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	out := make([]ConnDetail, 0, len(conns))
	for _, c := range conns {
		info, err := c.Info()
		if err != nil {
			continue
		}
		d := ConnDetail{ConnInfo: info, Api: c.srv.apiLogicalID}
		if a := c.meta.auth; a != nil {
			d.Authorizer = map[string]string{"principalId": a.principalID}
			for k, v := range a.context {
				d.Authorizer[k] = v
			}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b ConnDetail) int {
		if c := a.ConnectedAt.Compare(b.ConnectedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// localConn returns the open connection id of this gateway, or nil.
func (g *Gateway) localConn(id string) *conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := range g.conns {
		if c.meta.id == id {
			return c
		}
	}
	return nil
}

// SendTo sends data to connection id of this gateway as an @connections
// POST does.
func (g *Gateway) SendTo(ctx context.Context, id string, data []byte) error {
	c := g.localConn(id)
	if c == nil {
		return ErrGone
	}
	return c.Send(ctx, data)
}

// Disconnect closes connection id of this gateway as an @connections
// DELETE does.
func (g *Gateway) Disconnect(ctx context.Context, id string) error {
	c := g.localConn(id)
	if c == nil {
		return ErrGone
	}
	return c.Close(ctx, websocket.CloseNormalClosure, reasonDeleted)
}

// Inject hands data to connection id as if its client had sent it (the
// inspector's replay): it is routed and its integration runs as for any
// message, behind the messages already waiting.
func (g *Gateway) Inject(id string, data []byte, binary bool) error {
	c := g.localConn(id)
	if c == nil {
		return ErrGone
	}
	if c.life.current() != stateOpen {
		return ErrGone
	}
	typ := websocket.TextMessage
	if binary {
		typ = websocket.BinaryMessage
	}
	now := g.now()
	c.touch(now)
	c.deliver(inMsg{typ: typ, data: data, at: now})
	return nil
}

// StageInfo describes a stage served, with its routes (SPEC ).
type StageInfo struct {
	Endpoint
	// RouteSelectionExpression is the Api's, as written.
	RouteSelectionExpression string
	Routes                   []RouteInfo
}

// RouteInfo describes a route as the startup summary lists it.
type RouteInfo struct {
	Key         string
	Integration string // logical ID ("" when none)
	Type        string
	Target      string
	Notes       string
}

// Stages describes every stage served, in plan order (after Start).
func (g *Gateway) Stages() []StageInfo {
	snap := g.snap.Load()
	var out []StageInfo
	for _, ep := range g.Endpoints() {
		as := snap.apis[ep.Api]
		if as == nil {
			continue
		}
		var st *stageState
		for _, ss := range as.stages {
			if ss.stage.Name == ep.Stage {
				st = ss
			}
		}
		if st == nil {
			continue
		}
		si := StageInfo{Endpoint: ep, RouteSelectionExpression: as.api.RouteSelectionExpression}
		for _, key := range routeKeys(st.routes) {
			parts := strings.SplitN(describeRoute(st.routes[key]), "\t", 4)
			for len(parts) < 4 {
				parts = append(parts, "")
			}
			ri := RouteInfo{Key: key, Integration: parts[0], Type: parts[1], Target: parts[2], Notes: parts[3]}
			if ri.Integration == "-" {
				ri.Integration, ri.Type, ri.Target = "", "", ""
			}
			si.Routes = append(si.Routes, ri)
		}
		out = append(out, si)
	}
	return out
}

// closedBy says who started the close: "gateway" or "client" (a lost
// connection counts as the client's).
func (c *conn) closedBy() string {
	if c.life.closedByGateway() {
		return "gateway"
	}
	return "client"
}

// noRouteWhy says why a message matched no route, in the user's words.
func (s *apiServer) noRouteWhy(e *event) string {
	switch {
	case e.binary:
		return "binary message and no $default route"
	case !e.isJSON:
		return "message is not JSON and there is no $default route"
	}
	return "no route " + strconv.Quote(e.routeKey) + " and no $default route"
}

// bodyAttrs adds the message body and the integration request and response
// to a log line, each cut to n bytes with its size.
func (s *apiServer) bodyAttrs(attrs []slog.Attr, e *event, n int) []slog.Attr {
	if e.typ == eventMessage {
		attrs = append(attrs, slog.String("body", logBody(e.body, n)))
	}
	if t := e.trace; t != nil {
		req := t.method
		if t.url != "" {
			req += " " + t.url
		}
		attrs = append(attrs, slog.String("integration_request", req+" "+logBody(t.reqBody, n)))
		if t.responded {
			attrs = append(attrs, slog.String("integration_response", strconv.Itoa(t.respStatus)+" "+logBody(t.respBody, n)))
		}
	}
	return attrs
}
