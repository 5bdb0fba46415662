package template

import (
	"strconv"
	"strings"
)

// Kind is the type of a Node's value.
type Kind uint8

// The kinds of value a template holds.
const (
	Null Kind = iota
	Bool
	Number
	String
	List
	Map
)

var kindNames = [...]string{"null", "boolean", "number", "string", "list", "mapping"}

// String names the kind in the user's words.
func (k Kind) String() string { return kindNames[k] }

// Node is one value of a template with its position. A parsed node keeps the
// template's structure (intrinsic functions included, short tags turned into
// their long form); a resolved node is plain data whose Links say which
// resources it was derived from.
type Node struct {
	Kind   Kind
	Value  string  // the text of a scalar: "true", "42", "abc"
	Items  []*Node // the elements of a List
	Fields []Field // the entries of a Map, in source order
	Range  Range
	// Links lists the resources a resolved value came from (a Ref or GetAtt,
	// possibly inside a Join or Sub), so that later stages speak in logical IDs.
	Links []Link
	// style records how a scalar was written, to place positions inside it.
	style scalarStyle
	// blockIndent is the indentation of a literal block scalar's (|) content,
	// 0 when unknown or not a literal block; verbatim says that a scalar is
	// written on one line exactly as its value reads (no escapes, no folding).
	blockIndent int
	verbatim    bool
}

type scalarStyle uint8

const (
	stylePlain scalarStyle = iota
	styleQuoted
	styleBlock
)

// Field is one entry of a Map node.
type Field struct {
	Key      string
	KeyRange Range
	Value    *Node
}

// Link records that a value was derived from a resource: a Ref (Attr empty)
// or a GetAtt of LogicalID, written at Range.
type Link struct {
	LogicalID string `json:"logicalId"`
	Attr      string `json:"attr,omitempty"`
	Range     Range  `json:"-"`
	// Placeholder is the value wsgw made up for the Ref or GetAtt because it
	// does not run the resource (a load balancer, a queue, a role), empty when
	// the value is real or set with --param (SPEC ).
	Placeholder string `json:"placeholder,omitempty"`
}

// Name spells the link as --param and Fn::Sub do: LogicalID for a Ref,
// LogicalID.Attr for a GetAtt.
func (l Link) Name() string {
	if l.Attr == "" {
		return l.LogicalID
	}
	return l.LogicalID + "." + l.Attr
}

// Get returns the value of key in a Map node, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Map {
		return nil
	}
	for _, f := range n.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// Field returns the entry for key in a Map node.
func (n *Node) Field(key string) (Field, bool) {
	if n != nil && n.Kind == Map {
		for _, f := range n.Fields {
			if f.Key == key {
				return f, true
			}
		}
	}
	return Field{}, false
}

// Keys returns the keys of a Map node in source order.
func (n *Node) Keys() []string {
	if n == nil {
		return nil
	}
	keys := make([]string, len(n.Fields))
	for i, f := range n.Fields {
		keys[i] = f.Key
	}
	return keys
}

// IsScalar reports whether the node is a string, number, boolean or null.
func (n *Node) IsScalar() bool { return n != nil && n.Kind != List && n.Kind != Map }

// Str returns the text of a scalar node, or "" for anything else.
func (n *Node) Str() string {
	if n.IsScalar() {
		return n.Value
	}
	return ""
}

// Intrinsic reports whether n is an intrinsic function call (a one-entry map
// whose key is Ref, Condition or Fn::...), and returns its name and argument.
func (n *Node) Intrinsic() (name string, arg *Node, ok bool) {
	if n == nil || n.Kind != Map || len(n.Fields) != 1 {
		return "", nil, false
	}
	k := n.Fields[0].Key
	if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
		return k, n.Fields[0].Value, true
	}
	return "", nil, false
}

// Interface converts the node into plain Go values (nil, bool, float64 or
// json.Number-like string for numbers, string, []any, map[string]any) for JSON.
func (n *Node) Interface() any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case Null:
		return nil
	case Bool:
		return n.Value == "true"
	case Number:
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
		return n.Value
	case String:
		return n.Value
	case List:
		out := make([]any, len(n.Items))
		for i, it := range n.Items {
			out[i] = it.Interface()
		}
		return out
	default:
		out := make(map[string]any, len(n.Fields))
		for _, f := range n.Fields {
			out[f.Key] = f.Value.Interface()
		}
		return out
	}
}

// posIn returns the range of the character at byte offset off inside a
// single-line scalar, or the scalar's own range when it cannot be placed.
// firstNL is the offset of the value's first newline (-1 for none), found
// once by the caller rather than at each offset.
func (n *Node) posIn(off, firstNL int) Range {
	r := n.Range
	if n.style == styleBlock || firstNL >= 0 && firstNL < off {
		return r
	}
	r.Col += off
	if n.style == styleQuoted {
		r.Col++
	}
	r.EndLine, r.EndCol = 0, 0
	return r
}

// PosAt returns the position of the character at line and col (1-based, col
// counted in characters) of a string scalar's value, as exactly as the way
// the scalar was written allows: a literal block (|) maps line for line, a
// single-line scalar written without escapes character for character; for
// anything else (folded, multi-line or escaped scalars, computed values) it
// returns the scalar's own range.
func (n *Node) PosAt(line, col int) Range {
	r := n.Range
	r.EndLine, r.EndCol = 0, 0
	switch {
	case n.blockIndent > 0 && line >= 1 && col >= 1:
		r.Line += line
		r.Col = n.blockIndent + col
		return r
	case line == 1 && col >= 1 && n.verbatim:
		r.Col += col - 1
		if n.style == styleQuoted {
			r.Col++
		}
		return r
	}
	return n.Range
}

func scalar(kind Kind, v string, r Range) *Node { return &Node{Kind: kind, Value: v, Range: r} }
