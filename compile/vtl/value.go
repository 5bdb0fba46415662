package vtl

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Values a template sees are nil, bool, int64, float64, string, *List, *Map,
// an Object supplied by the caller, or plain Go values passed in Vars (maps
// with string keys, slices, the Go number types), which templates can read
// but not modify.

// Vars are the variables a template is rendered with: name without the
// dollar sign to value. Render never modifies the map.
type Vars map[string]any

// Object is a value with properties and methods implemented in Go, such as
// $input and $util. Templates reach it with $obj.name and $obj.name(args).
type Object interface {
	// Property returns the value of $obj.name, or ok=false when there is none.
	Property(name string) (v any, ok bool)
	// Call invokes $obj.name(args). It returns ErrNoMethod when the object has
	// no such method, which renders as a null value like any unknown method.
	Call(name string, args []any) (any, error)
}

// ErrNoMethod is returned by Object.Call for a method the object does not have.
var ErrNoMethod = errors.New("no such method")

// List is a mutable list, the engine's java.util.List. Lists built by
// templates ([1, 2], [1..3]) render as [1, 2]; lists read from JSON by
// $input.path and $util.parseJson render as JSON, as API Gateway's
// JSONArray does.
type List struct {
	Items []any
	// JSON makes the list render as compact JSON instead of [a, b].
	JSON bool
}

// NewList returns a list holding items.
func NewList(items ...any) *List { return &List{Items: items} }

// Map is a mutable map that keeps insertion order, the engine's
// java.util.LinkedHashMap. It renders as {k1=v1, k2=v2}.
type Map struct {
	keys  []string
	vals  []any
	index map[string]int // built once the map grows past smallMap entries
}

// smallMap is the size up to which a Map finds keys by scanning, which is
// faster than hashing for the small objects of typical payloads.
const smallMap = 16

// NewMap returns an empty map.
func NewMap() *Map { return &Map{} }

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.keys) }

// Keys returns the keys in insertion order. The slice must not be modified.
func (m *Map) Keys() []string { return m.keys }

func (m *Map) find(k string) int {
	if m.index != nil {
		if i, ok := m.index[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range m.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// Get returns the value stored under k.
func (m *Map) Get(k string) (any, bool) {
	if i := m.find(k); i >= 0 {
		return m.vals[i], true
	}
	return nil, false
}

// Put stores v under k, keeping the position of an existing key, and
// returns the previous value.
func (m *Map) Put(k string, v any) any {
	if i := m.find(k); i >= 0 {
		old := m.vals[i]
		m.vals[i] = v
		return old
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
	if m.index != nil {
		m.index[k] = len(m.keys) - 1
	} else if len(m.keys) > smallMap {
		m.reindex()
	}
	return nil
}

func (m *Map) reindex() {
	m.index = make(map[string]int, len(m.keys))
	for i, k := range m.keys {
		m.index[k] = i
	}
}

// Remove deletes k and returns its value.
func (m *Map) Remove(k string) any {
	i := m.find(k)
	if i < 0 {
		return nil
	}
	old := m.vals[i]
	m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
	m.vals = append(m.vals[:i:i], m.vals[i+1:]...)
	if m.index != nil {
		m.reindex()
	}
	return old
}

// entry is a java.util.Map.Entry, the elements of $map.entrySet().
type entry struct {
	key string
	val any
}

// ValueOf converts map[string]any, map[string]string, []any and []string
// values, recursively, into the engine's mutable values: maps become *Map
// with sorted keys, slices *List, Go numbers int64 or float64. Use it for
// variables a template should be able to modify (#set($context.x = 1)).
func ValueOf(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := NewMap()
		for _, k := range sortedKeys(x) {
			m.Put(k, ValueOf(x[k]))
		}
		return m
	case map[string]string:
		m := NewMap()
		for _, k := range sortedKeys(x) {
			m.Put(k, x[k])
		}
		return m
	case []any:
		l := &List{Items: make([]any, len(x))}
		for i, e := range x {
			l.Items[i] = ValueOf(e)
		}
		return l
	case []string:
		l := &List{Items: make([]any, len(x))}
		for i, e := range x {
			l.Items[i] = e
		}
		return l
	}
	return norm(v)
}

// norm turns Go scalar types into the engine's int64 and float64.
func norm(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, *List, *Map, Object, entry:
		return v
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	}
	return v
}

// mapGet looks k up in a map value (ours or a Go one); isMap is false
// when v is not a map.
func mapGet(v any, k string) (any, bool, bool) {
	switch m := v.(type) {
	case *Map:
		x, ok := m.Get(k)
		return x, ok, true
	case map[string]any:
		x, ok := m[k]
		return norm(x), ok, true
	case map[string]string:
		x, ok := m[k]
		if !ok {
			return nil, false, true
		}
		return x, true, true
	case nil, string, bool, int64, float64, *List, Object:
		return nil, false, false
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
		x := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
		if !x.IsValid() {
			return nil, false, true
		}
		return norm(x.Interface()), true, true
	}
	return nil, false, false
}

// sortedKeys is slices.Sorted(maps.Keys(m)) with the slice allocated once
// at its size: renders sort caller-supplied maps per message, and
// slices.Sorted's growing appends cost a third more allocations there.
func sortedKeys[V any](m map[string]V) []string {
	keys := slices.AppendSeq(make([]string, 0, len(m)), maps.Keys(m))
	slices.Sort(keys)
	return keys
}

// mapKeys returns the keys of a map value in iteration order (sorted for Go maps).
func mapKeys(v any) ([]string, bool) {
	switch m := v.(type) {
	case *Map:
		return m.keys, true
	case map[string]any:
		return sortedKeys(m), true
	case map[string]string:
		return sortedKeys(m), true
	case nil, string, bool, int64, float64, *List, Object:
		return nil, false
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		return keys, true
	}
	return nil, false
}

// listItems returns the elements of a list value.
func listItems(v any) ([]any, bool) {
	switch l := v.(type) {
	case *List:
		return l.Items, true
	case []any:
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = norm(e)
		}
		return out, true
	case []string:
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = e
		}
		return out, true
	case nil, string, bool, int64, float64, *Map, Object:
		return nil, false
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return nil, false // []byte is not a list
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = norm(rv.Index(i).Interface())
		}
		return out, true
	}
	return nil, false
}

