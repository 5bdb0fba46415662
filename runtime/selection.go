package runtime

import (
	"bytes"
	"encoding/json"
	"io"
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

// lookupPath walks path through objects (by key) and arrays (by index,
// written "2" or "[2]"). ok is false when a step is missing.
func lookupPath(v any, path []string) (any, bool) {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "["), "]"))
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// bodyValue is the text of the JSON value at path (SPEC ): strings as
// they are, numbers and booleans as their JSON text, arrays as "[a, b]".
// A missing path or a null has no value.
func bodyValue(doc any, path []string) (string, bool) {
	v, ok := lookupPath(doc, path)
	if !ok || v == nil {
		return "", false
	}
	var sb strings.Builder
	writeValue(&sb, v)
	return sb.String(), true
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
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		sb.WriteByte('{')
		for i, k := range keys {
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

// selectRouteKey evaluates a compiled RouteSelectionExpression against a
// parsed JSON message: text parts as they are, body paths as their value
// (missing: empty string).
func selectRouteKey(sel compile.Selection, doc any) string {
	if len(sel.Parts) == 1 { // the common $request.body.action: no builder
		p := sel.Parts[0]
		if p.Path == nil {
			return p.Text
		}
		v, _ := bodyValue(doc, p.Path)
		return v
	}
	var sb strings.Builder
	for _, p := range sel.Parts {
		if p.Path == nil {
			sb.WriteString(p.Text)
			continue
		}
		if v, ok := lookupPath(doc, p.Path); ok && v != nil {
			writeValue(&sb, v)
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
