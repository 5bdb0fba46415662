package inspect

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/wsgw/wsgw/runtime"
)

// indexTemplate is the page with the state at the time it is asked for, so
// that it reads whole before any script runs (a browser that only renders,
// such as chromium --dump-dom, sees the connections and a timeline); the
// script then keeps it up to date.
var indexTemplate = template.Must(template.ParseFS(static, "static/index.html.tmpl"))

// pageEvent is a timeline entry as the page renders it.
type pageEvent struct {
	Time, Type, Info, Body string
}

// serveIndex renders the page: stages, connections, and the timeline of
// ?connection=ID or, by default, of the newest live connection.
func (in *Inspector) serveIndex(w http.ResponseWriter, r *http.Request) {
	g := in.gateway(w)
	if g == nil {
		return
	}
	data := struct {
		Stages       []StageJSON
		Live, Closed []ConnJSON
		Selected     string
		Events       []pageEvent
		Node         string
	}{Stages: stagesOf(g), Live: in.liveConns(g), Closed: in.closedConns(), Selected: r.URL.Query().Get("connection"), Node: g.Node()}
	if data.Selected == "" && len(data.Live) > 0 {
		data.Selected = data.Live[len(data.Live)-1].ConnectionID
	}
	if rec := in.lookup(data.Selected); rec != nil {
		for _, k := range rec.events() {
			seq, ev, size := decode(k, &rec.base, &in.dict)
			j := toJSON(seq, &ev, size)
			pe := pageEvent{Time: ev.Time.UTC().Format("15:04:05.000"), Type: j.Type, Info: describe(&j)}
			if j.Body != nil {
				pe.Body = *j.Body
			} else if j.BodyBase64 != "" {
				pe.Body = "(binary, base64) " + j.BodyBase64
			}
			data.Events = append(data.Events, pe)
		}
	} else {
		data.Selected = ""
	}
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// describe is an event's one-line summary, as app.js writes it.
func describe(ev *EventJSON) string {
	var parts []string
	switch runtime.EventKind(ev.Type) {
	case runtime.KindConnect:
		parts = append(parts, ev.Method+" "+ev.URL, "from "+ev.SourceIP)
	case runtime.KindConnected:
		if ev.Status == http.StatusSwitchingProtocols {
			parts = append(parts, "101 open")
		} else {
			parts = append(parts, "refused "+strconv.Itoa(ev.Status))
		}
	case runtime.KindRoute:
		parts = append(parts, ev.Why)
	case runtime.KindIntegrationRequest:
		parts = append(parts, strings.TrimSpace(ev.Integration+" "+ev.Method+" "+ev.URL))
	case runtime.KindIntegrationResponse:
		parts = append(parts, strings.TrimSpace(ev.Integration+" "+strconv.Itoa(ev.Status)))
	case runtime.KindManagement:
		parts = append(parts, "@connections "+ev.Method+" → "+strconv.Itoa(ev.Status))
	case runtime.KindError:
		if ev.Status != 0 {
			parts = append(parts, strconv.Itoa(ev.Status))
		}
	case runtime.KindDisconnect:
		s := "code " + strconv.Itoa(ev.Code)
		if ev.Reason != "" {
			s += " " + strconv.Quote(ev.Reason)
		}
		if ev.By != "" {
			s += " by " + ev.By
		}
		parts = append(parts, s)
	}
	if ev.Route != "" && ev.Type != string(runtime.KindRoute) {
		parts = append(parts, "route "+ev.Route)
	}
	if ev.LatencyMs != nil {
		parts = append(parts, strconv.FormatFloat(*ev.LatencyMs, 'f', -1, 64)+" ms")
	}
	if ev.Size != nil {
		s := strconv.Itoa(*ev.Size) + " bytes"
		if ev.Truncated {
			s += " (cut)"
		}
		parts = append(parts, s)
	}
	if ev.Error != "" {
		parts = append(parts, ev.Error)
	}
	return strings.Join(parts, " · ")
}
