package runtime

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wsgw/wsgw/compile"
)

// parseBody decodes a message as exactly one JSON value, numbers kept as
// their JSON text (json.Number). ok is false when it is not JSON.
func parseBody(b []byte) (v any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // trailing data after the value
	}
	return v, true
}

// jsonPath is a body path (SPEC) compiled once per plan: each step an
// object key and, when it reads as one, an array index.
type jsonPath []pathStep

// pathStep is one segment of a path: key selects the member of an object,
// index (-1: none) the element of an array.
type pathStep struct {
	key   string
	index int
}

// compilePath compiles a plan's path. An array index is written "2" (the
// compiler writes [2] so) or "[2]"; any other segment selects no element of
// an array.
func compilePath(path []string) jsonPath {
	if path == nil {
		return nil
	}
	out := make(jsonPath, len(path))
	for i, p := range path {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "["), "]"))
		if err != nil || n < 0 {
			n = -1
		}
		out[i] = pathStep{key: p, index: n}
	}
	return out
}

// bodyValue is the text of the JSON value at path in body, which jsonValid
// accepted (SPEC ): strings as they are, numbers and booleans as their
// JSON text, arrays as "[a, b]". A missing path or a null has no value. Only
// the path is read: the rest of the message is not decoded.
func bodyValue(body []byte, path jsonPath) (string, bool) {
	raw, ok := path.find(body)
	if !ok {
		return "", false
	}
	return rawValue(raw)
}

// writeValue writes v as route selection renders it. Objects, which the
// SPEC does not cover, are written "{a=1, b=2}" with sorted keys (our choice,
// in the style of the arrays).
func writeValue(sb *strings.Builder, v any) {
	switch x := v.(type) {
	case string:
		sb.WriteString(x)
	case json.Number:
		sb.WriteString(string(x))
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case nil:
		sb.WriteString("null")
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeValue(sb, e)
		}
		sb.WriteByte(']')
	case map[string]any:
		sb.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(k)
			sb.WriteByte('=')
			writeValue(sb, x[k])
		}
		sb.WriteByte('}')
	}
}

// routeSelection is an Api's RouteSelectionExpression compiled once per
// plan: its parts, a path (nil: text) or text each.
type routeSelection []selectionPart

type selectionPart struct {
	text string
	path jsonPath
}

func newRouteSelection(sel compile.Selection) routeSelection {
	out := make(routeSelection, len(sel.Parts))
	for i, p := range sel.Parts {
		out[i] = selectionPart{text: p.Text, path: compilePath(p.Path)}
	}
	return out
}

// selectRouteKey evaluates a compiled RouteSelectionExpression against a
// message jsonValid accepted: text parts as they are, body paths as their
// value (missing: empty string).
func selectRouteKey(sel routeSelection, body []byte) string {
	if len(sel) == 1 { // the common $request.body.action: no builder
		p := sel[0]
		if p.path == nil {
			return p.text
		}
		v, _ := bodyValue(body, p.path)
		return v
	}
	var sb strings.Builder
	for _, p := range sel {
		if p.path == nil {
			sb.WriteString(p.text)
			continue
		}
		raw, ok := p.path.find(body)
		if !ok {
			continue
		}
		if raw[0] == '"' && plainString(raw[1:len(raw)-1]) {
			sb.Write(raw[1 : len(raw)-1]) // the common case: no string of its own
		} else if v, ok := rawValue(raw); ok {
			sb.WriteString(v)
		}
	}
	return sb.String()
}

// templateSelection is a template or model selection expression compiled
// once per plan (nil: none).
type templateSelection []templatePart

type templatePart struct {
	v    string // compile.TemplateVar*, "" for text
	text string
	path jsonPath
	name string // a header name, canonical
}

func newTemplateSelection(sel *compile.TemplateSelection) templateSelection {
	if sel == nil {
		return nil
	}
	out := make(templateSelection, len(sel.Parts))
	for i, p := range sel.Parts {
		out[i] = templatePart{v: p.Var, text: p.Text, path: compilePath(p.Path), name: http.CanonicalHeaderKey(p.Name)}
	}
	return out
}

// eval evaluates the selection: body parts read the message (as route
// selection does, SPEC ), response parts the integration's answer.
func (sel templateSelection) eval(e *event, status int, h http.Header) string {
	if len(sel) == 1 && sel[0].v == "" { // a static key, such as \$default
		return sel[0].text
	}
	var sb strings.Builder
	for _, p := range sel {
		switch p.v {
		case "":
			sb.WriteString(p.text)
		case compile.TemplateVarBody:
			if e.isJSON {
				v, _ := bodyValue(e.body, p.path)
				sb.WriteString(v)
			}
		case compile.TemplateVarStatusCode:
			if status != 0 {
				sb.WriteString(strconv.Itoa(status))
			}
		case compile.TemplateVarHeader:
			if vs := h[p.name]; len(vs) > 0 {
				sb.WriteString(vs[0])
			}
		case compile.TemplateVarMultiValueHeader:
			sb.WriteString(strings.Join(h[p.name], ","))
		}
	}
	return sb.String()
}

// pickRoute returns the route for a route key (SPEC ): keys naming no
// route, and $connect or $disconnect, fall back to $default; nil when there is
// none.
func pickRoute(routes map[string]*routeState, key string, isJSON bool) *routeState {
	if isJSON && key != "$connect" && key != "$disconnect" {
		if r := routes[key]; r != nil {
			return r
		}
	}
	return routes["$default"]
}
