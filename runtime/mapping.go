package runtime

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/wsgw/wsgw/compile"
)

// sourceValue reads a mapping source for an event (SPEC ); ok is false
// when it has no value, and the step's target is then left out.
func (e *event) sourceValue(s *compile.Source) (string, bool) {
	switch s.Kind {
	case compile.SourceLiteral:
		return s.Literal, true
	case compile.SourceContext:
		return e.contextVar(s.Name)
	case compile.SourceStageVariable:
		v, ok := e.stage.stage.Variables[s.Name]
		return v, ok
	case compile.SourceBody:
		if !e.isJSON {
			return "", false
		}
		return bodyValue(e.doc, s.Path)
	case compile.SourceHeader:
		vs := e.header.Values(s.Name)
		if len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	case compile.SourceMultiValueHeader:
		vs := e.header.Values(s.Name)
		return strings.Join(vs, ","), len(vs) > 0
	case compile.SourceQueryString:
		vs, ok := e.query[s.Name]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	case compile.SourceMultiValueQueryStr:
		vs, ok := e.query[s.Name]
		return strings.Join(vs, ","), ok && len(vs) > 0
	}
	return "", false
}

// applyMapping runs every mapping step of an integration on an outgoing
// request (SPEC §6): header targets replace the header, under the name as
// written in RequestParameters (integration.request.header.ConnectionId
// sends ConnectionId, not Go's canonical Connectionid), query string targets
// replace the parameter in query.
func (e *event) applyMapping(steps []compile.Step, h http.Header, query url.Values) {
	for i := range steps {
		st := &steps[i]
		v, ok := e.sourceValue(&st.Source)
		if !ok {
			continue
		}
		switch st.Target {
		case "header":
			setHeaderAs(h, st.Name, v)
		case "querystring":
			query.Set(st.Name, v)
		}
	}
}

// netHTTPHeaders are the request headers net/http writes itself.
var netHTTPHeaders = [...]string{"Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer"}

// setHeaderAs sets header name to v, keeping name's spelling on the wire:
// net/http writes a request's header keys as they are in the map. Any other
// spelling of the same name is removed first. The headers net/http writes
// itself (Host, which the integration reads back into the request's Host,
// User-Agent, Content-Length, Transfer-Encoding, Trailer) stay canonical, so
// that the mapped value replaces net/http's rather than going out twice.
func setHeaderAs(h http.Header, name, v string) {
	// EqualFold, not CanonicalHeaderKey: no allocation per message.
	for _, own := range netHTTPHeaders {
		if strings.EqualFold(name, own) {
			h.Set(name, v)
			return
		}
	}
	for k := range h {
		if k != name && strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
	h[name] = []string{v}
}
