package vtl

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The JSONPath subset of $input.json and $input.path: $, .name, ['name']
// (and several names), [n] (negative from the end), [n,m], [from:to], [*],
// .* and the deep scan ..name. Filters [?()] and functions are not
// supported and fail the render.

type jsonPath struct {
	segs     []pathSeg
	definite bool // a single result, or null
}

type segKind uint8

const (
	segNames segKind = iota
	segIndexes
	segWildcard
	segSlice
)

type pathSeg struct {
	kind     segKind
	deep     bool
	names    []string
	indexes  []int
	from, to *int
}

// Compiled paths are cached: templates call $input.json with the same few
// literal paths on every message.
var (
	pathCache     sync.Map // string -> *jsonPath
	pathCacheSize atomic.Int64
)

const maxPathCache = 4096

func compilePath(p string) (*jsonPath, error) {
	if v, ok := pathCache.Load(p); ok {
		return v.(*jsonPath), nil
	}
	jp, err := parsePath(p)
	if err != nil {
		return nil, err
	}
	if pathCacheSize.Load() < maxPathCache {
		if _, loaded := pathCache.LoadOrStore(p, jp); !loaded {
			pathCacheSize.Add(1)
		}
	}
	return jp, nil
}

func parsePath(p string) (*jsonPath, error) {
	s := strings.TrimSpace(p)
	if !strings.HasPrefix(s, "$") {
		s = "$." + s // as Jayway JsonPath does
	}
	jp := &jsonPath{definite: true}
	i := 1
	bad := func(format string, args ...any) (*jsonPath, error) {
		return nil, fmt.Errorf("JSONPath %q: %s", p, fmt.Sprintf(format, args...))
	}
	for i < len(s) {
		var seg pathSeg
		switch {
		case strings.HasPrefix(s[i:], ".."):
			seg.deep = true
			jp.definite = false
			i += 2
			if i < len(s) && s[i] == '[' {
				break
			}
			fallthrough
		case s[i] == '.':
			if !seg.deep {
				i++
			}
			if i < len(s) && s[i] == '*' {
				seg.kind = segWildcard
				jp.definite = false
				i++
				jp.segs = append(jp.segs, seg)
				continue
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == i {
				return bad("missing property name at %d", i)
			}
			seg.kind = segNames
			seg.names = []string{s[i:j]}
			i = j
			jp.segs = append(jp.segs, seg)
			continue
		case s[i] == '[':
		default:
			return bad("unexpected %q at %d", s[i], i)
		}
		// Bracket segment.
		end := bracketEnd(s, i)
		if end < 0 {
			return bad("missing ]")
		}
		inner := strings.TrimSpace(s[i+1 : end])
		i = end + 1
		switch {
		case inner == "*":
			seg.kind = segWildcard
			jp.definite = false
		case strings.HasPrefix(inner, "?") || strings.HasPrefix(inner, "("):
			return bad("filters and script expressions are not supported")
		case strings.HasPrefix(inner, "'") || strings.HasPrefix(inner, `"`):
			names, err := splitNames(inner)
			if err != nil {
				return bad("%v", err)
			}
			seg.kind = segNames
			seg.names = names
			if len(names) > 1 {
				jp.definite = false
			}
		case strings.Contains(inner, ":"):
			a, b, _ := strings.Cut(inner, ":")
			if strings.Contains(b, ":") {
				return bad("slice steps are not supported")
			}
			seg.kind = segSlice
			jp.definite = false
			for k, part := range []string{a, b} {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				n, err := strconv.Atoi(part)
				if err != nil {
					return bad("bad slice bound %q", part)
				}
				if k == 0 {
					seg.from = &n
				} else {
					seg.to = &n
				}
			}
		default:
			seg.kind = segIndexes
			for _, part := range strings.Split(inner, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(part))
				if err != nil {
					return bad("bad index %q", part)
				}
				seg.indexes = append(seg.indexes, n)
			}
			if len(seg.indexes) > 1 {
				jp.definite = false
			}
		}
		if seg.deep {
			jp.definite = false
		}
		jp.segs = append(jp.segs, seg)
	}
	return jp, nil
}

// bracketEnd finds the ] closing the [ at i, skipping quoted names.
func bracketEnd(s string, i int) int {
	var quote byte
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == '\\' {
				j++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ']':
			return j
		}
	}
	return -1
}

func splitNames(inner string) ([]string, error) {
	var names []string
	i := 0
	for i < len(inner) {
		q := inner[i]
		if q != '\'' && q != '"' {
			return nil, fmt.Errorf("expected a quoted name in [%s]", inner)
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(inner) && inner[j] != q; j++ {
			if inner[j] == '\\' && j+1 < len(inner) {
				j++
			}
			b.WriteByte(inner[j])
		}
		if j >= len(inner) {
			return nil, fmt.Errorf("unterminated name in [%s]", inner)
		}
		names = append(names, b.String())
		i = j + 1
		for i < len(inner) && (inner[i] == ' ' || inner[i] == ',') {
			i++
		}
	}
	return names, nil
}

// eval applies the path to a document. A definite path yields the value
// or nil; any other path yields a JSON list of the matches.
func (jp *jsonPath) eval(doc any) any {
	cur := []any{doc}
	for _, seg := range jp.segs {
		var next []any
		for _, v := range cur {
			if seg.deep {
				deepScan(v, seg, &next, 0)
				continue
			}
			next = seg.apply(v, next)
		}
		cur = next
		if jp.definite && len(cur) == 0 {
			return nil
		}
	}
	if jp.definite {
		if len(cur) == 0 {
			return nil
		}
		return cur[0]
	}
	return &List{Items: cur, JSON: true}
}

func deepScan(v any, seg pathSeg, out *[]any, depth int) {
	if depth > maxJSONDepth {
		return
	}
	*out = seg.apply(v, *out)
	switch x := v.(type) {
	case *Map:
		for _, e := range x.vals {
			deepScan(e, seg, out, depth+1)
		}
	case *List:
		for _, e := range x.Items {
			deepScan(e, seg, out, depth+1)
		}
	}
}

func (seg pathSeg) apply(v any, out []any) []any {
	switch seg.kind {
	case segNames:
		if m, ok := v.(*Map); ok {
			for _, n := range seg.names {
				if x, found := m.Get(n); found {
					out = append(out, x)
				}
			}
		}
	case segWildcard:
		switch x := v.(type) {
		case *Map:
			out = append(out, x.vals...)
		case *List:
			out = append(out, x.Items...)
		}
	case segIndexes:
		if l, ok := v.(*List); ok {
			for _, i := range seg.indexes {
				if i < 0 {
					i += len(l.Items)
				}
				if i >= 0 && i < len(l.Items) {
					out = append(out, l.Items[i])
				}
			}
		}
	case segSlice:
		if l, ok := v.(*List); ok {
			n := len(l.Items)
			from, to := 0, n
			if seg.from != nil {
				from = *seg.from
				if from < 0 {
					from = max(n+from, 0)
				}
			}
			if seg.to != nil {
				to = *seg.to
				if to < 0 {
					to = n + to
				}
			}
			from, to = min(from, n), min(to, n)
			if from < to {
				out = append(out, l.Items[from:to]...)
			}
		}
	}
	return out
}
