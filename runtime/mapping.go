package runtime

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/wsgw/wsgw/compile"
)

// sourceFunc reads a mapping source for an event (SPEC ); ok is false
// when it has no value, and the step's target is then left out.
type sourceFunc func(e *event) (string, bool)

// newSource resolves a plan's mapping or identity source once per plan into
// the function that reads it, for the stage whose variables are vars. An
// unknown kind has no value.
func newSource(s *compile.Source, vars map[string]string) sourceFunc {
	switch s.Kind {
	case compile.SourceLiteral:
		lit := s.Literal
		return func(*event) (string, bool) { return lit, true }
	case compile.SourceStageVariable:
		// The compiler makes the stage variables of mapping steps literals;
		// an authorizer's identity source reads its stage's.
		v, ok := vars[s.Name]
		return func(*event) (string, bool) { return v, ok }
	case compile.SourceContext:
		return sourceFunc(contextAccessor(s.Name))
	case compile.SourceBody:
		path := compilePath(s.Path)
		return func(e *event) (string, bool) {
			if !e.isJSON {
				return "", false
			}
			return bodyValue(e.body, path)
		}
	case compile.SourceHeader:
		name := http.CanonicalHeaderKey(s.Name)
		return func(e *event) (string, bool) {
			if vs := e.header[name]; len(vs) > 0 {
				return vs[0], true
			}
			return "", false
		}
	case compile.SourceMultiValueHeader:
		name := http.CanonicalHeaderKey(s.Name)
		return func(e *event) (string, bool) {
			vs := e.header[name]
			return strings.Join(vs, ","), len(vs) > 0
		}
	case compile.SourceQueryString:
		name := s.Name
		return func(e *event) (string, bool) {
			if vs := e.query[name]; len(vs) > 0 {
				return vs[0], true
			}
			return "", false
		}
	case compile.SourceMultiValueQueryStr:
		name := s.Name
		return func(e *event) (string, bool) {
			vs := e.query[name]
			return strings.Join(vs, ","), len(vs) > 0
		}
	}
	return func(*event) (string, bool) { return "", false }
}

// mapping is an integration's RequestParameters prepared once per plan
// (SPEC §6): its steps, in the plan's order.
type mapping struct {
	steps []mapStep
	// query: some step targets a query string.
	query bool
}

type mapStep struct {
	query bool // the target is a query string, else a header
	// own: the header is one net/http writes itself (netHTTPHeaders).
	own  bool
	name string
	src  sourceFunc
}

func newMapping(steps []compile.Step, vars map[string]string) mapping {
	var m mapping
	for i := range steps {
		st := &steps[i]
		var q bool
		switch st.Target {
		case "header":
		case "querystring":
			q, m.query = true, true
		default:
			continue // no such target: nothing to write
		}
		m.steps = append(m.steps, mapStep{query: q, own: !q && ownHeader(st.Name), name: st.Name, src: newSource(&st.Source, vars)})
	}
	return m
}

// apply runs every mapping step on an outgoing request (SPEC §6): header
// targets replace the header, under the name as written in
// RequestParameters (integration.request.header.ConnectionId sends
// ConnectionId, not Go's canonical Connectionid), query string targets
// replace the parameter in query.
func (m *mapping) apply(e *event, h http.Header, query url.Values) {
	for i := range m.steps {
		st := &m.steps[i]
		v, ok := st.src(e)
		if !ok {
			continue
		}
		if st.query {
			query.Set(st.name, v)
		} else {
			setHeaderAs(h, st.name, st.own, v)
		}
	}
}

// netHTTPHeaders are the request headers net/http writes itself.
var netHTTPHeaders = [...]string{"Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer"}

// ownHeader reports whether name is one of netHTTPHeaders, in any spelling.
func ownHeader(name string) bool {
	for _, own := range netHTTPHeaders {
		if strings.EqualFold(name, own) {
			return true
		}
	}
	return false
}

// setHeaderAs sets header name to v, keeping name's spelling on the wire:
// net/http writes a request's header keys as they are in the map. Any other
// spelling of the same name is removed first. The headers net/http writes
// itself (own, ownHeader: Host, which the integration reads back into the
// request's Host, User-Agent, Content-Length, Transfer-Encoding, Trailer)
// stay canonical, so that the mapped value replaces net/http's rather than
// going out twice.
func setHeaderAs(h http.Header, name string, own bool, v string) {
	if own {
		h.Set(name, v)
		return
	}
	for k := range h {
		if k != name && strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
	h[name] = []string{v}
}