// isNumber reports whether v is an int64 or float64.
func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

// truthy is Velocity 1.7's #if test: null is false, a Boolean is itself,
// anything else (empty strings and zero included) is true.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	}
	return true
}

// budget bounds the work of formatting and comparing values, which could
// otherwise blow up on lists that contain themselves many times over.
type budget struct {
	n    int  // elements that may still be visited
	max  int  // longest string to build, 0 for no bound
	over bool // max was exceeded
}

func (b *budget) spend(sb *strings.Builder) bool {
	b.n--
	if b.max > 0 && sb != nil && sb.Len() > b.max {
		b.over = true
	}
	return b.n >= 0 && !b.over
}

// toString renders v as Java's String.valueOf would, with null as "null"
// (inside collections); the template renderer turns a top-level null into "".
func toString(v any) string {
	var b strings.Builder
	writeStringB(&b, v, 0, &budget{n: 1 << 20, max: 16 << 20})
	return b.String()
}

const maxFormatDepth = 100

// asVTL turns a plain Go list, map or number given by the caller into the
// engine's own *List, *Map or number, for printing; ok is false for anything else.
func asVTL(v any) (any, bool) {
	if items, ok := listItems(v); ok {
		return &List{Items: items}, true
	}
	if keys, ok := mapKeys(v); ok {
		m := NewMap()
		for _, k := range keys {
			e, _, _ := mapGet(v, k)
			m.Put(k, e)
		}
		return m, true
	}
	if n := norm(v); isNumber(n) {
		return n, true
	}
	return nil, false
}

func writeStringB(b *strings.Builder, v any, depth int, bud *budget) {
	if !bud.spend(b) {
		return
	}
	if depth > maxFormatDepth {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(javaDouble(x))
	case *List:
		if x.JSON {
			writeJSONB(b, x, depth, bud)
			return
		}
		b.WriteByte('[')
		for i, e := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			if e == any(x) {
				b.WriteString("(this Collection)")
				continue
			}
			writeStringB(b, e, depth+1, bud)
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			if e := x.vals[i]; e == any(x) {
				b.WriteString("(this Map)")
			} else {
				writeStringB(b, e, depth+1, bud)
			}
		}
		b.WriteByte('}')
	case entry:
		b.WriteString(x.key)
		b.WriteByte('=')
		writeStringB(b, x.val, depth+1, bud)
	case *loop:
	case *block:
	case Object:
		if s, ok := x.(interface{ String() string }); ok {
			b.WriteString(s.String())
		}
	default:
		if w, ok := asVTL(v); ok {
			writeStringB(b, w, depth, bud)
			return
		}
		b.WriteString(reflect.ValueOf(v).Type().String())
	}
}

