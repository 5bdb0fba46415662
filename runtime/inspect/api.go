package inspect

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsgw/wsgw/runtime"
)

//go:embed static
var static embed.FS

// EventJSON is an event as the API, the live stream and a recording write it.
type EventJSON struct {
	Seq          uint64              `json:"seq"`
	Time         string              `json:"time"`
	Type         string              `json:"type"`
	ConnectionID string              `json:"connectionId"`
	Api          string              `json:"api,omitempty"`
	Stage        string              `json:"stage,omitempty"`
	RequestID    string              `json:"requestId,omitempty"`
	Route        string              `json:"route,omitempty"`
	Integration  string              `json:"integration,omitempty"`
	Key          *string             `json:"key,omitempty"`
	Why          string              `json:"why,omitempty"`
	Method       string              `json:"method,omitempty"`
	URL          string              `json:"url,omitempty"`
	Headers      map[string][]string `json:"headers,omitempty"`
	Status       int                 `json:"status,omitempty"`
	// Body is the body as text; BodyBase64 holds a binary one instead.
	Body       *string  `json:"body,omitempty"`
	BodyBase64 string   `json:"bodyBase64,omitempty"`
	Size       *int     `json:"size,omitempty"`
	Truncated  bool     `json:"truncated,omitempty"`
	LatencyMs  *float64 `json:"latencyMs,omitempty"`
	Code       int      `json:"code,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	By         string   `json:"by,omitempty"`
	Error      string   `json:"error,omitempty"`
	SourceIP   string   `json:"sourceIp,omitempty"`
	UserAgent  string   `json:"userAgent,omitempty"`
}

// hasBody says which kinds carry a body, even an empty one.
func hasBody(k runtime.EventKind) bool {
	switch k {
	case runtime.KindMessage, runtime.KindFrame, runtime.KindIntegrationRequest, runtime.KindIntegrationResponse, runtime.KindManagement:
		return true
	}
	return false
}

// toJSON converts an event; size is the body's full length.
func toJSON(seq uint64, ev *runtime.Event, size int) EventJSON {
	j := EventJSON{
		Seq: seq, Time: ev.Time.UTC().Format(time.RFC3339Nano), Type: string(ev.Kind), ConnectionID: ev.ConnectionID,
		Api: ev.Api, Stage: ev.Stage, RequestID: ev.RequestID, Route: ev.Route, Integration: ev.Integration,
		Why: ev.Why, Method: ev.Method, URL: ev.URL, Headers: ev.Header, Status: ev.Status,
		Code: ev.Code, Reason: ev.Reason, By: ev.By, Error: ev.Error, SourceIP: ev.SourceIP, UserAgent: ev.UserAgent,
	}
	if j.Route == "-" {
		j.Route = ""
	}
	if ev.Kind == runtime.KindRoute {
		k := ev.Key
		j.Key = &k
		j.Why = explainRoute(ev)
	}
	if hasBody(ev.Kind) && (ev.Body != nil || ev.Kind == runtime.KindMessage || ev.Kind == runtime.KindFrame) {
		if ev.Binary || !utf8.Valid(ev.Body) {
			j.BodyBase64 = base64.StdEncoding.EncodeToString(ev.Body)
			if j.BodyBase64 == "" {
				s := ""
				j.Body = &s
			}
		} else {
			s := string(ev.Body)
			j.Body = &s
		}
		n := size
		j.Size = &n
		j.Truncated = size > len(ev.Body)
	}
	switch ev.Kind {
	case runtime.KindIntegrationResponse, runtime.KindConnected, runtime.KindError:
		ms := float64(ev.Latency.Microseconds()) / 1000
		j.LatencyMs = &ms
	}
	return j
}

// explainRoute words how a route event's route was chosen.
func explainRoute(ev *runtime.Event) string {
	var why string
	switch ev.Why {
	case runtime.WhyBinary:
		why = "binary message: the selection expression is not evaluated"
	case runtime.WhyNotJSON:
		why = "not JSON: the selection expression is not evaluated"
	default:
		why = ev.Expr + " gave " + strconv.Quote(ev.Key)
	}
	switch {
	case ev.Route == "-" && ev.Why == runtime.WhyNoSuch:
		return why + "; no route matched and there is no $default route"
	case ev.Route == "-":
		return why + "; there is no $default route"
	case ev.Why == runtime.WhyNoSuch:
		return why + "; no route " + strconv.Quote(ev.Key) + ": $default"
	case ev.Route == "$default":
		return why + ": $default"
	}
	return why + ": route " + ev.Route
}

// BodyBytes returns the event's body (decoded from base64 when binary).
func (j *EventJSON) BodyBytes() ([]byte, bool) {
	if j.BodyBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(j.BodyBase64)
		return b, err == nil
	}
	if j.Body != nil {
		return []byte(*j.Body), true
	}
	return nil, false
}

// ConnJSON describes a connection (SPEC ).
type ConnJSON struct {
	ConnectionID string            `json:"connectionId"`
	Api          string            `json:"api"`
	ApiID        string            `json:"apiId,omitempty"`
	Stage        string            `json:"stage"`
	ConnectedAt  string            `json:"connectedAt"`
	LastActiveAt string            `json:"lastActiveAt,omitempty"`
	SourceIP     string            `json:"sourceIp"`
	UserAgent    string            `json:"userAgent"`
	Authorizer   map[string]string `json:"authorizer,omitempty"`
	Events       int               `json:"events"`
	// Closed connections only.
	Closed   bool   `json:"closed,omitempty"`
	ClosedAt string `json:"closedAt,omitempty"`
	Code     int    `json:"code,omitempty"`
	Reason   string `json:"reason,omitempty"`
	By       string `json:"by,omitempty"`
	Refused  bool   `json:"refused,omitempty"`
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Handler serves the page and the API. Requests whose Host is not a
// loopback name are refused (a web page cannot reach the inspector through
// DNS rebinding), and actions need the header X-Wsgw-Inspector (a page from
// another origin cannot send it without a CORS preflight, which is refused).
func (in *Inspector) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("GET /{$}", in.serveIndex)
	mux.HandleFunc("GET /api/stages", in.serveStages)
	mux.HandleFunc("GET /api/connections", in.serveConnections)
	mux.HandleFunc("GET /api/closed", in.serveClosed)
	mux.HandleFunc("GET /api/connections/{id}/events", in.serveEvents)
	mux.HandleFunc("GET /api/stream", in.serveStream)
	mux.HandleFunc("POST /api/connections/{id}/send", in.action(in.send))
	mux.HandleFunc("POST /api/connections/{id}/disconnect", in.action(in.disconnect))
	mux.HandleFunc("DELETE /api/connections/{id}", in.action(in.disconnect))
	mux.HandleFunc("POST /api/connections/{id}/replay", in.action(in.replay))
	if in.opts.AllowRemote {
		return mux
	}
	return loopbackOnly(mux)
}

// ActionHeader must be on every action request.
const ActionHeader = "X-Wsgw-Inspector"

func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		ip := net.ParseIP(host)
		if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "the inspector answers loopback host names only", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func (in *Inspector) gateway(w http.ResponseWriter) *runtime.Gateway {
	g := in.g.Load()
	if g == nil {
		writeErr(w, http.StatusServiceUnavailable, "the gateway is not running yet")
	}
	return g
}

// StageJSON is a stage and its routes, for the page.
type StageJSON struct {
	Api            string      `json:"api"`
	Stage          string      `json:"stage"`
	WebSocketURL   string      `json:"webSocketUrl"`
	ConnectionsURL string      `json:"connectionsUrl"`
	Expression     string      `json:"routeSelectionExpression"`
	Routes         []RouteJSON `json:"routes"`
}

// RouteJSON is one route of a stage.
type RouteJSON struct {
	Key         string `json:"key"`
	Integration string `json:"integration,omitempty"`
	Type        string `json:"type,omitempty"`
	Target      string `json:"target,omitempty"`
	Notes       string `json:"notes,omitempty"`
}

func (in *Inspector) serveStages(w http.ResponseWriter, r *http.Request) {
	g := in.gateway(w)
	if g == nil {
		return
	}
	writeJSON(w, http.StatusOK, stagesOf(g))
}

func stagesOf(g *runtime.Gateway) []StageJSON {
	out := []StageJSON{}
	for _, st := range g.Stages() {
		sj := StageJSON{Api: st.Api, Stage: st.Stage, WebSocketURL: st.WebSocketURL, ConnectionsURL: st.ConnectionsURL, Expression: st.RouteSelectionExpression, Routes: []RouteJSON{}}
		for _, rt := range st.Routes {
			sj.Routes = append(sj.Routes, RouteJSON(rt))
		}
		out = append(out, sj)
	}
	return out
}

// serveConnections lists the live connections, oldest first.
func (in *Inspector) serveConnections(w http.ResponseWriter, r *http.Request) {
	g := in.gateway(w)
	if g == nil {
		return
	}
	writeJSON(w, http.StatusOK, in.liveConns(g))
}

// liveConns describes the live connections, oldest first.
func (in *Inspector) liveConns(g *runtime.Gateway) []ConnJSON {
	out := []ConnJSON{}
	for _, c := range g.Connections() {
		cj := ConnJSON{ConnectionID: c.ID, Api: c.Api, ApiID: c.ApiID, Stage: c.Stage, ConnectedAt: c.ConnectedAt.UTC().Format(timeLayout),
			LastActiveAt: c.LastActiveAt.UTC().Format(timeLayout), SourceIP: c.SourceIP, UserAgent: c.UserAgent, Authorizer: c.Authorizer}
		if rec := in.lookup(c.ID); rec != nil {
			rec.mu.Lock()
			cj.Events = rec.total
			rec.mu.Unlock()
		}
		out = append(out, cj)
	}
	return out
}

// serveClosed lists the closed connections kept, the latest first.
func (in *Inspector) serveClosed(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, in.closedConns())
}

func (in *Inspector) closedConns() []ConnJSON {
	out := []ConnJSON{}
	for _, rec := range in.closedRecords() {
		rec.mu.Lock()
		end := *rec.end
		out = append(out, ConnJSON{ConnectionID: rec.id, Api: rec.names.api, Stage: rec.names.stage, ConnectedAt: rec.connectedAt().UTC().Format(timeLayout),
			SourceIP: rec.sourceIP, UserAgent: rec.userAgent, Events: rec.total, Closed: true, ClosedAt: end.closedAt.UTC().Format(timeLayout),
			Code: end.code, Reason: end.reason, By: end.by, Refused: end.refused})
		rec.mu.Unlock()
	}
	return out
}

// serveEvents answers a connection's timeline, oldest first.
func (in *Inspector) serveEvents(w http.ResponseWriter, r *http.Request) {
	rec := in.lookup(r.PathValue("id"))
	if rec == nil {
		writeErr(w, http.StatusNotFound, "no connection "+strconv.Quote(r.PathValue("id"))+" (never seen, or closed and forgotten)")
		return
	}
	kept := rec.events()
	out := make([]EventJSON, len(kept))
	for i, k := range kept {
		seq, ev, size := decode(k, &rec.base, &in.dict)
		out[i] = toJSON(seq, &ev, size)
	}
	writeJSON(w, http.StatusOK, out)
}

// serveStream is the live stream of events as server-sent events, of every
// connection or (?connection=ID) of one. A stream that does not keep up
// loses events; a "dropped" event says how many.
func (in *Inspector) serveStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	s := in.subscribe(r.URL.Query().Get("connection"))
	defer in.unsubscribe(s)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, ": wsgw inspector\n\n")
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	var reported int64
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			_, _ = io.WriteString(w, ": ping\n\n")
		case it := <-s.ch:
			if _, err := fmt.Fprintf(w, "data: %s\n\n", in.json(&it)); err != nil {
				return
			}
			for len(s.ch) > 0 {
				it := <-s.ch
				_, _ = fmt.Fprintf(w, "data: %s\n\n", in.json(&it))
			}
			if d := s.dropped.Load(); d != reported {
				fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", d)
				reported = d
			}
		}
		fl.Flush()
	}
}

// action wraps an action handler: it needs ActionHeader and the gateway.
func (in *Inspector) action(f func(http.ResponseWriter, *http.Request, *runtime.Gateway)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(ActionHeader) == "" {
			writeErr(w, http.StatusForbidden, "actions need the header "+ActionHeader)
			return
		}
		g := in.gateway(w)
		if g == nil {
			return
		}
		f(w, r, g)
	}
}

// actionTimeout bounds how long an action waits for the frame to be written.
const actionTimeout = 10 * time.Second

// send sends the request body to the connection as a frame.
func (in *Inspector) send(w http.ResponseWriter, r *http.Request, g *runtime.Gateway) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "could not read the body")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	if err := g.SendTo(ctx, r.PathValue("id"), body); err != nil {
		goneOr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sent": len(body)})
}

func (in *Inspector) disconnect(w http.ResponseWriter, r *http.Request, g *runtime.Gateway) {
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	if err := g.Disconnect(ctx, r.PathValue("id")); err != nil {
		goneOr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// replay hands a message of the connection's timeline (?seq=N) to the
// gateway again, as if the client had sent it.
func (in *Inspector) replay(w http.ResponseWriter, r *http.Request, g *runtime.Gateway) {
	id := r.PathValue("id")
	seq, err := strconv.ParseUint(r.URL.Query().Get("seq"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "want ?seq=N, the seq of one of the connection's message events")
		return
	}
	rec := in.lookup(id)
	if rec == nil {
		writeErr(w, http.StatusGone, "connection is gone")
		return
	}
	var msg *runtime.Event
	size := 0
	for _, k := range rec.events() {
		if seqOf(k) != seq {
			continue
		}
		if _, ev, n := decode(k, &rec.base, &in.dict); ev.Kind == runtime.KindMessage {
			msg, size = &ev, n
			break
		}
	}
	if msg == nil {
		writeErr(w, http.StatusNotFound, fmt.Sprintf("no message event %d in the connection's timeline", seq))
		return
	}
	if size > len(msg.Body) {
		writeErr(w, http.StatusConflict, fmt.Sprintf("the message was %d bytes and only %d were kept", size, len(msg.Body)))
		return
	}
	if err := g.Inject(id, msg.Body, msg.Binary); err != nil {
		goneOr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"replayed": seq})
}

func goneOr(w http.ResponseWriter, err error) {
	if errors.Is(err, runtime.ErrGone) {
		writeErr(w, http.StatusGone, "connection is gone")
		return
	}
	writeErr(w, http.StatusGatewayTimeout, err.Error())
}