// javaDouble formats f as Java's Double.toString does: at least one digit
// after the point, and scientific notation ("1.0E21") outside [1e-3, 1e7).
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	// Shortest digits, then Java's d.dddE±n layout.
	s := strconv.FormatFloat(f, 'e', -1, 64) // -1.2345e+21
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// writeJSONB writes v as compact JSON (the JSON-backed lists of $input.path
// and the output of $input.json): keys in order, numbers as Java prints them,
// within the render's budget.
func writeJSONB(b *strings.Builder, v any, depth int, bud *budget) {
	if !bud.spend(b) {
		return
	}
	if depth > maxFormatDepth {
		b.WriteString("null")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
			return
		}
		b.WriteString(javaDouble(x))
	case *List:
		b.WriteByte('[')
		for i, e := range x.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONB(b, e, depth+1, bud)
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSONB(b, x.vals[i], depth+1, bud)
		}
		b.WriteByte('}')
	case entry:
		b.WriteByte('{')
		writeJSONString(b, x.key)
		b.WriteByte(':')
		writeJSONB(b, x.val, depth+1, bud)
		b.WriteByte('}')
	default:
		if w, ok := asVTL(v); ok {
			writeJSONB(b, w, depth, bud)
			return
		}
		writeJSONString(b, toString(v))
	}
}

const hexUpper = "0123456789ABCDEF"

// writeJSONString writes a JSON string as json-smart, the JSON library of
// API Gateway's JSONPath, does: the short escapes, and \uXXXX for control
// characters, U+007F-U+009F and U+2000-U+20FF.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r >= 0x7F && r <= 0x9F || r >= 0x2000 && r <= 0x20FF {
				b.WriteString(`\u`)
				for shift := 12; shift >= 0; shift -= 4 {
					b.WriteByte(hexUpper[(r>>shift)&0xF])
				}
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// valuesEqualB is Velocity 1.7's == : nulls are equal to each other only,
// numbers compare by value, values of the same kind with equals(), and
// anything else by comparing their string forms, within the render's budget.
func valuesEqualB(a, b any, bud *budget) bool {
	a, b = norm(a), norm(b)
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if isNumber(a) && isNumber(b) {
		c, _ := compareNumbers(a, b)
		return c == 0
	}
	if ka, kb := kind(a), kind(b); ka == kb && ka != kindOther {
		return deepEqual(a, b, 0, bud)
	}
	if kind(a) == kindList || kind(a) == kindMap || kind(b) == kindList || kind(b) == kindMap {
		var sa, sb strings.Builder
		writeStringB(&sa, a, 0, bud)
		writeStringB(&sb, b, 0, bud)
		return sa.String() == sb.String()
	}
	return toString(a) == toString(b)
}

type valueKind int

const (
	kindOther valueKind = iota
	kindString
	kindBool
	kindList
	kindMap
)

func kind(v any) valueKind {
	switch v.(type) {
	case string:
		return kindString
	case bool:
		return kindBool
	case *List, []any, []string:
		return kindList
	case *Map, map[string]any, map[string]string:
		return kindMap
	}
	return kindOther
}

// deepEqual is Java's equals for strings, booleans, lists and maps, where
// an Integer never equals a Double.
func deepEqual(a, b any, depth int, bud *budget) bool {
	if depth > maxFormatDepth || !bud.spend(nil) {
		return false
	}
	a, b = norm(a), norm(b)
	switch a.(type) {
	case nil:
		return b == nil
	case string, bool, int64, float64:
		return a == b
	}
	switch a.(type) {
	case *List, *Map:
		if a == b {
			return true
		}
	}
	if la, ok := listItems(a); ok {
		lb, ok := listItems(b)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !deepEqual(la[i], lb[i], depth+1, bud) {
				return false
			}
		}
		return true
	}
	if ka, ok := mapKeys(a); ok {
		kb, ok := mapKeys(b)
		if !ok || len(ka) != len(kb) {
			return false
		}
		for _, k := range ka {
			va, _, _ := mapGet(a, k)
			vb, found, _ := mapGet(b, k)
			if !found || !deepEqual(va, vb, depth+1, bud) {
				return false
			}
		}
		return true
	}
	return a == b
}

// compareNumbers compares two numbers; ok is false if either is not one.
func compareNumbers(a, b any) (int, bool) {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		case float64:
			return cmpFloat(float64(x), y), true
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return cmpFloat(x, float64(y)), true
		case float64:
			return cmpFloat(x, y), true
		}
	}
	return 0, false
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
